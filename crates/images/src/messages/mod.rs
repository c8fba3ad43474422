//! One prost struct per CRIU protobuf message, named as in CRIU's `images/*.proto` in CamelCase
//! (`pagemap_entry` -> [`PagemapEntry`]), with the `.proto` field names, numbers and types.
//!
//! Each submodule holds the messages of one `.proto` file; everything is re-exported here.
//! proto2 semantics: `required` fields are plain values, `optional` scalars are `Option<T>` (so
//! presence is kept), `repeated` fields are `Vec<T>`, enums are `i32` fields with a Rust enum
//! beside them (`FdTypes`, ...). Unknown fields are skipped, so images of newer CRIU decode.
//! `.proto` default values (`[default = ...]`) are not carried over: read an absent optional
//! field as `None`.
//!
//! Every struct also implements [`Described`], the field table that drives the crit-style JSON.
//! Both come from one macro invocation per message, so they cannot disagree.

/// The Rust type of a field: `required` -> `T`, `optional` -> `Option<T>`, `repeated` -> `Vec<T>`.
macro_rules! criu_field_ty {
    (required, $t:ty) => { $t };
    (optional, $t:ty) => { ::core::option::Option<$t> };
    (repeated, $t:ty) => { ::std::vec::Vec<$t> };
}

/// The Rust type of a protobuf scalar type.
macro_rules! criu_scalar_ty {
    (bool) => { bool };
    (uint32) => { u32 };
    (uint64) => { u64 };
    (int32) => { i32 };
    (int64) => { i64 };
    (sint32) => { i32 };
    (sint64) => { i64 };
    (string) => { ::std::string::String };
    (bytes) => { ::std::vec::Vec<u8> };
    (fixed32) => { u32 };
    (fixed64) => { u64 };
}

/// The descriptor kind of a protobuf scalar type.
macro_rules! criu_scalar_kind {
    (bool) => {
        $crate::schema::Kind::Bool
    };
    (uint32) => {
        $crate::schema::Kind::Uint32
    };
    (uint64) => {
        $crate::schema::Kind::Uint64
    };
    (int32) => {
        $crate::schema::Kind::Int32
    };
    (int64) => {
        $crate::schema::Kind::Int64
    };
    (sint32) => {
        $crate::schema::Kind::Sint32
    };
    (sint64) => {
        $crate::schema::Kind::Sint64
    };
    (string) => {
        $crate::schema::Kind::String
    };
    (bytes) => {
        $crate::schema::Kind::Bytes
    };
    (fixed32) => {
        $crate::schema::Kind::Fixed32
    };
    (fixed64) => {
        $crate::schema::Kind::Fixed64
    };
}

/// The proto2 label as a descriptor value.
macro_rules! criu_label {
    (required) => {
        $crate::schema::Label::Required
    };
    (optional) => {
        $crate::schema::Label::Optional
    };
    (repeated) => {
        $crate::schema::Label::Repeated
    };
}

/// CRIU's `(criu).*` options of a field as an [`Opts`](crate::schema::Opts) value.
macro_rules! criu_opts {
    ($($key:ident $(= $val:literal)?),*) => {{
        #[allow(unused_mut)]
        let mut opts = $crate::schema::Opts::NONE;
        $( criu_opts!(@set opts $key $(= $val)?); )*
        opts
    }};
    (@set $o:ident hex) => { $o.hex = true; };
    (@set $o:ident ipadd) => { $o.ipadd = true; };
    (@set $o:ident dev) => { $o.dev = true; };
    (@set $o:ident odev) => { $o.odev = true; };
    (@set $o:ident flags = $v:literal) => { $o.flags = Some($v); };
    (@set $o:ident dict = $v:literal) => { $o.dict = Some($v); };
    (@set $o:ident conv = $v:literal) => { $o.conv = Some($v); };
}

/// One field descriptor.
macro_rules! criu_field_desc {
    ($pname:literal, $tag:literal, $label:ident, $kind:expr, [$($opt:tt)*]) => {
        $crate::schema::FieldDesc {
            name: $pname,
            tag: $tag,
            label: criu_label!($label),
            kind: $kind,
            opts: criu_opts!($($opt)*),
        }
    };
}

