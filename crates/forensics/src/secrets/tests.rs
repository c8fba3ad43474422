//! Tests of the rule table and the scanner as a whole: every rule's examples, the decoys, chunk
//! boundaries at every split point, gaps, overlaps, bounded memory, the docs table, and
//! property tests on arbitrary bytes.

use proptest::prelude::*;

use super::*;

fn rules() -> &'static Rules {
    Rules::builtin().expect("the built-in rule table compiles")
}

/// (offset, rule, value) of every finding, for comparing runs.
type Key = (u64, String, Vec<u8>);

fn keys(found: &[Finding<'_>]) -> Vec<Key> {
    found
        .iter()
        .map(|f| (f.offset, f.rule.name().to_owned(), f.value.clone()))
        .collect()
}

/// Scans `text` fed in `pieces` (split at the given offsets) with a scanner of `block` bytes.
fn scan_split(text: &[u8], cuts: &[usize], block: usize) -> Vec<Key> {
    let rules = rules();
    let mut found = Vec::new();
    let mut sink = |f: Finding<'_>| {
        found.push((f.offset, f.rule.name().to_owned(), f.value));
        true
    };
    let mut scanner = Scanner::with_block(rules, block);
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
        let cut = cut.clamp(from, text.len());
        assert!(scanner.feed(from as u64, &text[from..cut], &mut sink));
        from = cut;
    }
    assert!(scanner.finish(&mut sink));
    found
}

/// Every built-in rule's regex builds (they are built on first use, so nothing else would tell),
/// and its groups are the ones the table compiler read from the parsed pattern.
#[test]
fn builtin_regexes_build_with_the_groups_read_at_load() {
    for rule in rules().rules() {
        let regex = rule
            .regex()
            .unwrap_or_else(|| panic!("{}: the regex does not build", rule.name()));
        let group = |name: &str| regex.capture_names().position(|n| n == Some(name));
        assert_eq!(group("value"), rule.value_group, "{}", rule.name());
        assert_eq!(group("name"), rule.name_group, "{}", rule.name());
    }
}

#[test]
fn builtin_table_is_complete() {
    let rules = rules();
    assert!(rules.rules().len() >= 20);
    for rule in rules.rules() {
        let examples = rule.examples();
        assert!(
            !examples.found.is_empty(),
            "{}: no true positive",
            rule.name()
        );
        assert!(
            examples.not_found.len() >= 3,
            "{}: fewer than 3 near misses",
            rule.name()
        );
        assert!(!rule.description().is_empty());
    }
    // The overlap the module docs promise ("about 18 KiB").
    assert!(
        (16 * 1024..20 * 1024).contains(&rules.overlap()),
        "overlap {}",
        rules.overlap()
    );
}

