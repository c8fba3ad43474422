//! Event loops and watches of the file table, as reports: an epoll instance's registrations
//! (target descriptor, events, data word), an inotify instance's watches (watch descriptor,
//! path, mask) and a fanotify instance's marks, with the kernel's names for their bits
//! (`<sys/epoll.h>`, `<sys/inotify.h>`, `<linux/fanotify.h>`).

use super::{EpollTargetReport, FanotifyMarkReport, FanotifyReport, InotifyWatchReport};
use checkpoint_model::dump::files::{EpollTarget, FanotifyMark, InotifyWatch, MarkTarget};

/// `EPOLL*` bits.
const EPOLL_BITS: &[(u32, &str)] = &[
    (0x1, "EPOLLIN"),
    (0x2, "EPOLLPRI"),
    (0x4, "EPOLLOUT"),
    (0x8, "EPOLLERR"),
    (0x10, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (0x40, "EPOLLRDNORM"),
    (0x80, "EPOLLRDBAND"),
    (0x100, "EPOLLWRNORM"),
    (0x200, "EPOLLWRBAND"),
    (0x400, "EPOLLMSG"),
    (0x2000, "EPOLLRDHUP"),
    (1 << 28, "EPOLLEXCLUSIVE"),
    (1 << 29, "EPOLLWAKEUP"),
    (1 << 30, "EPOLLONESHOT"),
    (1 << 31, "EPOLLET"),
];

/// `IN_*` bits.
const INOTIFY_BITS: &[(u32, &str)] = &[
    (0x1, "IN_ACCESS"),
    (0x2, "IN_MODIFY"),
    (0x4, "IN_ATTRIB"),
    (0x8, "IN_CLOSE_WRITE"),
    (0x10, "IN_CLOSE_NOWRITE"),
    (0x20, "IN_OPEN"),
    (0x40, "IN_MOVED_FROM"),
    (0x80, "IN_MOVED_TO"),
    (0x100, "IN_CREATE"),
    (0x200, "IN_DELETE"),
    (0x400, "IN_DELETE_SELF"),
    (0x800, "IN_MOVE_SELF"),
    (0x2000, "IN_UNMOUNT"),
    (0x4000, "IN_Q_OVERFLOW"),
    (0x8000, "IN_IGNORED"),
    (0x0100_0000, "IN_ONLYDIR"),
    (0x0200_0000, "IN_DONT_FOLLOW"),
    (0x0400_0000, "IN_EXCL_UNLINK"),
    (0x1000_0000, "IN_MASK_CREATE"),
    (0x2000_0000, "IN_MASK_ADD"),
    (0x4000_0000, "IN_ISDIR"),
    (0x8000_0000, "IN_ONESHOT"),
];

/// `FAN_*` event bits.
const FANOTIFY_BITS: &[(u32, &str)] = &[
    (0x1, "FAN_ACCESS"),
    (0x2, "FAN_MODIFY"),
    (0x4, "FAN_ATTRIB"),
    (0x8, "FAN_CLOSE_WRITE"),
    (0x10, "FAN_CLOSE_NOWRITE"),
    (0x20, "FAN_OPEN"),
    (0x40, "FAN_MOVED_FROM"),
    (0x80, "FAN_MOVED_TO"),
    (0x100, "FAN_CREATE"),
    (0x200, "FAN_DELETE"),
    (0x400, "FAN_DELETE_SELF"),
    (0x800, "FAN_MOVE_SELF"),
    (0x1000, "FAN_OPEN_EXEC"),
    (0x4000, "FAN_Q_OVERFLOW"),
    (0x8000, "FAN_FS_ERROR"),
    (0x1_0000, "FAN_OPEN_PERM"),
    (0x2_0000, "FAN_ACCESS_PERM"),
    (0x4_0000, "FAN_OPEN_EXEC_PERM"),
    (0x10_0000, "FAN_PRE_ACCESS"),
    (0x0100_0000, "FAN_MNT_ATTACH"),
    (0x0200_0000, "FAN_MNT_DETACH"),
    (0x0800_0000, "FAN_EVENT_ON_CHILD"),
    (0x1000_0000, "FAN_RENAME"),
    (0x4000_0000, "FAN_ONDIR"),
];

/// The names of the bits set in `value`, in bit order; bits without a name as one `0x...`.
fn bit_names(value: u32, table: &[(u32, &str)]) -> Vec<String> {
    let mut names: Vec<String> = table
        .iter()
        .filter(|(bit, _)| value & bit != 0)
        .map(|(_, name)| (*name).to_owned())
        .collect();
    let known = table.iter().fold(0, |all, (bit, _)| all | bit);
    if value & !known != 0 {
        names.push(format!("{:#x}", value & !known));
    }
    names
}

/// The names of `EPOLL*` bits.
pub(crate) fn epoll_event_names(events: u32) -> Vec<String> {
    bit_names(events, EPOLL_BITS)
}

/// An epoll instance's registrations; `describe` names a registered descriptor as
/// `/proc/PID/fd` does (from its owner's descriptor table).
pub(crate) fn epoll_targets(
    targets: &[EpollTarget],
    describe: impl Fn(u32) -> String,
) -> Vec<EpollTargetReport> {
    targets
        .iter()
        .map(|target| EpollTargetReport {
            tfd: target.tfd,
            target: describe(target.tfd),
            events: format!("{:#x}", target.events),
            event_names: epoll_event_names(target.events),
            data: format!("{:#x}", target.data),
            ino: target.inode,
        })
        .collect()
}

/// An inotify instance's watches.
pub(crate) fn inotify_watches(watches: &[InotifyWatch]) -> Vec<InotifyWatchReport> {
    watches
        .iter()
        .map(|watch| InotifyWatchReport {
            wd: watch.wd,
            path: watch.path.as_deref().unwrap_or_default().to_owned(),
            ino: watch.ino,
            mask: format!("{:#x}", watch.mask),
            mask_names: bit_names(watch.mask, INOTIFY_BITS),
            ignored_mask: format!("{:#x}", watch.ignored_mask),
            ignored_mask_names: bit_names(watch.ignored_mask, INOTIFY_BITS),
        })
        .collect()
}

/// A fanotify instance.
pub(crate) fn fanotify(flags: u32, event_flags: u32, marks: &[FanotifyMark]) -> FanotifyReport {
    FanotifyReport {
        flags: format!("{flags:#x}"),
        event_flags: format!("{event_flags:#x}"),
        marks: marks
            .iter()
            .map(|mark| FanotifyMarkReport {
                mark_type: match &mark.target {
                    MarkTarget::Inode { .. } => "inode".to_owned(),
                    MarkTarget::Mount { .. } => "mount".to_owned(),
                    MarkTarget::Other(kind) => kind.to_string(),
                },
                path: mark
                    .target
                    .path()
                    .map_or_else(String::new, |p| p.to_string()),
                ino: match &mark.target {
                    MarkTarget::Inode { ino, .. } => Some(*ino),
                    _ => None,
                },
                mask: format!("{:#x}", mark.mask),
                mask_names: bit_names(mark.mask, FANOTIFY_BITS),
                ignored_mask: format!("{:#x}", mark.ignored_mask),
                ignored_mask_names: bit_names(mark.ignored_mask, FANOTIFY_BITS),
                mflags: format!("{:#x}", mark.mflags),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_named_in_bit_order_and_the_rest_kept() {
        assert_eq!(
            epoll_event_names(0x9000_0019),
            [
                "EPOLLIN",
                "EPOLLERR",
                "EPOLLHUP",
                "EPOLLEXCLUSIVE",
                "EPOLLET"
            ]
        );
        assert_eq!(
            bit_names(0x0400_0804, INOTIFY_BITS),
            ["IN_ATTRIB", "IN_MOVE_SELF", "IN_EXCL_UNLINK"]
        );
        assert_eq!(
            bit_names(0x0800_000a, FANOTIFY_BITS),
            ["FAN_MODIFY", "FAN_CLOSE_WRITE", "FAN_EVENT_ON_CHILD"]
        );
        assert_eq!(bit_names(0x1000, INOTIFY_BITS), ["0x1000"]);
        assert!(bit_names(0, EPOLL_BITS).is_empty());
    }
}
