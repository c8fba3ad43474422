//! Sockets: the socket descriptors of each process, with family, type, protocol, state,
//! addresses, ports, buffer sizes and queued bytes (the dump's file table has the TCP queues of
//! `tcp-stream-INO.img` and the unix socket queues of `sk-queues.img`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{ProcessSockets, Sections, SocketData, SocketNode};
use checkpoint_model::dump::files::{FileKind, FileTable};
use checkpoint_model::dump::Dump;
use checkpoint_model::messages::{InetSkEntry, NetlinkSkEntry, PacketSockEntry, UnixSkEntry};

/// Address family names (linux/socket.h), as crit's `sk` dictionary spells them.
fn family_name(family: u32) -> String {
    match family {
        1 => "UNIX".to_owned(),
        2 => "INET".to_owned(),
        10 => "INET6".to_owned(),
        16 => "NETLINK".to_owned(),
        17 => "PACKET".to_owned(),
        other => other.to_string(),
    }
}

/// Socket type names (linux/net.h).
fn type_name(socket_type: u32) -> String {
    match socket_type {
        1 => "STREAM".to_owned(),
        2 => "DGRAM".to_owned(),
        3 => "RAW".to_owned(),
        4 => "RDM".to_owned(),
        5 => "SEQPACKET".to_owned(),
        10 => "PACKET".to_owned(),
        other => other.to_string(),
    }
}

/// IP protocol names (netinet/in.h).
pub(crate) fn protocol_name(proto: u32) -> String {
    match proto {
        0 => "IP".to_owned(),
        1 => "ICMP".to_owned(),
        2 => "IGMP".to_owned(),
        6 => "TCP".to_owned(),
        17 => "UDP".to_owned(),
        58 => "ICMPV6".to_owned(),
        136 => "UDPLITE".to_owned(),
        other => other.to_string(),
    }
}

/// Socket state names (the kernel's TCP states, which UNIX sockets reuse).
pub(crate) fn state_name(state: u32) -> String {
    match state {
        1 => "ESTABLISHED".to_owned(),
        2 => "SYN_SENT".to_owned(),
        3 => "SYN_RECV".to_owned(),
        4 => "FIN_WAIT1".to_owned(),
        5 => "FIN_WAIT2".to_owned(),
        6 => "TIME_WAIT".to_owned(),
        7 => "CLOSE".to_owned(),
        8 => "CLOSE_WAIT".to_owned(),
        9 => "LAST_ACK".to_owned(),
        10 => "LISTEN".to_owned(),
        11 => "CLOSING".to_owned(),
        other => other.to_string(),
    }
}

/// The state of an inet socket as `ss` names it: a datagram socket (UDP) is `UNCONN` when it
/// is not connected (the kernel keeps `TCP_CLOSE`, 7, for it) and `ESTABLISHED` when it is;
/// other sockets by [`state_name`].
pub(crate) fn inet_state_name(sk: &InetSkEntry) -> String {
    const SOCK_DGRAM: u32 = 2;
    const TCP_CLOSE: u32 = 7;
    if sk.r#type == SOCK_DGRAM && sk.state == TCP_CLOSE {
        "UNCONN".to_owned()
    } else {
        state_name(sk.state)
    }
}