/// A prost struct and its field table from one message definition:
/// `field(number, "proto_name"): label type [criu options];`.
macro_rules! criu_message {
    ($(#[$attr:meta])* $name:ident = $proto:literal { $($body:tt)* }) => {
        criu_message!(@munch [$(#[$attr])* $name $proto] [] [] $($body)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): $label:ident message $inner:ident [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost(message, $label, tag = $tag)]
                pub $fname: criu_field_ty!($label, $inner),]
            [$($d)* criu_field_desc!($pname, $tag, $label,
                $crate::schema::Kind::Message(<$inner as $crate::schema::Described>::schema),
                [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): $label:ident enumeration $inner:ident [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, "), a [`", stringify!($inner), "`] value.")]
                #[prost(enumeration($inner), $label, tag = $tag)]
                pub $fname: criu_field_ty!($label, i32),]
            [$($d)* criu_field_desc!($pname, $tag, $label,
                $crate::schema::Kind::Enum($inner::proto_name), [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): repeated string [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost(string, repeated, tag = $tag)]
                pub $fname: criu_field_ty!(repeated, criu_scalar_ty!(string)),]
            [$($d)* criu_field_desc!($pname, $tag, repeated, criu_scalar_kind!(string), [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): repeated bytes [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost(bytes = "vec", repeated, tag = $tag)]
                pub $fname: criu_field_ty!(repeated, criu_scalar_ty!(bytes)),]
            [$($d)* criu_field_desc!($pname, $tag, repeated, criu_scalar_kind!(bytes), [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): repeated $kind:ident [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost($kind, repeated, packed = "false", tag = $tag)]
                pub $fname: criu_field_ty!(repeated, criu_scalar_ty!($kind)),]
            [$($d)* criu_field_desc!($pname, $tag, repeated, criu_scalar_kind!($kind), [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): $label:ident bytes [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost(bytes = "vec", $label, tag = $tag)]
                pub $fname: criu_field_ty!($label, criu_scalar_ty!(bytes)),]
            [$($d)* criu_field_desc!($pname, $tag, $label, criu_scalar_kind!(bytes), [$($opt)*]),]
            $($rest)*);
    };
    (@munch $head:tt [$($f:tt)*] [$($d:tt)*]
        $fname:ident($tag:literal, $pname:literal): $label:ident $kind:ident [$($opt:tt)*]; $($rest:tt)*) => {
        criu_message!(@munch $head
            [$($f)*
                #[doc = concat!("`", $pname, "` (field ", $tag, ").")]
                #[prost($kind, $label, tag = $tag)]
                pub $fname: criu_field_ty!($label, criu_scalar_ty!($kind)),]
            [$($d)* criu_field_desc!($pname, $tag, $label, criu_scalar_kind!($kind), [$($opt)*]),]
            $($rest)*);
    };
    (@munch [$(#[$attr:meta])* $name:ident $proto:literal] [$($f:tt)*] [$($d:tt)*]) => {
        $(#[$attr])*
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct $name {
            $($f)*
        }

        impl $crate::schema::Described for $name {
            fn schema() -> &'static $crate::schema::Schema {
                static SCHEMA: $crate::schema::Schema = $crate::schema::Schema {
                    name: $proto,
                    fields: &[$($d)*],
                };
                &SCHEMA
            }
        }
    };
}

/// A prost enumeration with the `.proto` names of its values.
macro_rules! criu_enum {
    ($(#[$attr:meta])* $name:ident = $proto:literal { $($var:ident = $val:literal),* $(,)? }) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
        #[repr(i32)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($var), "` = ", stringify!($val), ".")]
                $var = $val,
            )*
        }

        impl $name {
            /// The `.proto` name of a value of this enum, `None` for a value it does not define.
            pub fn proto_name(value: i32) -> Option<&'static str> {
                match value {
                    $( $val => Some(stringify!($var)), )*
                    _ => None,
                }
            }
        }
    };
}

pub mod apparmor;
pub mod autofs;
pub mod binfmt_misc;
pub mod bpfmap_data;
pub mod bpfmap_file;
pub mod cgroup;
pub mod core;
pub mod core_aarch64;
pub mod core_arm;
pub mod core_loongarch64;
pub mod core_mips;
pub mod core_ppc64;
pub mod core_riscv64;
pub mod core_s390;
pub mod core_x86;
pub mod cpuinfo;
pub mod creds;
pub mod eventfd;
pub mod eventpoll;
pub mod ext_file;
pub mod fdinfo;
pub mod fh;
pub mod fifo;
pub mod file_lock;
pub mod fown;
pub mod fs;
pub mod fsnotify;
pub mod ghost_file;
pub mod inventory;
pub mod ipc_desc;
pub mod ipc_msg;
pub mod ipc_sem;
pub mod ipc_shm;
pub mod ipc_var;
pub mod macvlan;
pub mod memfd;
pub mod mm;
pub mod mnt;
pub mod netdev;
pub mod ns;
pub mod packet_sock;
pub mod pagemap;
pub mod pidfd;
pub mod pidns;
pub mod pipe;
pub mod pipe_data;
pub mod pstree;
pub mod regfile;
pub mod remap_file_path;
pub mod rlimit;
pub mod rseq;
pub mod sa;
pub mod seccomp;
pub mod siginfo;
pub mod signalfd;
pub mod sit;
pub mod sk_inet;
pub mod sk_netlink;
pub mod sk_opts;
pub mod sk_packet;
pub mod sk_unix;
pub mod stats;
pub mod sysctl;
pub mod tcp_stream;
pub mod time;
pub mod timens;
pub mod timer;
pub mod timerfd;
pub mod tty;
pub mod tun;
pub mod userns;
pub mod utsns;
pub mod vma;

pub use self::apparmor::*;
pub use self::autofs::*;
pub use self::binfmt_misc::*;
pub use self::bpfmap_data::*;
pub use self::bpfmap_file::*;
pub use self::cgroup::*;
pub use self::core::*;
pub use self::core_aarch64::*;
pub use self::core_arm::*;
pub use self::core_loongarch64::*;
pub use self::core_mips::*;
pub use self::core_ppc64::*;
pub use self::core_riscv64::*;
pub use self::core_s390::*;
pub use self::core_x86::*;
pub use self::cpuinfo::*;
pub use self::creds::*;
pub use self::eventfd::*;
pub use self::eventpoll::*;
pub use self::ext_file::*;
pub use self::fdinfo::*;
pub use self::fh::*;
pub use self::fifo::*;
pub use self::file_lock::*;
pub use self::fown::*;
pub use self::fs::*;
pub use self::fsnotify::*;
pub use self::ghost_file::*;
pub use self::inventory::*;
pub use self::ipc_desc::*;
pub use self::ipc_msg::*;
pub use self::ipc_sem::*;
pub use self::ipc_shm::*;
pub use self::ipc_var::*;
pub use self::macvlan::*;
pub use self::memfd::*;
pub use self::mm::*;
pub use self::mnt::*;
pub use self::netdev::*;
pub use self::ns::*;
pub use self::packet_sock::*;
pub use self::pagemap::*;
pub use self::pidfd::*;
pub use self::pidns::*;
pub use self::pipe::*;
pub use self::pipe_data::*;
pub use self::pstree::*;
pub use self::regfile::*;
pub use self::remap_file_path::*;
pub use self::rlimit::*;
pub use self::rseq::*;
pub use self::sa::*;
pub use self::seccomp::*;
pub use self::siginfo::*;
pub use self::signalfd::*;
pub use self::sit::*;
pub use self::sk_inet::*;
pub use self::sk_netlink::*;
pub use self::sk_opts::*;
pub use self::sk_packet::*;
pub use self::sk_unix::*;
pub use self::stats::*;
pub use self::sysctl::*;
pub use self::tcp_stream::*;
pub use self::time::*;
pub use self::timens::*;
pub use self::timer::*;
pub use self::timerfd::*;
pub use self::tty::*;
pub use self::tun::*;
pub use self::userns::*;
pub use self::utsns::*;
pub use self::vma::*;

/// Implements [`CriuMessage`](crate::CriuMessage) for the top-level entry type of an image.
macro_rules! criu_images {
    ($($message:ident => $magic:ident $(, skip $skip:literal)? $(, also $also:ident)?;)*) => {
        $(
            impl $crate::CriuMessage for $message {
                const MAGIC: $crate::Magic = $crate::Magic::$magic;
                $(const SKIP: usize = $skip;)?
                $(const ALSO: &'static [$crate::Magic] = &[$crate::Magic::$also];)?
            }
        )*

        /// The field table of the entries of an image type (for a pagemap: of the entries after
        /// the head; for a ghost file: of the first entry), `None` for images with no entries
        /// of their own (KDAT) or no schema here.
        pub fn entry_schema(magic: $crate::Magic) -> Option<&'static $crate::schema::Schema> {
            use $crate::schema::Described;
            match magic {
                $($crate::Magic::$magic => Some($message::schema()),)*
                $crate::Magic::FifoData => Some(PipeDataEntry::schema()),
                $crate::Magic::GhostFile => Some(GhostFileEntry::schema()),
                _ => None,
            }
        }
    };
}

criu_images! {
    InventoryEntry => Inventory;
    CoreEntry => Core;
    TaskKobjIdsEntry => Ids;
    CredsEntry => Creds;
    UtsnsEntry => Utsns;
    TimensEntry => Timens;
    PidnsEntry => Pidns;
    IpcVarEntry => IpcVar;
    FsEntry => Fs;
    MmEntry => Mm;
    CgroupEntry => Cgroup;
    TcpStreamEntry => TcpStream;
    StatsEntry => Stats;
    PagemapEntry => Pagemap, skip 1;
    PstreeEntry => Pstree;
    RegFileEntry => RegFiles;
    NsFileEntry => NsFiles;
    EventfdFileEntry => EventfdFile;
    EventpollFileEntry => EventpollFile;
    EventpollTfdEntry => EventpollTfd;
    SignalfdEntry => Signalfd;
    TimerfdEntry => Timerfd;
    InotifyFileEntry => InotifyFile;
    InotifyWdEntry => InotifyWd;
    FanotifyFileEntry => FanotifyFile;
    FanotifyMarkEntry => FanotifyMark;
    VmaEntry => Vmas;
    PipeEntry => Pipes;
    FifoEntry => Fifo;
    SaEntry => Sigact;
    NetlinkSkEntry => NetlinkSk;
    RemapFilePathEntry => RemapFpath;
    MntEntry => Mnts;
    TtyFileEntry => TtyFiles;
    TtyInfoEntry => TtyInfo;
    TtyDataEntry => TtyData;
    RlimitEntry => Rlimit;
    TunfileEntry => Tunfile;
    ExtFileEntry => ExtFiles;
    IrmapCacheEntry => IrmapCache;
    FileLockEntry => FileLocks;
    FdinfoEntry => Fdinfo;
    UnixSkEntry => Unixsk;
    InetSkEntry => Inetsk;
    PacketSockEntry => Packetsk;
    ItimerEntry => Itimers;
    PosixTimerEntry => PosixTimers;
    NetDeviceEntry => Netdev;
    PipeDataEntry => PipesData, also FifoData;
    SkPacketEntry => SkQueues;
    IpcShmEntry => IpcnsShm;
    IpcSemEntry => IpcnsSem;
    IpcMsgEntry => IpcnsMsg;
    NetnsEntry => Netns;
    UsernsEntry => Userns;
    SeccompEntry => Seccomp;
    AutofsEntry => Autofs;
    FileEntry => Files;
    CpuinfoEntry => Cpuinfo;
    MemfdInodeEntry => MemfdInode;
    BpfmapFileEntry => BpfmapFile;
    BpfmapDataEntry => BpfmapData;
    ApparmorEntry => Apparmor;
    BinfmtMiscEntry => BinfmtMisc;
    PidfdEntry => Pidfd;
    SignalQueueEntry => Signal;
}
