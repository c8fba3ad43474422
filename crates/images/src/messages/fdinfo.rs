//! Messages of CRIU's `fdinfo.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `fd_types` (fdinfo.proto).
    FdTypes = "fd_types" {
        UND = 0,
        REG = 1,
        PIPE = 2,
        FIFO = 3,
        INETSK = 4,
        UNIXSK = 5,
        EVENTFD = 6,
        EVENTPOLL = 7,
        INOTIFY = 8,
        SIGNALFD = 9,
        PACKETSK = 10,
        TTY = 11,
        FANOTIFY = 12,
        NETLINKSK = 13,
        NS = 14,
        TUNF = 15,
        EXT = 16,
        TIMERFD = 17,
        MEMFD = 18,
        BPFMAP = 19,
        PIDFD = 20,
        CTL_TTY = 65534,
        AUTOFS_PIPE = 65535,
    }
}

criu_message! {
    /// `fdinfo_entry` (fdinfo.proto).
    FdinfoEntry = "fdinfo_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [];
        r#type(3, "type"): required enumeration FdTypes [];
        fd(4, "fd"): required uint32 [];
        xattr_security_selinux(5, "xattr_security_selinux"): optional string [];
    }
}

criu_message! {
    /// `file_entry` (fdinfo.proto).
    FileEntry = "file_entry" {
        r#type(1, "type"): required enumeration FdTypes [];
        id(2, "id"): required uint32 [];
        reg(3, "reg"): optional message RegFileEntry [];
        isk(4, "isk"): optional message InetSkEntry [];
        nsf(5, "nsf"): optional message NsFileEntry [];
        psk(6, "psk"): optional message PacketSockEntry [];
        nlsk(7, "nlsk"): optional message NetlinkSkEntry [];
        efd(8, "efd"): optional message EventfdFileEntry [];
        epfd(9, "epfd"): optional message EventpollFileEntry [];
        sgfd(10, "sgfd"): optional message SignalfdEntry [];
        tunf(11, "tunf"): optional message TunfileEntry [];
        tfd(12, "tfd"): optional message TimerfdEntry [];
        ify(13, "ify"): optional message InotifyFileEntry [];
        ffy(14, "ffy"): optional message FanotifyFileEntry [];
        ext(15, "ext"): optional message ExtFileEntry [];
        usk(16, "usk"): optional message UnixSkEntry [];
        fifo(17, "fifo"): optional message FifoEntry [];
        pipe(18, "pipe"): optional message PipeEntry [];
        tty(19, "tty"): optional message TtyFileEntry [];
        memfd(20, "memfd"): optional message MemfdFileEntry [];
        bpf(21, "bpf"): optional message BpfmapFileEntry [];
        pidfd(22, "pidfd"): optional message PidfdEntry [];
    }
}
