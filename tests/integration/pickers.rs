//! The interactive picks on a pseudo-terminal, as a person uses them: a header and a key hint,
//! typing to filter, the "all containers" entry, marking several archives to delete and
//! confirming, and every way out (Esc, Ctrl-C, q) erasing the list and exiting 130.

use crate::support::fake_apiserver::FakeCluster;
use crate::support::plugin::{checkpoint_posts, stdout, Plugin};

/// What was drawn after the picker last erased itself (console's "clear to end of screen").
fn after_last_erase(screen: &str) -> &str {
    screen.rsplit("\x1b[0J").next().unwrap_or(screen)
}

fn shop() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .pod("shop", "web-1", "node-a", &["app"])
        .pod("shop", "web-2", "node-a", &["app"])
        .pod("shop", "two", "node-a", &["app", "sidecar"])
        .start()
}

#[test]
fn every_way_out_erases_the_list_and_exits_130() {
    let cluster = shop();
    let plugin = Plugin::new(&cluster);
    for (key, name) in [("\x1b", "Esc"), ("\x03", "Ctrl-C"), ("q", "q")] {
        let mut terminal = plugin.on_terminal(&["-n", "shop"]);
        terminal.wait_for("Pod of namespace shop to checkpoint");
        terminal.wait_for("web-2");
        // The header and the key hint.
        assert!(
            terminal.screen().contains("NAME    NODE     CONTAINERS"),
            "{name}: {}",
            terminal.screen()
        );
        assert!(terminal.screen().contains("Esc cancel"), "{name}");
        terminal.press(&[key]);
        let (status, screen) = terminal.finish();
        assert_eq!(status.code(), Some(130), "{name}: {screen}");
        let rest = after_last_erase(&screen);
        assert!(
            !rest.contains("web-") && !rest.contains("filter:"),
            "{name}: the list was left on screen: {rest:?}"
        );
        assert!(
            rest.contains("\x1b[?25h"),
            "{name}: the cursor stays hidden: {rest:?}"
        );
        assert!(
            rest.contains("cancelled at the prompt; nothing was done"),
            "{name}: {rest:?}"
        );
    }
    assert!(checkpoint_posts(&cluster).is_empty());
}

#[test]
fn typing_filters_the_list() {
    let cluster = shop();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal(&["-n", "shop"]);
    terminal.wait_for("web-2");
    terminal.press(&["W", "E", "B", "-", "2"]);
    terminal.wait_for("filter: WEB-2");
    let (_, screen) = {
        terminal.press(&["\r"]);
        terminal.finish()
    };
    assert!(
        screen.contains("Pod of namespace shop to checkpoint: web-2"),
        "{screen}"
    );
    let posts = checkpoint_posts(&cluster);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].contains("/checkpoint/shop/web-2/app"), "{posts:?}");
}

#[test]
fn all_containers_is_the_first_choice() {
    let cluster = shop();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal(&["-n", "shop", "two"]);
    terminal.wait_for("Container of pod two to checkpoint");
    terminal.wait_for("(all containers)");
    terminal.press(&["\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    let mut posts = checkpoint_posts(&cluster);
    posts.sort();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].contains("/checkpoint/shop/two/app"), "{posts:?}");
    assert!(
        posts[1].contains("/checkpoint/shop/two/sidecar"),
        "{posts:?}"
    );
}

#[test]
fn delete_marks_several_archives_and_asks_first() {
    let cluster = shop();
    let plugin = Plugin::new(&cluster);
    let mut files = Vec::new();
    for pod in ["web-1", "web-2"] {
        let out = plugin.run(&["-n", "shop", pod]);
        let source = stdout(&out).trim().to_string();
        files.push(
            cluster
                .node_dir("node-a")
                .join(source.rsplit('/').next().unwrap()),
        );
    }

    // Both marked, then "no": nothing is deleted.
    let mut terminal = plugin.on_terminal(&["delete", "-n", "shop"]);
    terminal.wait_for("Checkpoint archive to delete");
    terminal.wait_for("shop/web-2 app");
    assert!(terminal.screen().contains("Space mark"));
    terminal.press(&[" ", "\x1b[B", " ", "\r"]);
    terminal.wait_for("Delete these 2 archives from their nodes? It cannot be undone");
    terminal.press(&["n"]);
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(130), "{screen}");
    assert!(files.iter().all(|f| f.exists()));

    // Both marked, then "yes".
    let mut terminal = plugin.on_terminal(&["delete", "-n", "shop"]);
    terminal.wait_for("shop/web-2 app");
    terminal.press(&[" ", "\x1b[B", " ", "\r"]);
    terminal.wait_for("It cannot be undone");
    terminal.press(&["y"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("Checkpoint archive to delete: 2 chosen"),
        "{screen}"
    );
    assert_eq!(screen.matches("deleted node-a:").count(), 2, "{screen}");
    assert!(files.iter().all(|f| !f.exists()));
}

#[test]
fn the_key_help_shows_in_full_at_80_columns_and_letters_filter() {
    let cluster = shop();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal_of_width(&["-n", "shop"], 80);
    terminal.wait_for("Pod of namespace shop to checkpoint");
    terminal.wait_for("web-2");
    // A line of its own, not cut: Esc is shown.
    terminal.wait_for("Up/Down move, Enter choose, Esc cancel; type to filter");
    // Letters filter (there are no letter commands): `j` and `k` go into the filter.
    terminal.press(&["j"]);
    terminal.wait_for("filter: j");
    terminal.wait_for("(nothing matches)");
    terminal.press(&["\x7f", "\x1b[B", "\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    let posts = checkpoint_posts(&cluster);
    assert_eq!(posts.len(), 1, "{posts:?}");
}