#[test]
fn every_true_positive_is_found_with_its_rule_kind_and_offset() {
    let rules = rules();
    let mut failures = Vec::new();
    for rule in rules.rules() {
        for example in &rule.examples().found {
            let text = example.text.as_bytes();
            let found = scan_bytes(rules, 1000, text);
            let hit = found
                .iter()
                .find(|f| f.rule.name() == rule.name() && f.value == example.value.as_bytes());
            match hit {
                None => failures.push(format!(
                    "{}: not found in {:?}; found {:?}",
                    rule.name(),
                    example.text,
                    keys(&found)
                )),
                Some(f) => {
                    assert_eq!(f.kind(), rule.kind());
                    assert_eq!(
                        f.low_confidence,
                        None,
                        "{}: {:?}",
                        rule.name(),
                        example.text
                    );
                    let at = usize::try_from(f.offset - 1000).unwrap();
                    assert_eq!(
                        &text[at..at + f.len()],
                        f.value.as_slice(),
                        "{}",
                        rule.name()
                    );
                    assert!(f.masked().bytes().all(|b| (0x20..0x7f).contains(&b)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Tokens of the right format whose checksum fails are reported, with low confidence and the
/// reason, by their rule and no other.
#[test]
fn checksum_failures_are_low_confidence_findings() {
    let rules = rules();
    let mut seen = 0;
    for rule in rules.rules() {
        for example in &rule.examples().low_confidence {
            let found = scan_bytes(rules, 0, example.text.as_bytes());
            assert_eq!(found.len(), 1, "{}: {:?}", rule.name(), keys(&found));
            assert_eq!(found[0].rule.name(), rule.name());
            assert_eq!(found[0].value, example.value.as_bytes());
            assert_eq!(found[0].low_confidence, Some(validate::CHECKSUM_FAILS));
            seen += 1;
        }
    }
    assert!(seen >= 2, "{seen}");
}

#[test]
fn no_near_miss_or_decoy_is_reported() {
    let rules = rules();
    let mut failures = Vec::new();
    let near_misses = rules
        .rules()
        .iter()
        .flat_map(|r| r.examples().not_found.iter().map(move |t| (r.name(), t)));
    let decoys = rules.decoys().iter().map(|t| ("decoys", t));
    for (owner, text) in near_misses.chain(decoys) {
        let found = scan_bytes(rules, 0, text.as_bytes());
        if !found.is_empty() {
            failures.push(format!("{owner}: {text:?} gave {:?}", keys(&found)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn details_of_a_service_account_token() {
    let rules = rules();
    let example = &rules.rule("jwt").unwrap().examples().found[0];
    let found = scan_bytes(rules, 0, example.text.as_bytes());
    let Some(Details::Jwt(claims)) = &found[0].details else {
        panic!("no claims: {:?}", found[0].details);
    };
    assert_eq!(claims.algorithm, "RS256");
    assert_eq!(
        claims.issuer.as_deref(),
        Some("https://kubernetes.default.svc.cluster.local")
    );
    assert_eq!(
        claims.subject.as_deref(),
        Some("system:serviceaccount:payments:api-runner")
    );
    assert_eq!(claims.expires.as_deref(), Some("2027-01-01T00:00:00Z"));
    assert_eq!(claims.namespace.as_deref(), Some("payments"));
    assert_eq!(claims.service_account.as_deref(), Some("api-runner"));
    assert_eq!(claims.pod.as_deref(), Some("api-7d9f8c6b5-x2x4q"));
}

#[test]
fn details_of_keys_accounts_and_credentials() {
    let rules = rules();
    let first = |rule: &str, example: usize| {
        let text = &rules.rule(rule).unwrap().examples().found[example].text;
        scan_bytes(rules, 0, text.as_bytes())
            .into_iter()
            .find(|f| f.rule.name() == rule)
            .and_then(|f| f.details)
    };
    let key = |key_type: &str, encrypted: Option<bool>| {
        Some(Details::PrivateKey {
            key_type: key_type.to_owned(),
            encrypted,
        })
    };
    assert_eq!(first("private-key", 0), key("PRIVATE KEY", Some(false)));
    assert_eq!(first("private-key", 1), key("EC PRIVATE KEY", Some(false)));
    assert_eq!(
        first("private-key", 2),
        key("OPENSSH PRIVATE KEY", Some(false))
    );
    assert_eq!(
        first("private-key", 3),
        key("ENCRYPTED PRIVATE KEY", Some(true))
    );
    assert_eq!(first("private-key", 4), key("RSA PRIVATE KEY", Some(true)));
    assert_eq!(first("private-key", 5), key("PGP PRIVATE KEY BLOCK", None));
    assert_eq!(
        first("kubeconfig-client-key", 0),
        key("EC PRIVATE KEY", Some(false))
    );
    assert_eq!(
        first("gcp-service-account-key", 0),
        Some(Details::ServiceAccount {
            client_email: Some("ci-deployer@kcp-fixture-7731.iam.gserviceaccount.com".into()),
            project_id: Some("kcp-fixture-7731".into()),
            private_key_id: Some("3f0c2a9e8b7d6c5f4e3d2c1b0a99887766554433".into()),
        })
    );
    assert_eq!(
        first("docker-registry-auth", 0),
        Some(Details::Credential {
            user: "ci-robot".into()
        })
    );
}

#[test]
fn names_are_reported_for_context_rules() {
    let rules = rules();
    let found = scan_bytes(rules, 0, b"\0DB_PASSWORD=Zt9vQ2mW-kcp\0");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("DB_PASSWORD"));
    assert_eq!(found[0].masked(), "Zt9...(12)");
    let found = scan_bytes(rules, 0, b"postgres://app:Zt9vQ2mW@db/app");
    assert_eq!(found[0].name.as_deref(), Some("app"));
}

#[test]
fn the_more_specific_of_overlapping_findings_wins() {
    let rules = rules();
    let rule_of = |text: &[u8]| -> Vec<String> {
        scan_bytes(rules, 0, text)
            .iter()
            .map(|f| f.rule.name().to_owned())
            .collect()
    };
    // An environment variable holding a GitHub token, a URL holding one, a bearer JWT.
    assert_eq!(
        rule_of(b"\0GITHUB_TOKEN=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\0"),
        ["github-token"]
    );
    assert_eq!(
        rule_of(b"https://x: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@github.com/o/r"),
        ["github-token"]
    );
    let jwt = &rules.rule("jwt").unwrap().examples().found[1].text;
    assert_eq!(rule_of(jwt.as_bytes()), ["jwt"]);
    // Without the token, the variable is still a secret.
    assert_eq!(
        rule_of(b"\0GITHUB_TOKEN=Rk2Zp9Lm4Qx7Vb1N\0"),
        ["env-secret"]
    );
}

/// A stream holding every true positive, with memory-like filler and decoys between them.
fn corpus() -> Vec<u8> {
    let rules = rules();
    let mut text = Vec::new();
    let mut filler = 0x2545_f491_4f6c_dd1d_u64;
    for (i, example) in rules
        .rules()
        .iter()
        .flat_map(|r| &r.examples().found)
        .enumerate()
    {
        text.extend_from_slice(example.text.as_bytes());
        text.push(0);
        for _ in 0..(i % 5) * 37 {
            filler ^= filler << 13;
            filler ^= filler >> 7;
            filler ^= filler << 17;
            text.push(filler as u8);
        }
        text.extend_from_slice(&[0; 16]);
        if let Some(decoy) = rules.decoys().get(i % rules.decoys().len()) {
            text.extend_from_slice(decoy.as_bytes());
        }
        text.push(b'\n');
    }
    text
}

#[test]
fn the_corpus_holds_every_true_positive() {
    let rules = rules();
    let text = corpus();
    let found = scan_split(&text, &[], DEFAULT_BLOCK_FOR_TESTS);
    let expected: usize = rules.rules().iter().map(|r| r.examples().found.len()).sum();
    for rule in rules.rules() {
        for example in &rule.examples().found {
            assert!(
                found
                    .iter()
                    .any(|(_, r, v)| r == rule.name() && v == example.value.as_bytes()),
                "{}: {:?}",
                rule.name(),
                example.value
            );
        }
    }
    // Every finding is one of the examples' (a few examples hold a second secret too: the
    // key id beside an AWS secret key, a refresh token beside a token).
    let extra: Vec<_> = found
        .iter()
        .filter(|(_, r, v)| {
            !rules
                .rules()
                .iter()
                .flat_map(|rule| rule.examples().found.iter().map(move |e| (rule, e)))
                .any(|(rule, e)| rule.name() == r && e.value.as_bytes() == v.as_slice())
        })
        .map(|(_, r, v)| (r.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    assert!(
        found.len() >= expected && extra.len() <= 4,
        "{}: {extra:?}",
        found.len()
    );
}

const DEFAULT_BLOCK_FOR_TESTS: usize = scanner::DEFAULT_BLOCK;

#[test]
fn every_split_point_of_real_examples_gives_the_same_findings() {
    // A kubeconfig with a service-account JWT, then an environment block, then a PEM key: a
    // secret crosses the cut at every split point.
    let rules = rules();
    let jwt = &rules.rule("jwt").unwrap().examples().found[0].value;
    let key = &rules.rule("private-key").unwrap().examples().found[1].value;
    let text = format!(
        "users:\n- name: sa\n  user:\n    token: {jwt}\n\0DB_PASSWORD=Zt9vQ2mW-kcp\0\
         GITHUB_TOKEN=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\0key=\"{key}\"\n"
    );
    let text = text.as_bytes();
    let whole = scan_split(text, &[], DEFAULT_BLOCK_FOR_TESTS);
    assert_eq!(whole.len(), 4, "{whole:?}");
    for cut in 0..=text.len() {
        let split = scan_split(text, &[cut], 1);
        assert_eq!(split, whole, "split at {cut}");
    }
    // Every split point at once: one byte per chunk.
    let cuts: Vec<usize> = (1..text.len()).collect();
    assert_eq!(scan_split(text, &cuts, 1), whole);
}

#[test]
fn block_sizes_and_chunkings_of_the_corpus_agree() {
    let text = corpus();
    let whole = scan_split(&text, &[], DEFAULT_BLOCK_FOR_TESTS);
    for block in [1, 7, 100, 4096] {
        let cuts: Vec<usize> = (0..text.len()).step_by(997).collect();
        assert_eq!(scan_split(&text, &cuts, block), whole, "block {block}");
    }
}

#[test]
fn a_gap_in_offsets_ends_the_stream() {
    let rules = rules();
    let token = b"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";
    let mut found = Vec::new();
    let mut sink = |f: Finding<'_>| {
        found.push(f.offset);
        true
    };
    let mut scanner = Scanner::new(rules);
    // Contiguous halves: found once, at offset 100.
    scanner.feed(100, &token[..20], &mut sink);
    scanner.feed(120, &token[20..], &mut sink);
    // The same halves with a gap between them: not a token.
    scanner.feed(500, &token[..20], &mut sink);
    scanner.feed(4096, &token[20..], &mut sink);
    scanner.finish(&mut sink);
    assert_eq!(found, [100]);
}

#[test]
fn the_sink_can_stop_the_scan() {
    let rules = rules();
    let text = corpus();
    let mut seen = 0;
    let mut sink = |_: Finding<'_>| {
        seen += 1;
        seen < 3
    };
    let mut scanner = Scanner::with_block(rules, 64);
    assert!(!scanner.feed(0, &text, &mut sink));
    assert!(!scanner.finish(&mut sink));
    assert!(!scanner.feed(text.len() as u64, b"more", &mut sink));
    assert_eq!(seen, 3);
}

#[test]
fn scan_reader_matches_feed() {
    let rules = rules();
    let text = corpus();
    let whole = scan_split(&text, &[], DEFAULT_BLOCK_FOR_TESTS);
    let mut found = Vec::new();
    let mut sink = |f: Finding<'_>| {
        found.push((f.offset, f.rule.name().to_owned(), f.value));
        true
    };
    let mut scanner = Scanner::with_block(rules, 1000);
    // A reader that returns at most 333 bytes per read.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(333);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    assert!(scanner
        .scan_reader(0, &mut Trickle(&text), &mut sink)
        .unwrap());
    assert!(scanner.finish(&mut sink));
    assert_eq!(found, whole);
}

#[test]
fn memory_stays_bounded_on_dense_and_hostile_streams() {
    let rules = rules();
    // 1 MiB of anchors at every few bytes (no secret), then 1 MiB of real tokens back to back.
    let mut hostile = Vec::new();
    while hostile.len() < 1 << 20 {
        hostile.extend_from_slice(b"eyJeyJPRIVATE KEY://xoxb-_KEY=token:\"auth\":");
    }
    let token = b" 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";
    let mut dense = Vec::new();
    while dense.len() < 1 << 20 {
        dense.extend_from_slice(token);
    }
    let mut scanner = Scanner::with_block(rules, 64 * 1024);
    let (buffer, _) = scanner.memory_use();
    let mut count = 0u64;
    let mut most_held = 0;
    for (offset, data) in [(0u64, &hostile), (1 << 40, &dense)] {
        for (i, chunk) in data.chunks(64 * 1024).enumerate() {
            let mut sink = |_: Finding<'_>| {
                count += 1;
                true
            };
            scanner.feed(offset + (i * 64 * 1024) as u64, chunk, &mut sink);
            most_held = most_held.max(scanner.memory_use().1);
        }
        scanner.finish(&mut |_: Finding<'_>| {
            count += 1;
            true
        });
    }
    assert_eq!(scanner.memory_use().0, buffer, "the buffer never grows");
    assert_eq!(count, (dense.len() / token.len()) as u64);
    // Findings wait at most one block plus the overlap.
    let per_block = (64 * 1024 + rules.overlap()) / token.len() + 1;
    assert!(most_held <= per_block, "{most_held} held");
}

#[test]
fn docs_table_is_in_sync_with_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/secrets.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let begin =
        "<!-- rules-table:begin (generated from crates/forensics/src/secrets/rules.yaml) -->\n";
    let end = "<!-- rules-table:end -->";
    let table = rules().markdown_table();
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/secrets.md lacks the rules-table markers");
    };
    let current = &doc[a + begin.len()..b];
    if current != table {
        if std::env::var_os("UPDATE_SECRETS_DOC").is_some() {
            let updated = format!("{}{}{}", &doc[..a + begin.len()], table, &doc[b..]);
            std::fs::write(path, updated).unwrap();
        } else {
            panic!(
                "docs/secrets.md's rules table is stale: run `UPDATE_SECRETS_DOC=1 cargo test --lib \
                 secrets::tests::docs_table` and commit the result"
            );
        }
    }
}

#[test]
fn bad_tables_are_refused_with_the_rule_named() {
    let rule = |anchors: &str, pattern: &str, extra: &str| {
        format!(
            "rules:\n  - name: r\n    kind: k\n    description: d\n    anchors: {anchors}\n    \
             pattern: '{pattern}'\n{extra}    examples: {{found: [], not_found: []}}\n"
        )
    };
    for (yaml, needle) in [
        (rule("[ab]", "ab", ""), "shorter than 3"),
        (rule("[abc]", "abc.*", ""), "not bounded"),
        (rule("[abc]", "(?:abc)?", ""), "empty string"),
        (
            rule("[abc]", "abc(?P<other>d)", ""),
            "unknown capture group",
        ),
        (
            rule("[abc]", "abc", "    checks: [luhn]\n"),
            "unknown check",
        ),
        (rule("[abc]", "abc", "    near: [x]\n"), "near and within"),
        (rule("[abc]", "abc", "    max_len: 1\n"), "max_len"),
        (rule("[abc]", "(abc", ""), "pattern"),
    ] {
        let err = Rules::from_yaml(&yaml).unwrap_err().to_string();
        assert!(
            err.contains("secret rule r:") && err.contains(needle),
            "{err}"
        );
    }
    let twice = format!(
        "{}{}",
        rule("[abc]", "abc", ""),
        &rule("[abc]", "abc", "")[7..]
    );
    assert!(Rules::from_yaml(&twice)
        .unwrap_err()
        .to_string()
        .contains("used twice"));
    assert!(Rules::from_yaml("rules: 3").is_err());
}

#[test]
fn tally_counts_copies_and_keeps_its_limits() {
    let rules = rules();
    let text = b"\0A_TOKEN=Rk2Zp9Lm4Qx7Vb1N\0B_TOKEN=Rk2Zp9Lm4Qx7Vb1N\0C_TOKEN=Qq2Zp9Lm4Qx7Vb1N\0";
    let limits = TallyLimits {
        max_secrets: 1,
        max_value_bytes: 1 << 20,
        max_locations: 1,
    };
    let mut tally = Tally::new(limits);
    for finding in scan_bytes(rules, 0, text) {
        let at = finding.offset;
        tally.add(finding, at);
    }
    assert_eq!(tally.findings(), 3);
    assert_eq!(tally.not_itemised(), 1);
    let secrets = tally.secrets();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].copies, 2);
    assert_eq!(secrets[0].locations, [9]);
    assert_eq!(secrets[0].masked, "Rk2Z...(16)");
    assert_eq!(secrets[0].name.as_deref(), Some("A_TOKEN"));
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn assert_finding_is_safe(input: &[u8], f: &Finding<'_>) {
    let at = usize::try_from(f.offset).unwrap();
    assert_eq!(input.get(at..at + f.len()), Some(f.value.as_slice()));
    assert!(printable(&f.masked()), "{:?}", f.masked());
    assert!(f.name.as_deref().is_none_or(printable));
    let details = serde_json::to_value(&f.details).unwrap();
    let mut strings = Vec::new();
    collect_strings(&details, &mut strings);
    assert!(strings.iter().all(|s| printable(s)), "{details}");
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(list) => list.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Pieces that make the scanner work: anchors, parts of real examples, control bytes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let rules = rules();
    let mut fragments: Vec<Vec<u8>> = Vec::new();
    for rule in rules.rules() {
        fragments.extend(rule.anchors().iter().map(|a| a.as_bytes().to_vec()));
        for example in &rule.examples().found {
            let text = example.text.as_bytes();
            fragments.push(text.to_vec());
            fragments.push(text[..text.len() / 2].to_vec());
            fragments.push(text[text.len() / 2..].to_vec());
        }
    }
    prop_oneof![
        proptest::sample::select(fragments),
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(b"\x1b]0;x\x07\x9b\n\r\0".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_and_findings_are_printable(
        input in proptest::collection::vec(any::<u8>(), 0..4096)
    ) {
        for f in scan_bytes(rules(), 0, &input) {
            assert_finding_is_safe(&input, &f);
        }
    }

    #[test]
    fn mixed_secrets_and_noise_agree_across_chunkings(
        pieces in proptest::collection::vec(piece(), 0..24),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        block in 1usize..300,
    ) {
        let input: Vec<u8> = pieces.concat();
        let found = scan_bytes(rules(), 0, &input);
        for f in &found {
            assert_finding_is_safe(&input, f);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(scan_split(&input, &cuts, block), keys(&found));
    }

    #[test]
    fn masking_is_printable_ascii(value in proptest::collection::vec(any::<u8>(), 0..64)) {
        let masked = mask(&value);
        prop_assert!(printable(&masked));
        let suffix = format!("...({})", value.len());
        prop_assert!(masked.ends_with(&suffix));
        let escaped = escape_printable(&value, 16);
        prop_assert!(printable(&escaped));
    }
}

/// A finding in a fixture file: (file, start, end, rule, value, low confidence).
type Located = (String, usize, usize, String, Vec<u8>, bool);

/// Scans every image of the `secrets` fixture as its own stream, and every file of the CRI-O
/// archive's rootfs-diff.tar (as `rootfs-diff:PATH`).
fn scan_secrets_fixture() -> Vec<Located> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
    let mut found = Vec::new();
    let mut scan = |source: String, bytes: &[u8]| {
        for f in scan_bytes(rules(), 0, bytes) {
            let start = usize::try_from(f.offset).unwrap();
            found.push((
                source.clone(),
                start,
                start + f.len(),
                f.rule.name().to_owned(),
                f.value,
                f.low_confidence.is_some(),
            ));
        }
    };
    let dir = format!("{root}/criu-4.2/secrets");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        scan(name, &bytes);
    }
    let archive_dir = format!("{root}/crio-secrets");
    let archive = std::fs::read_dir(&archive_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut outer = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for entry in outer.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() != "rootfs-diff.tar" {
            continue;
        }
        let mut inner = tar::Archive::new(&mut entry);
        for file in inner.entries().unwrap() {
            let mut file = file.unwrap();
            let path = file.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
            scan(format!("rootfs-diff:{path}"), &bytes);
        }
    }
    found
}

/// The fixture's planted credentials and decoys, from its truth file (recorded from /proc at
/// the dump, independently of this scanner): (kind, decoy, source, start, end, text) per stored
/// copy.
fn secrets_fixture_truth() -> Vec<(String, bool, String, usize, usize, String)> {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/truth/secrets.json"
    );
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(root).unwrap()).unwrap();
    let mut copies = Vec::new();
    let needles = truth["needles"].as_array().unwrap();
    let text_of = |id: &str| {
        needles
            .iter()
            .find(|n| n["id"] == id)
            .and_then(|n| n["text"].as_str())
            .unwrap()
            .len()
    };
    for needle in needles {
        let id = needle["kind"].as_str().unwrap().to_owned();
        let decoy = needle["decoy"].as_bool().unwrap();
        let text = needle["text"].as_str().unwrap().to_owned();
        let len = text.len();
        for hit in needle["image_hits"].as_array().unwrap() {
            let file = hit["file"].as_str().unwrap().to_owned();
            let at = usize::try_from(hit["offset"].as_u64().unwrap()).unwrap();
            copies.push((id.clone(), decoy, file, at, at + len, text.clone()));
        }
    }
    for hit in truth["archive"]["rootfs_diff_hits"].as_array().unwrap() {
        let id = hit["needle"].as_str().unwrap();
        let needle = needles.iter().find(|n| n["id"] == id).unwrap();
        let at = usize::try_from(hit["offset"].as_u64().unwrap()).unwrap();
        copies.push((
            needle["kind"].as_str().unwrap().to_owned(),
            needle["decoy"].as_bool().unwrap(),
            format!("rootfs-diff:{}", hit["path"].as_str().unwrap()),
            at,
            at + text_of(id),
            needle["text"].as_str().unwrap().to_owned(),
        ));
    }
    copies
}

#[test]
fn the_secrets_fixture_gives_every_planted_secret_and_no_decoy() {
    let found = scan_secrets_fixture();
    let truth = secrets_fixture_truth();
    let overlaps = |f: &Located, source: &str, start: usize, end: usize| {
        f.0 == source && f.1 < end && start < f.2
    };
    // A decoy shaped as a GitHub token (`ghp_` and 36 letters and digits) whose checksum the
    // truth says is wrong is reported with low confidence; every other decoy not at all.
    let token_shaped = |text: &str| {
        text.strip_prefix("ghp_")
            .is_some_and(|rest| rest.len() == 36 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    let planted: Vec<_> = truth.iter().filter(|t| !t.1).collect();
    let low: Vec<_> = truth.iter().filter(|t| t.1 && token_shaped(&t.5)).collect();
    assert_eq!(low.len(), 1, "the fixture's ghp_ token with a wrong CRC32");
    let decoys: Vec<_> = truth
        .iter()
        .filter(|t| t.1 && !token_shaped(&t.5))
        .collect();
    for (_, _, source, start, end, text) in &low {
        let reported: Vec<_> = found
            .iter()
            .filter(|f| f.0 == *source && f.1 < *end && *start < f.2)
            .collect();
        assert_eq!(reported.len(), 1, "{text}: {reported:?}");
        assert!(reported[0].5, "{text}: reported with low confidence");
        assert_eq!(reported[0].4, text.as_bytes());
    }
    // The truth's kinds, in our rules' names.
    fn rule_for(kind: &str) -> &str {
        match kind {
            "gcp-service-account" => "gcp-service-account-key",
            "azure-storage-connection-string" => "azure-storage-account-key",
            "stripe-key" => "stripe-secret-key",
            "private-key-pem" => "private-key",
            "password-in-url" => "url-password",
            "password-in-dsn" => "go-mysql-dsn-password",
            "env-password" | "env-secret" | "env-token" | "env-key" => "env-secret",
            "docker-config-auth" => "docker-registry-auth",
            other => other,
        }
    }
    let missed: Vec<_> = planted
        .iter()
        .filter(|(kind, _, source, start, end, _)| {
            !found
                .iter()
                .any(|f| overlaps(f, source, *start, *end) && f.3 == rule_for(kind))
        })
        .collect();
    let decoys_reported: Vec<_> = found
        .iter()
        .filter(|f| {
            decoys
                .iter()
                .any(|(_, _, s, a, b, _)| overlaps(f, s, *a, *b))
        })
        .collect();
    let unexplained: Vec<_> = found
        .iter()
        .filter(|f| {
            !planted
                .iter()
                .chain(&low)
                .any(|(_, _, s, a, b, _)| overlaps(f, s, *a, *b))
        })
        .map(|f| (f.0.clone(), f.1, f.3.clone(), mask(&f.4)))
        .collect();
    eprintln!(
        "secrets fixture: {} findings; planted copies found {}/{}; decoy copies reported {}/{}; \
         findings outside every planted copy {}",
        found.len(),
        planted.len() - missed.len(),
        planted.len(),
        decoys_reported.len(),
        decoys.len(),
        unexplained.len()
    );
    assert!(missed.is_empty(), "missed: {missed:#?}");
    assert!(
        decoys_reported.is_empty(),
        "decoys reported: {decoys_reported:#?}"
    );
    assert!(unexplained.is_empty(), "not planted: {unexplained:#?}");
}

#[test]
fn every_split_point_of_every_true_positive() {
    let rules = rules();
    let mut failures = Vec::new();
    for rule in rules.rules() {
        for example in &rule.examples().found {
            let text = example.text.as_bytes();
            let whole = scan_split(text, &[], DEFAULT_BLOCK_FOR_TESTS);
            for cut in 0..=text.len() {
                if scan_split(text, &[cut], 1) != whole {
                    failures.push(format!(
                        "{}: split at {cut} of {:?}",
                        rule.name(),
                        example.text
                    ));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
