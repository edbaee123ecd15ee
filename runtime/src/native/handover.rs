//! Stage 2 opens the sockets a [`NetPlan`] calls for inside the sandbox's network namespace and
//! hands them to the supervisor over a socketpair (SCM_RIGHTS), keeping none: the tool never
//! holds them, and the supervisor, outside, is the only way out.
//!
//! The first message carries the list of what is handed over (JSON) and the first descriptors;
//! the rest follow in further messages, at most [`FDS_PER_MESSAGE`] each.
//!
//! The same channel carries, the other way and before anything starts, the descriptors stage 1
//! needs from the supervisor: the cgroups' joining descriptors, and the grant's paths as the
//! `O_PATH` descriptors their checks opened (the sandbox mounts those, never the paths).

use super::net::{MAX_RELAYS, NetPlan, Opened};
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Descriptors per message: the kernel takes at most 253 (SCM_MAX_FD) in one.
const FDS_PER_MESSAGE: usize = 250;
/// Room for the JSON list of everything handed over (about 30 bytes per socket).
const HEADER_BUFFER: usize = 64 * 1024;

/// Stage 2: brings `lo` up, routes the declared literal addresses to it, opens the planned
/// sockets and sends them over `channel`.
pub fn open_inside(plan: &NetPlan, channel: &OwnedFd) -> Result<(), String> {
    super::sys::loopback_up().map_err(|e| format!("bring lo up: {e}"))?;
    super::route::add_local_routes(&plan.local_routes)?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    let mut kinds: Vec<Opened> = Vec::new();
    if plan.dns {
        let stub = SocketAddr::from(([127, 0, 0, 1], 53));
        fds.push(udp_socket(stub, false).map_err(|e| format!("DNS stub {stub}: {e}"))?);
        kinds.push(Opened::Dns);
    }
    for &p in &plan.relay_ports {
        fds.push(tcp_relay(p).map_err(|e| format!("relay port {p}: {e}"))?);
        kinds.push(Opened::Relay(p));
    }
    for &a in &plan.udp {
        fds.push(udp_socket(a, false).map_err(|e| format!("UDP relay {a}: {e}"))?);
        kinds.push(Opened::Udp(a));
    }
    for &p in &plan.udp_wildcard {
        let any = SocketAddr::from(([0, 0, 0, 0], p));
        fds.push(udp_socket(any, true).map_err(|e| format!("UDP socket {any} for *.suffix names: {e}"))?);
        kinds.push(Opened::UdpWildcard(p));
    }
    if let Some(p) = plan.proxy_port {
        let l = std::net::TcpListener::bind(("127.0.0.1", p)).map_err(|e| format!("proxy port {p}: {e}"))?;
        fds.push(l.into());
        kinds.push(Opened::Proxy);
    }
    let header = serde_json::to_vec(&kinds).map_err(|e| e.to_string())?;
    let fds: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
    let mut chunks = fds.chunks(FDS_PER_MESSAGE);
    send(channel, &header, chunks.next().unwrap_or(&[]))?;
    for chunk in chunks {
        send(channel, b"+", chunk)?;
    }
    Ok(())
}

/// Supervisor, before it sends the spec: the descriptors stage 1 joins the sandbox's cgroups
/// through (possibly none; the spec says how many).
pub fn send_cgroups(channel: &OwnedFd, joiners: Vec<OwnedFd>) -> Result<(), String> {
    if joiners.is_empty() {
        return Ok(());
    }
    let fds: Vec<BorrowedFd<'_>> = joiners.iter().map(AsFd::as_fd).collect();
    send(channel, b"cgroups", &fds)
}

/// Stage 1, once it has the spec: the `count` cgroup joiners [`send_cgroups`] sent.
pub fn receive_cgroups(channel: &OwnedFd, count: usize) -> std::io::Result<Vec<OwnedFd>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    receive_tagged(channel, b"cgroups", count)?.ok_or_else(|| std::io::Error::other("no cgroup hand-over"))
}

