//! The magic numbers of CRIU image files (CRIU's `criu/include/magic.h`) and their crit names.
//!
//! An image starts with a u32 little-endian magic. Since images v1.1 that first word is
//! [`IMG_COMMON`] or [`IMG_SERVICE`] (stats-dump, irmap-cache) and the second word names the
//! image type; `inventory.img` alone keeps the single-word form. `pages-*.img` and the other raw
//! images have no magic at all (`RAW_IMAGE_MAGIC` is 0). Aliases of magic.h
//! (`SHMEM_PAGEMAP`, `PAGES_OLD`, `PSIGNAL`, ...) share a value with the name listed here, as in
//! crit's table.

use std::fmt;

/// First word of every image except inventory.img ("Sarov").
pub const IMG_COMMON: u32 = 0x5456_4319;
/// First word of service files: stats-dump and irmap-cache ("Zlatoust").
pub const IMG_SERVICE: u32 = 0x5510_5940;

macro_rules! magics {
    ($($variant:ident = $value:literal => $name:literal,)*) => {
        /// An image type, by its magic number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Magic {
            $(
                #[doc = concat!("`", $name, "_MAGIC` = `", stringify!($value), "`.")]
                $variant,
            )*
        }

        impl Magic {
            /// Every known image magic, in the order of magic.h.
            pub const ALL: &'static [Magic] = &[$(Magic::$variant,)*];

            /// The image type with this magic number.
            pub fn from_u32(value: u32) -> Option<Magic> {
                match value {
                    $($value => Some(Magic::$variant),)*
                    _ => None,
                }
            }

            /// The magic number.
            pub fn value(self) -> u32 {
                match self {
                    $(Magic::$variant => $value,)*
                }
            }

            /// The name crit prints in `"magic"` (magic.h's name without `_MAGIC`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Magic::$variant => $name,)*
                }
            }

            /// The image type with this crit name.
            pub fn from_name(name: &str) -> Option<Magic> {
                match name {
                    $($name => Some(Magic::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

magics! {
    Inventory = 0x5831_3116 => "INVENTORY",
    Pstree = 0x5027_3030 => "PSTREE",
    Fdinfo = 0x5621_3732 => "FDINFO",
    Pagemap = 0x5608_4025 => "PAGEMAP",
    Core = 0x5505_3847 => "CORE",
    Ids = 0x5443_2030 => "IDS",
    Vmas = 0x5412_3737 => "VMAS",
    Pipes = 0x5651_3555 => "PIPES",
    PipesData = 0x5645_3709 => "PIPES_DATA",
    Fifo = 0x5836_4939 => "FIFO",
    FifoData = 0x5933_3054 => "FIFO_DATA",
    Sigact = 0x5534_4201 => "SIGACT",
    Unixsk = 0x5437_3943 => "UNIXSK",
    Inetsk = 0x5644_3851 => "INETSK",
    Packetsk = 0x6045_4618 => "PACKETSK",
    Itimers = 0x5746_4056 => "ITIMERS",
    PosixTimers = 0x5260_3957 => "POSIX_TIMERS",
    SkQueues = 0x5626_4026 => "SK_QUEUES",
    Utsns = 0x5447_3203 => "UTSNS",
    Creds = 0x5402_3547 => "CREDS",
    IpcVar = 0x5311_5007 => "IPC_VAR",
    IpcnsShm = 0x4628_3044 => "IPCNS_SHM",
    IpcnsMsg = 0x5545_3737 => "IPCNS_MSG",
    IpcnsSem = 0x5957_3019 => "IPCNS_SEM",
    RegFiles = 0x5036_3636 => "REG_FILES",
    ExtFiles = 0x5925_5641 => "EXT_FILES",
    Fs = 0x5140_3912 => "FS",
    Mm = 0x5749_2820 => "MM",
    RemapFpath = 0x5913_3954 => "REMAP_FPATH",
    GhostFile = 0x5258_3605 => "GHOST_FILE",
    TcpStream = 0x5146_5506 => "TCP_STREAM",
    EventfdFile = 0x4452_3722 => "EVENTFD_FILE",
    EventpollFile = 0x4502_3858 => "EVENTPOLL_FILE",
    EventpollTfd = 0x4443_3746 => "EVENTPOLL_TFD",
    Signalfd = 0x5732_3820 => "SIGNALFD",
    InotifyFile = 0x4842_4431 => "INOTIFY_FILE",
    InotifyWd = 0x5456_2009 => "INOTIFY_WD",
    Mnts = 0x5556_3928 => "MNTS",
    Netdev = 0x5737_3951 => "NETDEV",
    Netns = 0x5593_3752 => "NETNS",
    TtyFiles = 0x5943_3025 => "TTY_FILES",
    TtyInfo = 0x5945_3036 => "TTY_INFO",
    TtyData = 0x5941_3026 => "TTY_DATA",
    FileLocks = 0x5432_3616 => "FILE_LOCKS",
    Rlimit = 0x5711_3925 => "RLIMIT",
    FanotifyFile = 0x5509_6122 => "FANOTIFY_FILE",
    FanotifyMark = 0x5650_6035 => "FANOTIFY_MARK",
    Signal = 0x5925_5647 => "SIGNAL",
    NetlinkSk = 0x5800_5614 => "NETLINK_SK",
    NsFiles = 0x6139_4011 => "NS_FILES",
    Tunfile = 0x5714_3751 => "TUNFILE",
    Cgroup = 0x5938_3330 => "CGROUP",
    Timerfd = 0x5049_3712 => "TIMERFD",
    Cpuinfo = 0x6140_4013 => "CPUINFO",
    Userns = 0x5547_4906 => "USERNS",
    Seccomp = 0x6441_3049 => "SECCOMP",
    BinfmtMisc = 0x6734_3323 => "BINFMT_MISC",
    Autofs = 0x4935_3943 => "AUTOFS",
    Files = 0x5630_3138 => "FILES",
    MemfdInode = 0x4845_3499 => "MEMFD_INODE",
    Timens = 0x4311_4433 => "TIMENS",
    Pidns = 0x6115_7326 => "PIDNS",
    BpfmapFile = 0x5750_6142 => "BPFMAP_FILE",
    BpfmapData = 0x6432_4033 => "BPFMAP_DATA",
    Apparmor = 0x5942_3047 => "APPARMOR",
    Pidfd = 0x5443_5556 => "PIDFD",
    Stats = 0x5709_3306 => "STATS",
    IrmapCache = 0x5700_4059 => "IRMAP_CACHE",
    Kdat = 0x5702_3458 => "KDAT",
}

impl Magic {
    /// The first word this image type is written with: [`IMG_SERVICE`] for stats and
    /// irmap-cache, none for inventory, [`IMG_COMMON`] for the rest.
    pub fn first_word(self) -> Option<u32> {
        match self {
            Magic::Inventory => None,
            Magic::Stats | Magic::IrmapCache => Some(IMG_SERVICE),
            _ => Some(IMG_COMMON),
        }
    }
}

impl fmt::Display for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_round_trip() {
        for &magic in Magic::ALL {
            assert_eq!(Magic::from_u32(magic.value()), Some(magic));
            assert_eq!(Magic::from_name(magic.name()), Some(magic));
        }
    }

    #[test]
    fn known_values() {
        let table = [
            (0x5831_3116, "INVENTORY"),
            (0x5027_3030, "PSTREE"),
            (0x5505_3847, "CORE"),
            (0x5608_4025, "PAGEMAP"),
            (0x5709_3306, "STATS"),
            (0x5645_3709, "PIPES_DATA"),
            (0x5443_5556, "PIDFD"),
            (0x6441_3049, "SECCOMP"),
        ];
        for (value, name) in table {
            assert_eq!(Magic::from_u32(value).map(Magic::name), Some(name));
        }
        assert_eq!(Magic::from_u32(0x1234_5678), None);
        assert_eq!(Magic::from_u32(IMG_COMMON), None);
        assert_eq!(Magic::ALL.len(), 69);
    }
}
