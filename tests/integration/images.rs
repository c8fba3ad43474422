//! `kubectl checkpoint image`: OCI image layouts checked structurally (every blob's digest and
//! size, media types, oci-spec's types reading each document), pushes to the fake registry (the
//! layer equal to the archive, byte for byte), credentials from the user's auth files, and every
//! refusal: authentication, a registry that is down or absent, plain HTTP to a host that is not
//! this machine, an archive that is not the copy its custody manifest describes.

use crate::support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine as _;
use sha2::Digest as _;
use support::fake_apiserver::{FakeCluster, FakeRegistry, RegistryAuth};
use support::plugin::{fixture, stderr, stdout, Plugin};

const FIXTURE_SHA256: &str = "589d39ec47afb0768f4ac888cad5f2c515050b70e2f692c01218766d74dc7c98";
const POD: &str = "counters-857d7978fd-jnkck";

fn demo() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .start()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Checks an OCI image layout directory as an image-spec validator would: `oci-layout`,
/// `index.json`, each blob named by the sha256 of its bytes and as large as its descriptors say,
/// the media types, every document read by oci-spec's types; files 0600 when `ours`. Returns
/// the manifest.
fn check_layout(dir: &Path, ours: bool) -> oci_spec::image::ImageManifest {
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    let blobs = dir.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let entry = entry.unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert_eq!(
            sha256_hex(&bytes),
            entry.file_name().to_string_lossy(),
            "blob named by its digest"
        );
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert!(
            !ours || mode == 0o600,
            "{}: {mode:o}",
            entry.path().display()
        );
    }
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::read(blobs.join(hex)).unwrap()
    };
    let index = oci_spec::image::ImageIndex::from_file(dir.join("index.json")).unwrap();
    let index_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    if ours {
        // Optional in the spec (skopeo 1.9 leaves it out); we write it.
        assert_eq!(
            index_json["mediaType"],
            "application/vnd.oci.image.index.v1+json"
        );
    }
    assert_eq!(index.manifests().len(), 1);
    let entry = &index.manifests()[0];
    assert_eq!(
        entry.media_type().to_string(),
        "application/vnd.oci.image.manifest.v1+json"
    );
    let manifest_bytes = blob(entry.digest().as_ref());
    assert_eq!(manifest_bytes.len() as u64, entry.size());
    let manifest = oci_spec::image::ImageManifest::from_reader(&manifest_bytes[..]).unwrap();
    assert_eq!(manifest.schema_version(), 2);
    assert_eq!(
        manifest.config().media_type().to_string(),
        "application/vnd.oci.image.config.v1+json"
    );
    let config_bytes = blob(manifest.config().digest().as_ref());
    assert_eq!(config_bytes.len() as u64, manifest.config().size());
    let config = oci_spec::image::ImageConfiguration::from_reader(&config_bytes[..]).unwrap();
    assert_eq!(manifest.layers().len(), 1);
    let layer = &manifest.layers()[0];
    assert_eq!(blob(layer.digest().as_ref()).len() as u64, layer.size());
    if layer.media_type().to_string() == "application/vnd.oci.image.layer.v1.tar" {
        assert_eq!(
            config.rootfs().diff_ids(),
            &vec![layer.digest().to_string()],
            "an uncompressed layer's diff ID is its digest"
        );
    }
    // Whatever the compression, the tar inside is the archive.
    assert_eq!(
        config.rootfs().diff_ids(),
        &vec![format!("sha256:{FIXTURE_SHA256}")]
    );
    assert!(config
        .config()
        .as_ref()
        .is_none_or(|c| c.cmd().is_none() && c.entrypoint().is_none()));
    manifest
}

