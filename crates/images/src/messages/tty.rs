//! Messages of CRIU's `tty.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `winsize_entry` (tty.proto).
    WinsizeEntry = "winsize_entry" {
        ws_row(1, "ws_row"): required uint32 [];
        ws_col(2, "ws_col"): required uint32 [];
        ws_xpixel(3, "ws_xpixel"): required uint32 [];
        ws_ypixel(4, "ws_ypixel"): required uint32 [];
    }
}

criu_message! {
    /// `termios_entry` (tty.proto).
    TermiosEntry = "termios_entry" {
        c_iflag(1, "c_iflag"): required uint32 [];
        c_oflag(2, "c_oflag"): required uint32 [];
        c_cflag(3, "c_cflag"): required uint32 [];
        c_lflag(4, "c_lflag"): required uint32 [];
        c_line(5, "c_line"): required uint32 [];
        c_ispeed(6, "c_ispeed"): required uint32 [];
        c_ospeed(7, "c_ospeed"): required uint32 [];
        c_cc(8, "c_cc"): repeated uint32 [];
    }
}

criu_message! {
    /// `tty_pty_entry` (tty.proto).
    TtyPtyEntry = "tty_pty_entry" {
        index(1, "index"): required uint32 [];
    }
}

criu_enum! {
    /// `TtyType` (tty.proto).
    TtyType = "TtyType" {
        UNKNOWN = 0,
        PTY = 1,
        CONSOLE = 2,
        VT = 3,
        CTTY = 4,
        EXT_TTY = 5,
        SERIAL = 6,
    }
}

criu_message! {
    /// `tty_data_entry` (tty.proto).
    TtyDataEntry = "tty_data_entry" {
        tty_id(1, "tty_id"): required uint32 [];
        data(2, "data"): required bytes [];
    }
}

criu_message! {
    /// `tty_info_entry` (tty.proto).
    TtyInfoEntry = "tty_info_entry" {
        id(1, "id"): required uint32 [];
        r#type(2, "type"): required enumeration TtyType [];
        locked(3, "locked"): required bool [];
        exclusive(4, "exclusive"): required bool [];
        packet_mode(5, "packet_mode"): required bool [];
        sid(6, "sid"): required uint32 [];
        pgrp(7, "pgrp"): required uint32 [];
        rdev(8, "rdev"): required uint32 [];
        termios(9, "termios"): optional message TermiosEntry [];
        termios_locked(10, "termios_locked"): optional message TermiosEntry [];
        winsize(11, "winsize"): optional message WinsizeEntry [];
        pty(12, "pty"): optional message TtyPtyEntry [];
        dev(13, "dev"): optional uint32 [];
        uid(14, "uid"): optional uint32 [];
        gid(15, "gid"): optional uint32 [];
    }
}

criu_message! {
    /// `tty_file_entry` (tty.proto).
    TtyFileEntry = "tty_file_entry" {
        id(1, "id"): required uint32 [];
        tty_info_id(2, "tty_info_id"): required uint32 [];
        flags(3, "flags"): required uint32 [hex];
        fown(4, "fown"): required message FownEntry [];
        regf_id(6, "regf_id"): optional uint32 [];
    }
}
