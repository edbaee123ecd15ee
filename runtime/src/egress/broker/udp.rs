//! The broker's UDP relays. A native tool's datagram reaches one of two kinds of socket inside
//! its namespace:
//!
//! * a relay bound at exactly the address the tool sent to (a declared literal address, or the
//!   stand-in fixed in advance for an exact name), which tells where the datagram was going;
//! * the socket on `0.0.0.0` at a port of a declared UDP `*.suffix`, which receives what is
//!   sent to the stand-ins the DNS stub hands out for names under it. The kernel reports each
//!   datagram's destination (`IP_PKTINFO`); one that is not the stand-in of a name under a
//!   suffix declared for UDP on that port is denied.
//!
//! Either way a flow (a sender inside, and the address it sent to) is checked against the live
//! grant when it starts, the name resolved and pinned by the grant (private and metadata
//! addresses refused unless declared literally), and audited, allowed or denied. An allowed
//! flow gets its own host socket connected to the real endpoint; replies go back to the sender
//! from the address it sent to (on the wildcard socket, by `IP_PKTINFO` at `sendmsg`). A flow
//! with no reply for [`UDP_IDLE`] is forgotten, and checked anew by its next datagram.

use super::Broker;
use crate::audit::Capability;
use crate::grant::Denial;
use crate::native::sys;
use crate::policy::endpoint::{HostPattern, Transport};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsFd;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// A UDP flow with no reply for this long is forgotten.
const UDP_IDLE: std::time::Duration = std::time::Duration::from_secs(60);
/// The largest datagram.
const MAX_DATAGRAM: usize = 65536;
/// Flows one socket remembers before it forgets the denied and the idle ones.
const MAX_FLOWS: usize = 4096;

/// Where a reply goes inside, and from which address.
#[derive(Debug, Clone, Copy)]
enum Back {
    /// To this sender, from the relay's own (exact) address.
    To(SocketAddr),
    /// To this sender, from `stand_in`, through the wildcard socket.
    FromStandIn { to: SocketAddrV4, stand_in: Ipv4Addr },
}

impl Back {
    async fn send(self, inside: &UdpSocket, data: &[u8]) -> std::io::Result<usize> {
        match self {
            Back::To(peer) => inside.send_to(data, peer).await,
            Back::FromStandIn { to, stand_in } => {
                inside.async_io(Interest::WRITABLE, || sys::send_from(inside.as_fd(), data, to, stand_in)).await
            }
        }
    }
}

/// The flows of one socket: a host socket for each allowed one, `None` for each denied one (so
/// that it is audited once, not per datagram).
struct Flows<K>(HashMap<K, Option<Arc<UdpSocket>>>);

impl<K: Hash + Eq + Copy> Flows<K> {
    fn new() -> Self {
        Flows(HashMap::new())
    }

    /// Sends `data` out on `key`'s flow, opening (checking) it first if it is new or was
    /// forgotten. While a flow lives, its reply task holds the other reference to its socket.
    async fn forward<F>(&mut self, key: K, data: &[u8], open: impl FnOnce() -> F)
    where
        F: Future<Output = Option<Arc<UdpSocket>>>,
    {
        let live = match self.0.get(&key) {
            Some(Some(out)) => Arc::strong_count(out) > 1,
            Some(None) => true,
            None => false,
        };
        if !live {
            if self.0.len() >= MAX_FLOWS {
                self.0.retain(|_, f| f.as_ref().is_some_and(|out| Arc::strong_count(out) > 1));
            }
            let flow = open().await;
            self.0.insert(key, flow);
        }
        if let Some(Some(out)) = self.0.get(&key) {
            let _ = out.send(data).await;
        }
    }
}

impl Broker {
    /// Relays datagrams sent to `inside` (bound at `dialled`) until the grant is revoked.
    pub async fn serve_udp(self: Arc<Self>, inside: UdpSocket, dialled: SocketAddr) {
        let inside = Arc::new(inside);
        self.until_revoked(self.exact_loop(&inside, dialled)).await;
    }