fn annotations(manifest: &oci_spec::image::ImageManifest) -> BTreeMap<String, String> {
    manifest
        .annotations()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

#[test]
fn an_oci_dir_is_a_valid_layout_whose_layer_is_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("layout");
    let plugin_dir = dir.path();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["image", fixture().to_str().unwrap(), "counter:v1", "-o"])
        .arg(format!("oci:{}", out_dir.display()))
        .env("HOME", plugin_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = check_layout(&out_dir, true);
    let layer = &manifest.layers()[0];
    assert_eq!(
        layer.digest().to_string(),
        format!("sha256:{FIXTURE_SHA256}")
    );
    assert_eq!(
        layer.media_type().to_string(),
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        std::fs::read(out_dir.join("blobs/sha256").join(FIXTURE_SHA256)).unwrap(),
        std::fs::read(fixture()).unwrap(),
        "the layer is the archive, byte for byte"
    );
    let ann = annotations(&manifest);
    assert_eq!(
        ann["io.kubernetes.cri-o.annotations.checkpoint.name"],
        "counter"
    );
    assert_eq!(
        ann["io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName"],
        "quay.io/rbohne/counters:latest"
    );
    assert_eq!(ann["io.kubectl-checkpoint.pod"], POD);
    assert_eq!(ann["io.kubectl-checkpoint.namespace"], "demo");
    assert_eq!(ann["io.kubectl-checkpoint.archive.sha256"], FIXTURE_SHA256);
    assert_eq!(
        ann["io.kubectl-checkpoint.checkpointed"],
        "2023-08-24T11:24:18.316482933Z"
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(stdout(&out).contains(&digest), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("layer digest sha256:{FIXTURE_SHA256}")));
    let mode = std::fs::metadata(&out_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // Never over an existing layout.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["image", fixture().to_str().unwrap(), "-o"])
        .arg(format!("oci:{}", out_dir.display()))
        .env("HOME", plugin_dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
}

#[test]
fn an_oci_archive_is_the_same_layout_in_a_tar() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counter.oci.tar");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["image", fixture().to_str().unwrap(), "-o", "json", "-o"])
        .arg(format!("oci-archive:{}", file.display()))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["destination"], "oci-archive");
    assert_eq!(
        record["layer"]["descriptor"]["digest"],
        format!("sha256:{FIXTURE_SHA256}")
    );
    // Unpacked with GNU tar, it is a valid layout.
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&file)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(tar.success());
    let manifest = check_layout(&unpacked, true);
    assert_eq!(
        manifest.layers()[0].digest().to_string(),
        format!("sha256:{FIXTURE_SHA256}")
    );
    assert_eq!(record["digest"].as_str().unwrap().len(), 71);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// A HOME whose docker config holds `user:password` for `registry`.