/// An address of `inet_sk_entry`: one u32 for IPv4, four for IPv6, each holding the address
/// bytes in memory order (so little-endian on the wire of the image).
pub(crate) fn ip_address(words: &[u32]) -> String {
    match words {
        [] => String::new(),
        [v4] => Ipv4Addr::from(v4.to_le_bytes()).to_string(),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (chunk, word) in bytes.chunks_exact_mut(4).zip([a, b, c, d]) {
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            Ipv6Addr::from(bytes).to_string()
        }
        other => other
            .iter()
            .map(|word| format!("{word:08x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

/// `addr:port` of an inet address, `[addr]:port` for IPv6.
pub(crate) fn endpoint_text(words: &[u32], port: u32) -> String {
    let address = ip_address(words);
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// A UNIX socket name as `ss` prints it: abstract names (leading NUL) get `@`, paths lose
/// their padding NULs (see [`checkpoint_model::dump::text::unix_name`]).
pub(crate) fn unix_name(name: &[u8]) -> String {
    checkpoint_model::dump::text::unix_name(name)
}

fn inet_node(files: &FileTable, fd: u32, sk: &InetSkEntry) -> SocketNode {
    let mut data = SocketData {
        family: family_name(sk.family),
        socket_type: type_name(sk.r#type),
        state: inet_state_name(sk),
        src: ip_address(&sk.src_addr),
        src_port: Some(sk.src_port),
        dst: ip_address(&sk.dst_addr),
        dst_port: Some(sk.dst_port),
        ino: Some(sk.ino),
        send_buf: Some(sk.opts.so_sndbuf),
        recv_buf: Some(sk.opts.so_rcvbuf),
        ..SocketData::default()
    };
    if let Some(queued) = files.tcp_queued(sk.ino) {
        data.send_queue = Some(queued.send);
        data.recv_queue = Some(queued.recv);
    }
    SocketNode {
        fd,
        protocol: protocol_name(sk.proto),
        data,
    }
}

fn unix_node(files: &FileTable, fd: u32, sk: &UnixSkEntry) -> SocketNode {
    SocketNode {
        fd,
        protocol: "UNIX".to_owned(),
        data: SocketData {
            family: "UNIX".to_owned(),
            socket_type: type_name(sk.r#type),
            state: state_name(sk.state),
            address: unix_name(&sk.name),
            ino: Some(sk.ino),
            peer: (sk.peer != 0).then_some(sk.peer),
            send_buf: Some(sk.opts.so_sndbuf),
            recv_buf: Some(sk.opts.so_rcvbuf),
            recv_queue: files.unix_queued(sk.id),
            ..SocketData::default()
        },
    }
}

fn packet_node(fd: u32, sk: &PacketSockEntry) -> SocketNode {
    SocketNode {
        fd,
        protocol: "PACKET".to_owned(),
        data: SocketData {
            family: "PACKET".to_owned(),
            socket_type: type_name(sk.r#type),
            send_buf: Some(sk.opts.so_sndbuf),
            recv_buf: Some(sk.opts.so_rcvbuf),
            ..SocketData::default()
        },
    }
}

fn netlink_node(fd: u32, sk: &NetlinkSkEntry) -> SocketNode {
    SocketNode {
        fd,
        protocol: "NETLINK".to_owned(),
        data: SocketData {
            family: "NETLINK".to_owned(),
            state: state_name(sk.state),
            ino: Some(sk.ino),
            send_buf: Some(sk.opts.so_sndbuf),
            recv_buf: Some(sk.opts.so_rcvbuf),
            ..SocketData::default()
        },
    }
}

/// The report node of the socket `kind` held by descriptor `fd`; `None` for other files.
pub(crate) fn socket_node(files: &FileTable, fd: u32, kind: &FileKind) -> Option<SocketNode> {
    match kind {
        FileKind::Inet(sk) => Some(inet_node(files, fd, sk)),
        FileKind::Unix(sk) => Some(unix_node(files, fd, sk)),
        FileKind::Packet(sk) => Some(packet_node(fd, sk)),
        FileKind::Netlink(sk) => Some(netlink_node(fd, sk)),
        _ => None,
    }
}

/// The `--sockets` section: processes holding sockets (all, or `--pid`'s subtree), each with
/// its sockets in fd order. Processes whose descriptors cannot be read are left out here; the
/// files section says why.
pub(crate) fn collect_sockets(dump: &Dump, sections: &Sections) -> Vec<ProcessSockets> {
    let files = dump.files();
    let mut out = Vec::new();
    for task in super::selected_tasks(dump, sections) {
        let Ok(open) = dump.open_files(task.pid) else {
            continue;
        };
        let open_sockets: Vec<SocketNode> = open
            .fds
            .iter()
            .filter_map(|fd| socket_node(files, fd.fd, &files.get(fd.id)?.kind))
            .collect();
        if !open_sockets.is_empty() {
            out.push(ProcessSockets {
                pid: task.pid,
                open_sockets,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_in_memory_byte_order() {
        assert_eq!(
            ip_address(&[u32::from_le_bytes([127, 0, 0, 1])]),
            "127.0.0.1"
        );
        assert_eq!(ip_address(&[0]), "0.0.0.0");
        let loopback6 = [0, 0, 0, u32::from_le_bytes([0, 0, 0, 1])];
        assert_eq!(ip_address(&loopback6), "::1");
        assert_eq!(ip_address(&[]), "");
        assert_eq!(ip_address(&[1, 2]), "00000001:00000002");
    }

    #[test]
    fn names() {
        assert_eq!(state_name(10), "LISTEN");
        assert_eq!(protocol_name(6), "TCP");
        assert_eq!(family_name(10), "INET6");
        assert_eq!(type_name(2), "DGRAM");
        assert_eq!(state_name(99), "99");
        assert_eq!(unix_name(b"\0abstract"), "@abstract");
        assert_eq!(unix_name(b"/run/a.sock"), "/run/a.sock");
    }
}
