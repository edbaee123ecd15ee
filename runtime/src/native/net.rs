//! The sandbox's side of the egress broker. The network namespace has only `lo`. Before the
//! tool starts, PID 1 brings `lo` up and opens, inside the namespace, the sockets the grant
//! calls for: a DNS stub on 127.0.0.1:53, one TCP relay listener per declared port (on
//! 0.0.0.0, so any loopback address the DNS stub hands out reaches it), and an HTTP proxy.
//! It hands them to the supervisor over a socketpair (SCM_RIGHTS) and keeps none: the tool
//! never holds them, and the supervisor, outside, is the only way out.

use crate::egress::broker::FIRST_STAND_IN;
use crate::policy::endpoint::{Endpoint, HostPattern, Scheme, Transport};
use serde::{Deserialize, Serialize};
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// What to open inside, planned by the supervisor from the grant.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NetPlan {
    pub dns: bool,
    pub relay_ports: Vec<u16>,
    pub proxy_port: Option<u16>,
    /// UDP relays, each bound to the exact address the tool will send to: a literal loopback
    /// address, or the stand-in of a declared name.
    pub udp: Vec<SocketAddrV4>,
    /// Stand-in addresses fixed in advance for exact declared names (the DNS stub hands out the
    /// same ones, so UDP relays can be bound before the tool starts).
    pub stand_ins: Vec<(String, Ipv4Addr)>,
}

/// One socket handed out, in order.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Opened {
    Dns,
    Relay(u16),
    Proxy,
    Udp(SocketAddrV4),
}

/// The most sockets one sandbox hands over (the relays are per declared port).
pub const MAX_SOCKETS: usize = 64;

impl NetPlan {
    /// Relays for every single-port endpoint that covers TCP (names and literal addresses
    /// alike); the DNS stub when any endpoint is a name; the proxy when anything is declared.
    pub fn for_endpoints(endpoints: &[Endpoint]) -> Self {
        if endpoints.is_empty() {
            return NetPlan::default();
        }
        let mut relay_ports: Vec<u16> = endpoints
            .iter()
            .filter(|e| e.scheme != Scheme::Udp && e.ports.first == e.ports.last)
            .map(|e| e.ports.first)
            .collect();
        relay_ports.sort_unstable();
        relay_ports.dedup();
        relay_ports.truncate((MAX_SOCKETS - 2) / 2);
        let proxy_port = (3128..u16::MAX).find(|p| !relay_ports.contains(p));
        let mut stand_ins: Vec<(String, Ipv4Addr)> = Vec::new();
        for e in endpoints {
            if let HostPattern::Name(n) = &e.host
                && !stand_ins.iter().any(|(m, _)| m == n)
            {
                let next = u32::from(FIRST_STAND_IN) + stand_ins.len() as u32;
                stand_ins.push((n.clone(), Ipv4Addr::from(next)));
            }
        }
        let mut udp = Vec::new();
        for e in endpoints.iter().filter(|e| e.scheme.covers(Transport::Udp) && e.ports.first == e.ports.last) {
            let ip = match &e.host {
                HostPattern::Ip(IpAddr::V4(ip)) if ip.is_loopback() => Some(*ip),
                HostPattern::Name(n) => stand_ins.iter().find(|(m, _)| m == n).map(|(_, a)| *a),
                _ => None,
            };
            if let Some(ip) = ip {
                udp.push(SocketAddrV4::new(ip, e.ports.first));
            }
        }
        udp.dedup();
        udp.truncate(MAX_SOCKETS.saturating_sub(2 * relay_ports.len() + 2));
        NetPlan { dns: endpoints.iter().any(|e| e.host.is_name()), relay_ports, proxy_port, udp, stand_ins }
    }

    /// Whether nothing at all is opened inside.
    pub fn is_empty(&self) -> bool {
        !self.dns && self.relay_ports.is_empty() && self.proxy_port.is_none() && self.udp.is_empty()
    }

    /// TCP ports the tool may connect to (Landlock): the relays and the proxy.
    pub fn connect_ports(&self) -> Vec<u16> {
        self.relay_ports.iter().copied().chain(self.proxy_port).collect()
    }
}

/// Stage 2: brings `lo` up, opens the planned sockets and sends them over `channel`.
pub fn open_inside(plan: &NetPlan, channel: OwnedFd) -> Result<(), String> {
    super::sys::loopback_up().map_err(|e| format!("bring lo up: {e}"))?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    let mut kinds: Vec<Opened> = Vec::new();
    if plan.dns {
        let s = std::net::UdpSocket::bind("127.0.0.1:53").map_err(|e| format!("DNS stub 127.0.0.1:53: {e}"))?;
        fds.push(s.into());
        kinds.push(Opened::Dns);
    }
    for &p in &plan.relay_ports {
        let l = std::net::TcpListener::bind(("0.0.0.0", p)).map_err(|e| format!("relay port {p}: {e}"))?;
        fds.push(l.into());
        kinds.push(Opened::Relay(p));
        // The same port on ::1, for tools that dial IPv6 loopback (an IPv6-less kernel skips it).
        if let Ok(l6) = std::net::TcpListener::bind(("::1", p)) {
            fds.push(l6.into());
            kinds.push(Opened::Relay(p));
        }
    }
    for &a in &plan.udp {
        let u = std::net::UdpSocket::bind(a).map_err(|e| format!("UDP relay {a}: {e}"))?;
        fds.push(u.into());
        kinds.push(Opened::Udp(a));
    }
    if let Some(p) = plan.proxy_port {
        let l = std::net::TcpListener::bind(("127.0.0.1", p)).map_err(|e| format!("proxy port {p}: {e}"))?;
        fds.push(l.into());
        kinds.push(Opened::Proxy);
    }
    let header = serde_json::to_vec(&kinds).map_err(|e| e.to_string())?;
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_SOCKETS))];
    let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
    if !borrowed.is_empty() && !control.push(rustix::net::SendAncillaryMessage::ScmRights(&borrowed)) {
        return Err("too many sockets to hand over".into());
    }
    rustix::net::sendmsg(&channel, &[IoSlice::new(&header)], &mut control, rustix::net::SendFlags::empty())
        .map_err(|e| format!("hand sockets to the supervisor: {e}"))?;
    Ok(())
}

/// Supervisor: receives what stage 2 opened (blocking; run it off the async threads). An
/// empty list if the sandbox failed before opening anything.
pub fn receive(channel: &OwnedFd) -> std::io::Result<Vec<(Opened, OwnedFd)>> {
    let mut buf = vec![0u8; 4096];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_SOCKETS))];
    let mut control = rustix::net::RecvAncillaryBuffer::new(&mut space);
    let msg = rustix::net::recvmsg(
        channel,
        &mut [std::io::IoSliceMut::new(&mut buf)],
        &mut control,
        rustix::net::RecvFlags::CMSG_CLOEXEC,
    )?;
    let mut fds = Vec::new();
    for m in control.drain() {
        if let rustix::net::RecvAncillaryMessage::ScmRights(rights) = m {
            fds.extend(rights);
        }
    }
    if msg.bytes == 0 {
        return Ok(Vec::new());
    }
    let kinds: Vec<Opened> = serde_json::from_slice(&buf[..msg.bytes]).map_err(std::io::Error::other)?;
    if kinds.len() != fds.len() {
        return Err(std::io::Error::other("socket hand-over does not match its description"));
    }
    Ok(kinds.into_iter().zip(fds).collect())
}