fn docker_login(home: &Path, registry: &str, user: &str, password: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        format!(r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

fn image(home: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("timeout");
    cmd.arg("60")
        .arg(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .arg("image")
        .args(args)
        .current_dir(home)
        .env("HOME", home)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("XDG_RUNTIME_DIR");
    cmd.output().unwrap()
}

/// The pushed image: checks it in the registry and returns its manifest's annotations.
fn check_pushed(
    registry: &FakeRegistry,
    out: &std::process::Output,
    repository: &str,
    tag: &str,
) -> BTreeMap<String, String> {
    assert!(out.status.success(), "{}", stderr(out));
    let line = stdout(out).trim().to_string();
    let (name, digest) = line.split_once('@').unwrap();
    assert_eq!(name, format!("{}/{repository}", registry.host()));
    let (media_type, bytes) = registry.manifest(repository, tag).unwrap();
    assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), digest);
    let manifest = oci_spec::image::ImageManifest::from_reader(&bytes[..]).unwrap();
    let layer = registry
        .blob(manifest.layers()[0].digest().as_ref())
        .unwrap();
    assert_eq!(
        layer,
        std::fs::read(fixture()).unwrap(),
        "the layer is the archive"
    );
    assert_eq!(sha256_hex(&layer), FIXTURE_SHA256);
    assert!(registry.blob(manifest.config().digest().as_ref()).is_some());
    annotations(&manifest)
}

#[test]
fn a_push_streams_the_archive_in_chunks_and_prints_the_image_by_digest() {
    let registry = FakeRegistry::start(RegistryAuth::None);
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/ckpt/counter:v1", registry.host());
    let out = image(home.path(), &[fixture().to_str().unwrap(), &reference]);
    let ann = check_pushed(&registry, &out, "ckpt/counter", "v1");
    assert_eq!(
        ann["io.kubernetes.cri-o.annotations.checkpoint.name"],
        "counter"
    );
    let patches = registry
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert!(patches >= 1, "{:?}", registry.requests());
    assert!(stderr(&out).contains("plain HTTP"), "{}", stderr(&out));
}

#[test]
fn credentials_come_from_the_docker_config_and_never_show() {
    let registry = FakeRegistry::start(RegistryAuth::Basic("alice".into(), "s3cret-pw".into()));
    let home = tempfile::tempdir().unwrap();
    docker_login(home.path(), &registry.host(), "alice", "s3cret-pw");
    let reference = format!("{}/ckpt/counter:v2", registry.host());
    let out = image(
        home.path(),
        &[fixture().to_str().unwrap(), &reference, "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(record["credentials_from"]
        .as_str()
        .unwrap()
        .ends_with(".docker/config.json"));
    assert!(registry.manifest("ckpt/counter", "v2").is_some());
    // A wrong password: refused, with our advice, the password nowhere.
    docker_login(home.path(), &registry.host(), "alice", "wrong-pw");
    let out = image(home.path(), &[fixture().to_str().unwrap(), &reference]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("docker login"), "{err}");
    assert!(
        !err.contains("wrong-pw") && !stdout(&out).contains("wrong-pw"),
        "{err}"
    );
}

#[test]
fn bearer_tokens_with_registry_auth_file_and_none_without_credentials() {
    let registry = FakeRegistry::start(RegistryAuth::Bearer("bob".into(), "t0ken-pw".into()));
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/ckpt/counter:v3", registry.host());
    // No credentials anywhere: the registry's 401, and where we looked.
    let out = image(home.path(), &[fixture().to_str().unwrap(), &reference]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no credentials were found"),
        "{}",
        stderr(&out)
    );
    assert!(registry.manifest("ckpt/counter", "v3").is_none());
    // podman's auth file.
    let auth_file = home.path().join("auth.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("bob:t0ken-pw");
    std::fs::write(
        &auth_file,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["image", fixture().to_str().unwrap(), &reference])
        .env("HOME", home.path())
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .output()
        .unwrap();
    check_pushed(&registry, &out, "ckpt/counter", "v3");
    assert!(registry.requests().iter().any(|r| r.path == "/token"));
}

#[test]
fn a_registry_that_is_down_or_absent_is_said_so() {
    let registry = FakeRegistry::start(RegistryAuth::None);
    registry.set_down(true);
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/ckpt/counter:v1", registry.host());
    let out = image(home.path(), &[fixture().to_str().unwrap(), &reference]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unreachable (HTTP 503"), "{err}");
    assert!(err.contains("check the registry's address"), "{err}");
    // Nothing listens on a port that was just freed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = image(
        home.path(),
        &[
            fixture().to_str().unwrap(),
            &format!("127.0.0.1:{port}/ckpt/counter:v1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("connection refused"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plain_http_goes_only_to_this_machine_unless_insecure() {
    let registry = FakeRegistry::start(RegistryAuth::None);
    let home = tempfile::tempdir().unwrap();
    // 0.0.0.0 reaches this machine, but is not a loopback address: TLS is spoken, the plain
    // HTTP registry cannot answer it, and not one HTTP request reaches it.
    let reference = format!("0.0.0.0:{}/ckpt/counter:v1", registry.port());
    let out = image(home.path(), &[fixture().to_str().unwrap(), &reference]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("speaks plain HTTP"), "{err}");
    assert!(err.contains("--insecure"), "{err}");
    assert!(registry.requests().is_empty(), "{:?}", registry.requests());
    let out = image(
        home.path(),
        &[fixture().to_str().unwrap(), &reference, "--insecure"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(registry.manifest("ckpt/counter", "v1").is_some());
}

#[test]
fn a_fetched_archive_carries_its_custody_and_a_changed_one_makes_no_image() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "--fetch=copy.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let registry = FakeRegistry::start(RegistryAuth::None);
    let reference = format!("{}/ckpt/counter:custody", registry.host());
    let out = image(plugin.dir.path(), &["copy.tar", &reference]);
    let ann = check_pushed(&registry, &out, "ckpt/counter", "custody");
    let custody: checkpoint_model::archive::CustodyRecord =
        serde_json::from_str(&ann["io.kubectl-checkpoint.custody"]).unwrap();
    assert_eq!(custody.archive.sha256, FIXTURE_SHA256);
    assert_eq!(custody.source.node, "node-a");
    assert_eq!(ann["io.kubectl-checkpoint.node"], "node-a");
    assert!(stderr(&out).contains("custody"), "{}", stderr(&out));
    // One byte changed: the layer is uploaded, but no manifest names it.
    let path = plugin.dir.path().join("copy.tar");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let reference = format!("{}/ckpt/counter:changed", registry.host());
    let out = image(plugin.dir.path(), &["copy.tar", &reference]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("changed since it was fetched"),
        "{}",
        stderr(&out)
    );
    assert!(registry.manifest("ckpt/counter", "changed").is_none());
}

#[test]
fn a_target_is_checkpointed_fetched_and_pushed_in_one_command() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let reference = format!("{}/demo/counter:now", registry.host());
    let out = plugin.run(&["image", &format!("pod/{POD}"), "-n", "demo", &reference]);
    let ann = check_pushed(&registry, &out, "demo/counter", "now");
    assert!(ann["io.kubectl-checkpoint.source"].starts_with("node-a:/var/lib/kubelet/checkpoints/"));
    assert!(
        stderr(&out).contains("kubectl checkpoint delete node-a:"),
        "{}",
        stderr(&out)
    );
    // And from NODE:PATH.
    let source = ann["io.kubectl-checkpoint.source"].clone();
    let reference = format!("{}/demo/counter:from-node", registry.host());
    let out = plugin.run(&["image", &source, &reference]);
    let ann = check_pushed(&registry, &out, "demo/counter", "from-node");
    assert_eq!(ann["io.kubectl-checkpoint.source"], source);
}

/// skopeo (containers/image, what podman and CRI-O use) reads both layouts: `inspect` sees the
/// annotations as labels and the layer as the archive, and `copy` moves the archive's layout
/// into a directory layout, verifying every digest on the way.
#[test]
fn skopeo_reads_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let file = dir.path().join("image.tar");
    for output in [
        format!("oci:{}", layout.display()),
        format!("oci-archive:{}", file.display()),
    ] {
        let out = image(
            dir.path(),
            &[fixture().to_str().unwrap(), "counter:v1", "-o", &output],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let skopeo = |args: &[&str]| {
        let out = std::process::Command::new("skopeo")
            .args(args)
            .output()
            .expect("skopeo is not installed: apt-get install skopeo (.ci/run installs it)");
        assert!(out.status.success(), "skopeo {args:?}: {}", stderr(&out));
        out
    };
    let inspected = skopeo(&["inspect", &format!("oci:{}:v1", layout.display())]);
    let inspected: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(inspected["Layers"][0], format!("sha256:{FIXTURE_SHA256}"));
    assert_eq!(
        inspected["Labels"]["io.kubernetes.cri-o.annotations.checkpoint.name"],
        "counter"
    );
    let copy = dir.path().join("copy");
    skopeo(&[
        "copy",
        &format!("oci-archive:{}", file.display()),
        &format!("oci:{}:copied", copy.display()),
    ]);
    check_layout(&copy, false);
}
