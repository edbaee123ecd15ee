//! Local routes on `lo` for declared literal addresses and ranges (the "AnyIP" trick the kernel
//! already uses for 127.0.0.0/8). The sandbox's network namespace has only `lo`, so a connect to
//! `10.0.0.5` would fail with ENETUNREACH; with `local 10.0.0.5/32 dev lo` in the local table it
//! lands on the relay listening on that port (bound to `[::]`), whose owner, the broker, reads
//! the dialled address, checks the live grant and dials the real endpoint from the host.
//!
//! One rtnetlink request per prefix (RTM_NEWROUTE), built here as plain bytes and sent on a
//! NETLINK_ROUTE socket; no `unsafe`.

use ipnet::IpNet;
use std::net::IpAddr;

/// The loopback device's index: the kernel creates `lo` first in every network namespace
/// (`LOOPBACK_IFINDEX` in include/net/net_namespace.h).
const LOOPBACK_IFINDEX: u32 = 1;
const NLMSG_HDR_LEN: usize = 16;
const RTMSG_LEN: usize = 12;
// From include/uapi/linux/netlink.h; libc spells them as c_int on some targets only.
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 0x2;

/// Whether `net` needs a route: 127.0.0.0/8 and ::1 are local in every namespace already.
pub fn needs_route(net: &IpNet) -> bool {
    match net {
        IpNet::V4(n) => !(n.prefix_len() >= 8 && n.addr().is_loopback()),
        IpNet::V6(n) => !(n.prefix_len() == 128 && n.addr().is_loopback()),
    }
}

/// The RTM_NEWROUTE request for `local NET dev lo table local` (created or replaced, acked).
pub fn new_local_route(net: &IpNet, seq: u32) -> Vec<u8> {
    let net = net.trunc();
    let (family, addr): (u8, Vec<u8>) = match net.network() {
        IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
    };
    let mut body = Vec::with_capacity(RTMSG_LEN + 32);
    // struct rtmsg
    body.extend_from_slice(&[
        family,
        net.prefix_len(),
        0, // rtm_src_len
        0, // rtm_tos
        libc::RT_TABLE_LOCAL,
        libc::RTPROT_BOOT,
        libc::RT_SCOPE_HOST,
        libc::RTN_LOCAL,
    ]);
    body.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    push_attr(&mut body, libc::RTA_DST, &addr);
    push_attr(&mut body, libc::RTA_OIF, &LOOPBACK_IFINDEX.to_ne_bytes());
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    let len = u32::try_from(NLMSG_HDR_LEN + body.len()).unwrap_or(u32::MAX);
    let mut msg = Vec::with_capacity(NLMSG_HDR_LEN + body.len());
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&libc::RTM_NEWROUTE.to_ne_bytes());
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel fills it in
    msg.extend_from_slice(&body);
    msg
}

/// A route attribute, padded to 4 bytes.
fn push_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = u16::try_from(4 + data.len()).unwrap_or(u16::MAX);
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// Reads the kernel's answer to request `seq`: `Ok` for an ack, the errno it reports otherwise.
pub fn parse_ack(reply: &[u8], seq: u32) -> std::io::Result<()> {
    let bad = || std::io::Error::other("malformed netlink reply");
    let u32_at = |i: usize| reply.get(i..i + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes);
    let kind = reply.get(4..6).and_then(|b| b.try_into().ok()).map(u16::from_ne_bytes).ok_or_else(bad)?;
    if kind != NLMSG_ERROR || u32_at(8).ok_or_else(bad)? != seq {
        return Err(bad());
    }
    let code = reply.get(16..20).and_then(|b| b.try_into().ok()).map(i32::from_ne_bytes).ok_or_else(bad)?;
    match code {
        0 => Ok(()),
        c => Err(std::io::Error::from_raw_os_error(c.saturating_neg())),
    }
}

/// Adds a local route on `lo` for each of `nets` in the current network namespace (needs
/// CAP_NET_ADMIN there, which PID 1 holds before it drops everything).
pub fn add_local_routes(nets: &[IpNet]) -> Result<(), String> {
    use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
    if nets.is_empty() {
        return Ok(());
    }
    // Protocol 0 is NETLINK_ROUTE (rustix has no constant for a zero protocol).
    let sock = rustix::net::socket_with(AddressFamily::NETLINK, SocketType::RAW, SocketFlags::CLOEXEC, None)
        .map_err(|e| format!("netlink socket: {e}"))?;
    let mut reply = vec![0u8; 8192];
    for (seq, net) in (1u32..).zip(nets) {
        let fail = |e: std::io::Error| format!("local route {net} on lo: {e}");
        // An unconnected netlink socket sends to the kernel.
        rustix::net::send(&sock, &new_local_route(net, seq), SendFlags::empty()).map_err(|e| fail(e.into()))?;
        let (n, _) = rustix::net::recv(&sock, &mut reply[..], RecvFlags::empty()).map_err(|e| fail(e.into()))?;
        parse_ack(&reply[..n], seq).map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_request_ip_route_would_send() {
        let net: IpNet = "192.0.2.77/24".parse().unwrap();
        let m = new_local_route(&net, 7);
        assert_eq!(m.len(), 16 + 12 + 8 + 8);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()) as usize, m.len());
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), 24, "RTM_NEWROUTE");
        assert_eq!(u16::from_ne_bytes(m[6..8].try_into().unwrap()), 0x505, "request, ack, create, replace");
        assert_eq!(u32::from_ne_bytes(m[8..12].try_into().unwrap()), 7);
        // family, /24, table local, proto boot, scope host, type local
        assert_eq!(&m[16..24], &[2, 24, 0, 0, 255, 3, 254, 2]);
        // RTA_DST with the network address (host bits cleared), then RTA_OIF = 1
        assert_eq!(&m[28..36], &[8, 0, 1, 0, 192, 0, 2, 0]);
        assert_eq!(&m[36..44], &[8, 0, 4, 0, 1, 0, 0, 0]);
        let v6 = new_local_route(&"2001:db8::1/128".parse().unwrap(), 1);
        assert_eq!(v6.len(), 16 + 12 + 20 + 8);
        assert_eq!(&v6[16..18], &[10, 128]);
        assert_eq!(&v6[28..32], &[20, 0, 1, 0]);
    }

    #[test]
    fn reads_acks_and_errors() {
        let reply = |code: i32, seq: u32| {
            let mut r = vec![0u8; 36];
            r[0..4].copy_from_slice(&36u32.to_ne_bytes());
            r[4..6].copy_from_slice(&2u16.to_ne_bytes());
            r[8..12].copy_from_slice(&seq.to_ne_bytes());
            r[16..20].copy_from_slice(&code.to_ne_bytes());
            r
        };
        assert!(parse_ack(&reply(0, 3), 3).is_ok());
        assert_eq!(parse_ack(&reply(-1, 3), 3).unwrap_err().raw_os_error(), Some(1));
        assert!(parse_ack(&reply(0, 4), 3).is_err(), "another request's answer");
        assert!(parse_ack(&[0u8; 6], 3).is_err());
    }

    #[test]
    fn loopback_needs_no_route() {
        for n in ["127.0.0.1/32", "127.1.0.0/16", "::1/128"] {
            assert!(!needs_route(&n.parse().unwrap()), "{n}");
        }
        for n in ["10.0.0.5/32", "0.0.0.0/0", "192.0.2.0/24", "fd00::/64", "::/0"] {
            assert!(needs_route(&n.parse().unwrap()), "{n}");
        }
    }
}
