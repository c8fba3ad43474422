//! The custody of an archive in one line of text, for the overview table and the summary.

use checkpoint_model::archive::CustodyStatus;

/// Where the archive came from and whether it is still the copy that was fetched, in one line
/// (without the checkpoint's name). Recorded text is input too: callers escape the line.
pub(super) fn custody_text(custody: &CustodyStatus) -> String {
    let plain = |text: &str| text.to_owned();
    let what = match &custody.record {
        Some(record) => {
            let by = record
                .fetched_by
                .as_ref()
                .map(|u| plain(&u.username))
                .unwrap_or_else(|| "an unknown user".into());
            let checked = if record.source.sha256.is_some() {
                "sha256 checked on the node"
            } else {
                "size checked"
            };
            format!(
                "fetched from {}:{} by {by} at {} ({checked})",
                plain(&record.source.node),
                plain(&record.source.path),
                plain(&record.finished),
            )
        }
        None => "unreadable record".into(),
    };
    match &custody.problem {
        Some(problem) => format!("{what}; WARNING: {}", plain(problem)),
        None => format!("{what}; the archive matches its recorded sha256"),
    }
}
