//! The krew manifest (`plugin.yaml`) and the release scripts that fill it in.
//!
//! The manifest is decoded into typed structs that mirror krew's `index.Plugin` and checked with
//! the rules krew's `validation.ValidatePlugin` applies (apiVersion, kind, safe name, semver with a
//! `v`, a short description, platforms with an os/arch selector, uri, a 64-hex sha256, bin and file
//! operations). The release test packs tarballs with `scripts/package-release.sh`, runs
//! `scripts/release-manifest.sh` and checks every uri and sha256 against the tarballs themselves.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A krew plugin manifest (`krew.googlecontainertools.github.com/v1alpha2`, kind `Plugin`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Plugin {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: PluginSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PluginSpec {
    version: String,
    homepage: String,
    short_description: String,
    description: String,
    caveats: String,
    platforms: Vec<Platform>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    selector: Selector,
    uri: String,
    sha256: String,
    files: Vec<FileOperation>,
    bin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    from: String,
    to: String,
}

const PLATFORMS: [(&str, &str); 4] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn decode_manifest(path: &Path) -> Plugin {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn release_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn tarball_name(os: &str, arch: &str) -> String {
    format!("kubectl-checkpoint-{}-{os}-{arch}.tar.gz", release_tag())
}

/// The checks of krew's `ValidatePlugin`, plus ours: name, version, platforms and files.
fn assert_valid(plugin: &Plugin) {
    assert_eq!(
        plugin.api_version,
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(plugin.kind, "Plugin");
    assert_eq!(plugin.metadata.name, "checkpoint");
    let safe_name = regex::Regex::new(r"^[\w-]+$").unwrap();
    assert!(safe_name.is_match(&plugin.metadata.name));

    let spec = &plugin.spec;
    assert_eq!(
        spec.version,
        release_tag(),
        "spec.version must be Cargo.toml's"
    );
    let semver = regex::Regex::new(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$").unwrap();
    assert!(semver.is_match(&spec.version), "{}", spec.version);
    assert!(spec.homepage.starts_with("https://"), "{}", spec.homepage);
    assert!(!spec.short_description.is_empty());
    assert!(
        spec.short_description.len() <= 60,
        "krew wants a short description of a few words"
    );
    assert!(spec.description.contains("kubelet checkpoint API"));
    assert!(spec.description.contains("oc checkpoint"));
    for fact in [
        "ContainerCheckpoint",
        "enable_criu_support = true",
        "nodes/proxy",
        "0600",
        "kubectl checkpoint delete",
    ] {
        assert!(spec.caveats.contains(fact), "caveats should mention {fact}");
    }

    let sha256 = regex::Regex::new(r"^[a-f0-9]{64}$").unwrap();
    let mut seen = Vec::new();
    for platform in &spec.platforms {
        let labels = &platform.selector.match_labels;
        assert!(
            labels.keys().all(|k| k == "os" || k == "arch"),
            "krew supports only os and arch selector keys: {labels:?}"
        );
        let os = labels.get("os").expect("selector has os").as_str();
        let arch = labels.get("arch").expect("selector has arch").as_str();
        seen.push((os.to_string(), arch.to_string()));
        assert!(platform.uri.starts_with("https://"), "{}", platform.uri);
        assert!(
            platform
                .uri
                .ends_with(&format!("/{}", tarball_name(os, arch))),
            "{} should download {}",
            platform.uri,
            tarball_name(os, arch)
        );
        assert!(
            sha256.is_match(&platform.sha256),
            "sha256 {:?} must match ^[a-f0-9]{{64}}$",
            platform.sha256
        );
        assert_eq!(platform.bin, "kubectl-checkpoint");
        assert!(
            platform
                .files
                .iter()
                .any(|f| f.from == "kubectl-checkpoint" && f.to == "."),
            "the binary must be among the files krew copies"
        );
        assert!(platform.files.iter().any(|f| f.from == "LICENSE"));
    }
    let mut want: Vec<(String, String)> = PLATFORMS
        .iter()
        .map(|(os, arch)| (os.to_string(), arch.to_string()))
        .collect();
    want.sort();
    seen.sort();
    assert_eq!(seen, want, "one platform each for linux/darwin amd64/arm64");
}

#[test]
fn plugin_yaml_is_a_valid_krew_manifest() {
    let plugin = decode_manifest(&repo_path("plugin.yaml"));
    assert_valid(&plugin);
    for platform in &plugin.spec.platforms {
        assert!(
            platform.uri.starts_with(&format!(
                "{}/releases/download/{}/",
                plugin.spec.homepage,
                release_tag()
            )),
            "{}",
            platform.uri
        );
    }
}

#[test]
fn license_is_apache_2() {
    let license = fs::read_to_string(repo_path("LICENSE")).unwrap();
    assert!(license.contains("Apache License"));
    assert!(license.contains("Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    assert_eq!(env!("CARGO_PKG_LICENSE"), "Apache-2.0");
}

fn run_script(script: &str, args: &[&Path], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new("bash");
    command.arg(repo_path(script)).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// The members of a release tarball, with their modes.
fn tarball_members(path: &Path) -> BTreeMap<String, u32> {
    let file = fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut members = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mode = entry.header().mode().unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        members.insert(name, mode);
    }
    members
}

/// A stand-in binary of `os`/`arch`: the header the package script checks (ELF or Mach-O, 64-bit,
/// little-endian, the right machine), then `tag`, so that each platform's tarball differs.
fn stand_in_binary(os: &str, arch: &str, tag: &str) -> Vec<u8> {
    let mut bytes = match os {
        "linux" => {
            let machine: u16 = if arch == "amd64" { 62 } else { 183 };
            let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
            elf.resize(16, 0);
            elf.extend_from_slice(&2u16.to_le_bytes()); // e_type ET_EXEC
            elf.extend_from_slice(&machine.to_le_bytes());
            elf.resize(64, 0);
            elf
        }
        _ => {
            let cpu: u32 = if arch == "amd64" {
                0x0100_0007
            } else {
                0x0100_000c
            };
            let mut macho = 0xfeed_facf_u32.to_le_bytes().to_vec();
            macho.extend_from_slice(&cpu.to_le_bytes());
            macho.resize(32, 0);
            macho
        }
    };
    bytes.extend_from_slice(tag.as_bytes());
    bytes
}

#[test]
fn release_manifest_carries_the_tarballs_uris_and_sums() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    for (os, arch) in PLATFORMS {
        // A distinct stand-in binary per platform, so that each tarball has its own sum.
        let binary = dir.path().join(format!("kubectl-checkpoint-{os}-{arch}"));
        fs::write(&binary, stand_in_binary(os, arch, &format!("{os} {arch}"))).unwrap();
        let out = run_script(
            "scripts/package-release.sh",
            &[Path::new(&format!("{os}-{arch}")), &binary, &dist],
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tarball = dist.join(tarball_name(os, arch));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            tarball.display().to_string()
        );
        let members = tarball_members(&tarball);
        assert_eq!(members.get("kubectl-checkpoint"), Some(&0o755));
        assert_eq!(members.get("LICENSE"), Some(&0o644));
        assert_eq!(members.len(), 2, "{members:?}");
    }

    let base = "https://releases.example.test/kubectl-checkpoint/v9";
    let out = run_script(
        "scripts/release-manifest.sh",
        &[&dist],
        &[("RELEASE_BASE_URL", base)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = dist.join("checkpoint.yaml");
    let plugin = decode_manifest(&generated);
    assert_valid(&plugin);
    let template = decode_manifest(&repo_path("plugin.yaml"));
    assert_eq!(plugin.spec.description, template.spec.description);
    assert_eq!(plugin.spec.caveats, template.spec.caveats);

    let mut sums = Vec::new();
    for platform in &plugin.spec.platforms {
        let labels = &platform.selector.match_labels;
        let name = tarball_name(&labels["os"], &labels["arch"]);
        assert_eq!(platform.uri, format!("{base}/{name}"));
        let bytes = fs::read(dist.join(&name)).unwrap();
        assert_eq!(
            platform.sha256,
            hex::encode(Sha256::digest(&bytes)),
            "{name}"
        );
        sums.push(platform.sha256.clone());
    }
    sums.sort();
    sums.dedup();
    assert_eq!(sums.len(), 4, "each platform has its own tarball sum");
}

#[test]
fn release_manifest_refuses_a_missing_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("kubectl-checkpoint");
    fs::write(&binary, stand_in_binary("linux", "amd64", "")).unwrap();
    let out = run_script(
        "scripts/package-release.sh",
        &[Path::new("linux-amd64"), &binary, dir.path()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run_script("scripts/release-manifest.sh", &[dir.path()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&tarball_name("linux", "arm64")) && stderr.contains("no such file"),
        "{stderr}"
    );
    assert!(!dir.path().join("checkpoint.yaml").exists());
}

#[test]
fn package_release_refuses_an_unknown_platform() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("kubectl-checkpoint");
    fs::write(&binary, "#!/bin/sh\n").unwrap();
    let out = run_script(
        "scripts/package-release.sh",
        &[Path::new("windows-386"), &binary, dir.path()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown platform 'windows-386'"));
}

#[test]
fn package_release_refuses_a_binary_of_another_platform() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "linux-arm64",
            stand_in_binary("linux", "amd64", ""),
            "is an x86-64 (amd64) ELF executable, not a linux-arm64 binary",
        ),
        (
            "linux-amd64",
            stand_in_binary("linux", "arm64", ""),
            "is an AArch64 (arm64) ELF executable, not a linux-amd64 binary",
        ),
        (
            "darwin-arm64",
            stand_in_binary("darwin", "amd64", ""),
            "is an x86-64 (amd64) Mach-O executable, not a darwin-arm64 binary",
        ),
        (
            "darwin-amd64",
            stand_in_binary("linux", "amd64", ""),
            "is not a 64-bit Mach-O executable",
        ),
        (
            "linux-amd64",
            b"#!/bin/sh\necho hello\n".to_vec(),
            "is not an ELF executable",
        ),
        (
            "darwin-arm64",
            [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2].to_vec(),
            "universal (fat) Mach-O",
        ),
    ];
    for (platform, bytes, want) in cases {
        let binary = dir.path().join("kubectl-checkpoint");
        fs::write(&binary, bytes).unwrap();
        let out = run_script(
            "scripts/package-release.sh",
            &[Path::new(platform), &binary, &dir.path().join("dist")],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{platform}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{platform}: {stderr}");
        assert!(
            !dir.path().join("dist").exists()
                || fs::read_dir(dir.path().join("dist"))
                    .unwrap()
                    .next()
                    .is_none()
        );
    }
    // The test build of this machine is of the right platform but dynamically linked (a
    // development build): refused for that, and for nothing else.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        let out = run_script(
            "scripts/package-release.sh",
            &[
                Path::new("linux-amd64"),
                Path::new(env!("CARGO_BIN_EXE_kubectl-checkpoint")),
                &dir.path().join("dist"),
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is dynamically linked"), "{stderr}");
    }
}

#[test]
fn release_tarballs_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("kubectl-checkpoint");
    fs::write(&binary, stand_in_binary("linux", "amd64", "same")).unwrap();
    let pack = |into: &str, epoch: &str| {
        let dist = dir.path().join(into);
        let out = run_script(
            "scripts/package-release.sh",
            &[Path::new("linux-amd64"), &binary, &dist],
            &[("SOURCE_DATE_EPOCH", epoch)],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        fs::read(dist.join(tarball_name("linux", "amd64"))).unwrap()
    };
    let first = pack("a", "1700000000");
    // Later, with the binary rewritten (a new mtime) and its mode changed: the same bytes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(&binary, stand_in_binary("linux", "amd64", "same")).unwrap();
    let second = pack("b", "1700000000");
    assert_eq!(
        hex::encode(Sha256::digest(&first)),
        hex::encode(Sha256::digest(&second))
    );
    // gzip without a name or time (-n): bytes 4..8 (MTIME) are zero, no FNAME flag.
    assert_eq!(&first[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(first[3] & 0x08, 0, "FNAME set");
    assert_eq!(&first[4..8], &[0, 0, 0, 0]);
    // Members sorted, dated SOURCE_DATE_EPOCH, owned by 0:0.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&first[..]));
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        assert_eq!(header.mtime().unwrap(), 1_700_000_000);
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        names.push(entry.path().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(names, ["LICENSE", "kubectl-checkpoint"]);
    // Another date, another tarball.
    assert_ne!(pack("c", "1700000001"), first);
}

#[test]
fn changelog_has_a_section_for_this_version() {
    let changelog = fs::read_to_string(repo_path("CHANGELOG.md")).unwrap();
    let heading = format!("## [{}]", env!("CARGO_PKG_VERSION"));
    assert!(
        changelog.lines().any(|l| l.starts_with(&heading)),
        "CHANGELOG.md lacks {heading}"
    );
    assert!(changelog.contains("## [Unreleased]"));
}

#[test]
fn build_release_builds_the_dist_profile_and_packs_it() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in `cargo` that records its arguments and leaves a binary where cargo would.
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let cargo = bin.join("cargo");
    fs::write(
        &cargo,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_LOG\"\n\
         printf '%s\\n' \"$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS\" > \"$STUB_LOG\"-flags\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --target ] && t=\"$2\"; shift; done\n\
         mkdir -p \"$CARGO_TARGET_DIR/$t/dist\"\n\
         cat \"$STUB_BINARY\" > \"$CARGO_TARGET_DIR/$t/dist/kubectl-checkpoint\"\n",
    )
    .unwrap();
    fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.path().join("cargo");
    let stub_binary = dir.path().join("stub-binary");
    fs::write(
        &stub_binary,
        stand_in_binary("linux", "arm64", "aarch64-unknown-linux-gnu"),
    )
    .unwrap();
    let target = dir.path().join("target");
    let dist = dir.path().join("dist");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_script(
        "scripts/build-release.sh",
        &[Path::new("linux-arm64"), &dist],
        &[
            ("PATH", path.as_str()),
            ("STUB_LOG", log.to_str().unwrap()),
            ("STUB_BINARY", stub_binary.to_str().unwrap()),
            ("CARGO_TARGET_DIR", target.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = fs::read_to_string(&log).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "build",
            "--profile",
            "dist",
            "--locked",
            "--target",
            "aarch64-unknown-linux-gnu"
        ]
    );
    // Static glibc, for what runs on the target only.
    let flags = fs::read_to_string(dir.path().join("cargo-flags")).unwrap();
    assert_eq!(flags.trim(), "-C target-feature=+crt-static");
    let tarball = dist.join(tarball_name("linux", "arm64"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        tarball.display().to_string()
    );
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        fs::File::open(&tarball).unwrap(),
    ));
    let mut packed = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().as_os_str() == "kubectl-checkpoint" {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            packed = Some(content);
        }
    }
    assert_eq!(packed, Some(fs::read(&stub_binary).unwrap()));
}

/// The `key = value` lines of one `[section]` of Cargo.toml.
fn cargo_toml_section(section: &str) -> BTreeMap<String, String> {
    let manifest = fs::read_to_string(repo_path("Cargo.toml")).unwrap();
    let header = format!("[{section}]");
    manifest
        .lines()
        .skip_while(|line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

#[test]
fn the_dist_profile_strips_and_optimises_the_whole_program() {
    let dist = cargo_toml_section("profile.dist");
    for (key, value) in [
        ("inherits", "\"release\""),
        ("debug", "false"),
        ("strip", "true"),
        ("lto", "\"fat\""),
        ("codegen-units", "1"),
    ] {
        assert_eq!(dist.get(key).map(String::as_str), Some(value), "{key}");
    }
    // What `cargo install --path .` builds is small too: no debug info, no symbols.
    let release = cargo_toml_section("profile.release");
    assert_eq!(release.get("debug").map(String::as_str), Some("false"));
    assert_eq!(release.get("strip").map(String::as_str), Some("true"));
    // Profiling has its own profile, with line tables and symbols.
    let profiling = cargo_toml_section("profile.profiling");
    assert_eq!(
        profiling.get("inherits").map(String::as_str),
        Some("\"release\"")
    );
    assert_eq!(profiling.get("debug").map(String::as_str), Some("1"));
    assert_eq!(profiling.get("strip").map(String::as_str), Some("false"));
    // Development and test builds keep their debug info.
    for profile in ["profile.dev", "profile.test"] {
        let settings = cargo_toml_section(profile);
        assert!(
            !settings.contains_key("debug") && !settings.contains_key("strip"),
            "{profile}"
        );
    }
}

/// The binary is a position-independent executable (ELF type `ET_DYN`), so the kernel loads it at
/// a random address: it decompresses untrusted input through C code (zstd) and ring.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_position_independent() {
    let mut header = [0u8; 18];
    fs::File::open(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .unwrap()
        .read_exact(&mut header)
        .unwrap();
    assert_eq!(&header[..4], b"\x7fELF");
    const ET_DYN: u16 = 3;
    assert_eq!(u16::from_le_bytes([header[16], header[17]]), ET_DYN);
}

/// A Linux binary that names a program interpreter (dynamically linked) is not packed.
#[test]
fn package_release_refuses_a_dynamically_linked_binary() {
    let dir = tempfile::tempdir().unwrap();
    let mut elf = stand_in_binary("linux", "amd64", "");
    elf.truncate(64);
    elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    elf[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    elf[56..58].copy_from_slice(&2u16.to_le_bytes()); // e_phnum
    for p_type in [6u32, 3] {
        // PT_PHDR, then PT_INTERP
        let mut header = p_type.to_le_bytes().to_vec();
        header.resize(56, 0);
        elf.extend_from_slice(&header);
    }
    let binary = dir.path().join("kubectl-checkpoint");
    fs::write(&binary, &elf).unwrap();
    let out = run_script(
        "scripts/package-release.sh",
        &[Path::new("linux-amd64"), &binary, dir.path()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is dynamically linked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the interpreter it is packed.
    elf[64 + 56..64 + 60].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    fs::write(&binary, &elf).unwrap();
    let out = run_script(
        "scripts/package-release.sh",
        &[Path::new("linux-amd64"), &binary, dir.path()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
