//! `analyze --remote`: the node agent (this very binary, copied into the helper pod over exec
//! and run there by the fake API server, for real) analyses the archive on the node; its report
//! equals `analyze --local` of the same archive byte for byte, and an agent that cannot run there
//! falls back to fetching.

use crate::support;

use support::fake_apiserver::FakeCluster;
use support::plugin::{fixture, stderr, Plugin};

const POD: &str = "counters-857d7978fd-jnkck";

/// A cluster whose node holds the fixture; the plugin, and the archive as `NODE:PATH`.
fn node_with_archive() -> (FakeCluster, Plugin, String) {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    let name = fixture().file_name().unwrap().to_owned();
    std::fs::copy(fixture(), cluster.node_dir("node-a").join(&name)).unwrap();
    let source = format!(
        "node-a:/var/lib/kubelet/checkpoints/{}",
        name.to_string_lossy()
    );
    // The same archive here, at a relative path that reads exactly `NODE:PATH`, so that the
    // local report names it as the remote one does.
    let local = plugin.dir.path().join(&source);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::copy(fixture(), &local).unwrap();
    (cluster, plugin, source)
}

#[test]
fn every_view_on_the_node_equals_the_local_analysis_byte_for_byte() {
    let (_cluster, plugin, source) = node_with_archive();
    for view in [
        &[][..],
        &["--all"],
        &["--search", "counter"],
        &["--secrets"],
        &["--crit-x", "ps"],
        &["-o", "json"],
        &["-o", "yaml"],
        &["--ps-tree", "--cmdline", "--env", "-o", "wide"],
    ] {
        let mut remote_args = vec!["analyze", "--remote", source.as_str()];
        remote_args.extend_from_slice(view);
        let remote = plugin.run(&remote_args);
        let mut local_args = vec!["analyze", "--local", source.as_str()];
        local_args.extend_from_slice(view);
        let local = plugin.run(&local_args);
        assert_eq!(
            remote.status.code(),
            local.status.code(),
            "{view:?}: {}",
            stderr(&remote)
        );
        assert!(!local.stdout.is_empty(), "{view:?}");
        assert!(
            remote.stdout == local.stdout,
            "{view:?}: the remote report differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&remote.stdout),
            String::from_utf8_lossy(&local.stdout)
        );
        let err = stderr(&remote);
        assert!(
            err.contains("note: analysed on node node-a by the agent")
                && err.contains("The result is as trustworthy as node node-a"),
            "{view:?}: {err}"
        );
        // What was read on the node and what travelled are both said.
        assert!(
            err.contains(" there; ") && err.contains(" travelled ("),
            "{err}"
        );
    }
}

#[test]
fn an_agent_that_does_not_run_on_the_node_falls_back_to_fetching() {
    let (_cluster, plugin, source) = node_with_archive();
    let not_a_program = plugin.dir.path().join("agent-for-another-node");
    std::fs::write(&not_a_program, b"not an executable\n").unwrap();
    let agent = not_a_program.to_str().unwrap();
    let remote = plugin.run(&["analyze", "--remote", &source, "--agent-binary", agent]);
    let local = plugin.run(&["analyze", "--local", &source]);
    assert_eq!(remote.status.code(), Some(0), "{}", stderr(&remote));
    // The fetched copy's report: the local one, and the custody of the fetch.
    let (remote_out, local_out) = (
        String::from_utf8_lossy(&remote.stdout),
        String::from_utf8_lossy(&local.stdout),
    );
    for line in local_out.lines() {
        assert!(remote_out.contains(line), "{line:?} missing:\n{remote_out}");
    }
    assert!(remote_out.contains("ustody"), "{remote_out}");
    let err = stderr(&remote);
    assert!(
        err.contains("warning: node node-a: the agent does not run on the node")
            && err.contains("fetching the archive and analysing it here instead"),
        "{err}"
    );
    assert!(!err.contains("analysed on node"), "{err}");
}

#[test]
fn remote_is_refused_with_local_paths_and_several_inputs() {
    let (_cluster, plugin, source) = node_with_archive();
    let both = plugin.run(&["analyze", "--remote", "--local", &source]);
    assert_eq!(both.status.code(), Some(2));
    let dump = plugin.run(&[
        "analyze",
        "--remote",
        &source,
        "--pid",
        "1",
        "--dump-memory",
        "m.bin",
    ]);
    assert_eq!(dump.status.code(), Some(2), "{}", stderr(&dump));
    let two = plugin.run(&["analyze", "--remote", &source, &source]);
    assert_eq!(two.status.code(), Some(2), "{}", stderr(&two));
    assert!(stderr(&two).contains("analyze --remote takes one TARGET"));
}