/// Supervisor, after the cgroups: the descriptors of the grant's paths, in the order of
/// `Spec::handles`, in messages of at most [`FDS_PER_MESSAGE`].
pub fn send_paths(channel: &OwnedFd, paths: &[BorrowedFd<'_>]) -> Result<(), String> {
    for chunk in paths.chunks(FDS_PER_MESSAGE) {
        send(channel, b"paths", chunk)?;
    }
    Ok(())
}

/// Stage 1, after the cgroups: the `count` descriptors [`send_paths`] sent.
pub fn receive_paths(channel: &OwnedFd, count: usize) -> std::io::Result<Vec<OwnedFd>> {
    let mut fds = Vec::with_capacity(count);
    while fds.len() < count {
        let want = (count - fds.len()).min(FDS_PER_MESSAGE);
        let more = receive_tagged(channel, b"paths", want)?;
        fds.extend(more.ok_or_else(|| std::io::Error::other("granted paths' hand-over cut short"))?);
    }
    Ok(fds)
}

/// One message of exactly `count` descriptors under `tag`; `None` if the channel closed first.
fn receive_tagged(channel: &OwnedFd, tag: &[u8], count: usize) -> std::io::Result<Option<Vec<OwnedFd>>> {
    let mut buf = [0u8; 16];
    let (n, fds) = receive_one(channel, &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if &buf[..n] != tag || fds.len() != count {
        return Err(std::io::Error::other(format!("unexpected message instead of `{}`", String::from_utf8_lossy(tag))));
    }
    Ok(Some(fds))
}

/// Stage 2, once its seccomp filter is installed: the filter's notification listener, last.
pub fn send_listener(channel: &OwnedFd, listener: OwnedFd) -> Result<(), String> {
    send(channel, b"seccomp", &[listener.as_fd()])
}

/// Supervisor, after [`receive`]: the seccomp listener (`None` if the sandbox failed first).
pub fn receive_listener(channel: &OwnedFd) -> std::io::Result<Option<OwnedFd>> {
    Ok(receive_tagged(channel, b"seccomp", 1)?.and_then(|mut fds| fds.pop()))
}

/// One listener per port on `[::]`, dual-stack: IPv4 connections arrive as `::ffff:a.b.c.d`,
/// whatever address (loopback, stand-in, or routed literal) the tool dialled. A kernel without
/// IPv6 gets `0.0.0.0` instead.
fn tcp_relay(port: u16) -> std::io::Result<OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let s = match rustix::net::socket_with(AddressFamily::INET6, SocketType::STREAM, SocketFlags::CLOEXEC, None) {
        Ok(s) => s,
        Err(rustix::io::Errno::AFNOSUPPORT) => return Ok(std::net::TcpListener::bind(("0.0.0.0", port))?.into()),
        Err(e) => return Err(e.into()),
    };
    sockopt::set_ipv6_v6only(&s, false)?;
    rustix::net::bind(&s, &SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0)))?;
    rustix::net::listen(&s, 128)?;
    Ok(s)
}

/// A UDP socket bound at `at`: an exact address (the DNS stub, a relay), or `0.0.0.0` with
/// `pktinfo` (for `*.suffix` names: the supervisor learns each datagram's destination).
///
/// Every one has SO_REUSEADDR, without which the wildcard bind would fail on a port that an
/// exact socket holds (or the other way round); for unicast the kernel delivers a datagram to
/// the socket whose bound address matches it exactly before a wildcard one, so the stub and
/// the exact relays keep their traffic. Nothing outside the namespace can bind here, and the
/// tool could only take its own traffic. An IPv6 address routed to `lo` is local but not
/// assigned to it, which IPv6 (unlike IPv4) requires for a bind unless the socket asks for
/// freebind.
fn udp_socket(at: SocketAddr, pktinfo: bool) -> std::io::Result<OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let family = if at.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
    let s = rustix::net::socket_with(family, SocketType::DGRAM, SocketFlags::CLOEXEC, None)?;
    sockopt::set_socket_reuseaddr(&s, true)?;
    if at.is_ipv6() {
        sockopt::set_ipv6_freebind(&s, true)?;
    }
    if pktinfo {
        super::sys::set_recv_pktinfo(s.as_fd())?;
    }
    rustix::net::bind(&s, &at)?;
    Ok(s)
}

fn send(channel: &OwnedFd, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), String> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FDS_PER_MESSAGE))];
    let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(rustix::net::SendAncillaryMessage::ScmRights(fds)) {
        return Err("too many descriptors in one message".into());
    }
    rustix::net::sendmsg(channel, &[IoSlice::new(bytes)], &mut control, rustix::net::SendFlags::empty())
        .map_err(|e| format!("hand sockets to the supervisor: {e}"))?;
    Ok(())
}

/// Supervisor: receives what stage 2 opened (blocking; run it off the async threads). An
/// empty list if the sandbox failed before opening anything.
pub fn receive(channel: &OwnedFd) -> std::io::Result<Vec<(Opened, OwnedFd)>> {
    let mut buf = vec![0u8; HEADER_BUFFER];
    let (n, mut fds) = receive_one(channel, &mut buf)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let kinds: Vec<Opened> = serde_json::from_slice(&buf[..n]).map_err(std::io::Error::other)?;
    // The DNS stub and the proxy besides the relays.
    if kinds.len() > MAX_RELAYS + 2 {
        return Err(std::io::Error::other("more sockets handed over than a sandbox may have"));
    }
    while fds.len() < kinds.len() {
        let (n, more) = receive_one(channel, &mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("socket hand-over cut short"));
        }
        fds.extend(more);
    }
    if kinds.len() != fds.len() {
        return Err(std::io::Error::other("socket hand-over does not match its description"));
    }
    Ok(kinds.into_iter().zip(fds).collect())
}

fn receive_one(channel: &OwnedFd, buf: &mut [u8]) -> std::io::Result<(usize, Vec<OwnedFd>)> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags};
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FDS_PER_MESSAGE))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg =
        rustix::net::recvmsg(channel, &mut [std::io::IoSliceMut::new(buf)], &mut control, RecvFlags::CMSG_CLOEXEC)?;
    let mut fds = Vec::new();
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(rights) = m {
            fds.extend(rights);
        }
    }
    if msg.flags.intersects(ReturnFlags::TRUNC | ReturnFlags::CTRUNC) {
        return Err(std::io::Error::other("socket hand-over message truncated"));
    }
    Ok((msg.bytes, fds))
}