    /// Relays datagrams sent to `inside` (bound at `0.0.0.0:port`, with `IP_PKTINFO`) for names
    /// under a declared UDP `*.suffix`, until the grant is revoked.
    pub async fn serve_udp_suffix(self: Arc<Self>, inside: UdpSocket, port: u16) {
        let inside = Arc::new(inside);
        self.until_revoked(self.suffix_loop(&inside, port)).await;
    }

    async fn exact_loop(self: &Arc<Self>, inside: &Arc<UdpSocket>, dialled: SocketAddr) {
        let mut flows = Flows::new();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        while let Ok((n, peer)) = inside.recv_from(&mut buf).await {
            flows.forward(peer, &buf[..n], || self.open_flow(inside, dialled, Back::To(peer))).await;
        }
    }

    async fn suffix_loop(self: &Arc<Self>, inside: &Arc<UdpSocket>, port: u16) {
        let mut flows = Flows::new();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let received =
                inside.async_io(Interest::READABLE, || sys::recv_with_destination(inside.as_fd(), &mut buf)).await;
            let Ok((n, peer, to)) = received else { return };
            // The kernel reports it for every datagram once the option is set.
            let Some(to) = to else { continue };
            let dialled = SocketAddrV4::new(to, port);
            let back = Back::FromStandIn { to: peer, stand_in: to };
            let open = || async move {
                if let Err(d) = self.under_udp_suffix(dialled) {
                    self.grant.audit().deny(&d);
                    return None;
                }
                self.open_flow(inside, SocketAddr::V4(dialled), back).await
            };
            flows.forward((peer, to), &buf[..n], open).await;
        }
    }

    /// Whether `dialled` is the stand-in of a name under a `*.suffix` declared for UDP on its port.
    fn under_udp_suffix(&self, dialled: SocketAddrV4) -> Result<(), Denial> {
        let target = format!("udp://{dialled}");
        let Some(name) = self.name_of(IpAddr::V4(*dialled.ip())) else {
            let hint = Some(format!("--allow-net {target}"));
            return Err(Denial::new(
                Capability::NetConnect,
                &target,
                "not a stand-in address of a declared name",
                hint,
            ));
        };
        let covered = self.grant.grant().net.endpoints.iter().any(|e| {
            matches!(e.host, HostPattern::Suffix(_))
                && e.scheme.covers(Transport::Udp)
                && e.ports.contains(dialled.port())
                && e.host.matches_name(&name)
        });
        if covered {
            return Ok(());
        }
        let reason = format!("stand-in address of {name}, which no endpoint declares for UDP on this port");
        Err(Denial::new(
            Capability::NetConnect,
            &target,
            &reason,
            Some(format!("--allow-net udp://{name}:{}", dialled.port())),
        ))
    }

    /// Checks a new flow to `dialled` (audited), and opens it: a host socket connected to the
    /// real endpoint, whose replies go `back` until the flow idles or the grant is revoked.
    async fn open_flow(
        self: &Arc<Self>,
        inside: &Arc<UdpSocket>,
        dialled: SocketAddr,
        back: Back,
    ) -> Option<Arc<UdpSocket>> {
        let target = *self.destination(dialled, Transport::Udp).await?.first()?;
        let bind: SocketAddr = if target.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let out = Arc::new(UdpSocket::bind(bind).await.ok()?);
        out.connect(target).await.ok()?;
        let (replies, inside, cut) = (out.clone(), inside.clone(), self.grant.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                let n = tokio::select! {
                    r = tokio::time::timeout(UDP_IDLE, replies.recv(&mut buf)) => match r {
                        Ok(Ok(n)) => n,
                        _ => return,
                    },
                    () = cut.revoked() => return,
                };
                let _ = back.send(&inside, &buf[..n]).await;
            }
        });
        Some(out)
    }
}
