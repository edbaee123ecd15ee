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
//! with no reply for [`UDP_IDLE`] is forgotten, and checked anew by its next datagram. Under a
//! just-in-time window (`proxy`) a flow is closed when the window it was opened in closes, and a
//! denied flow is checked anew once a call started or ended since its denial.
//!
//! A call has at most [`MAX_UDP_FLOWS`](crate::egress::quota::MAX_UDP_FLOWS) flows open (each a host socket). At the bound, a new
//! flow takes the place of the socket's flow quiet longest, if it has been quiet for
//! [`UDP_RECLAIM_QUIET`]; otherwise its datagram is dropped, with a `limit` record.

use super::Broker;
use crate::audit::Capability;
use crate::audit::Denial;
use crate::egress::quota::{Held, Permit, UDP_RECLAIM_QUIET};
use crate::grant::Lease;
use crate::native::sys;
use crate::policy::endpoint::{HostPattern, Transport};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// An allowed flow: its host socket, and what its reply task shares with the loop. The reply
/// task holds the socket: when it ends (idle, revoked, reclaimed) the socket is closed and the
/// flow's place in the bound is given back, whatever the map still remembers.
struct Flow {
    out: std::sync::Weak<UdpSocket>,
    /// When a datagram last went either way (milliseconds on the broker's clock).
    last: Arc<AtomicU64>,
    /// The flow's place in the call's bound; taken over by a successor when reclaimed.
    permit: Arc<Mutex<Option<Permit>>>,
    replies: tokio::task::AbortHandle,
}

impl Flow {
    fn alive(&self) -> bool {
        self.out.strong_count() > 0
    }
}

/// The flows of one socket: a host socket for each allowed one, `Err(generation)` for each
/// denied one (so that it is audited once, not per datagram, until the grant's window changed).
struct Flows<K>(HashMap<K, Result<Flow, u64>>);

impl<K: Hash + Eq + Copy> Flows<K> {
    fn new() -> Self {
        Flows(HashMap::new())
    }

    /// Sends `data` out on `key`'s flow, opening it first if it is new or was forgotten:
    /// `check` decides (and audits) where it goes, if anywhere.
    async fn forward<F>(&mut self, b: &Arc<Broker>, key: K, data: &[u8], check: F, open: Open<'_>)
    where
        F: Future<Output = Option<SocketAddr>>,
    {
        let live = match self.0.get(&key) {
            Some(Ok(f)) => f.alive(),
            Some(Err(generation)) => *generation == b.grant.window_generation(),
            None => false,
        };
        if !live {
            if self.0.len() >= MAX_FLOWS {
                self.0.retain(|_, f| f.as_ref().is_ok_and(Flow::alive));
            }
            // Taken before the check: the flow is closed when what let it through is gone.
            let (generation, lease) = (b.grant.window_generation(), b.grant.lease());
            let flow = match lease.scope(check).await {
                None => None,
                Some(target) => {
                    let Some(permit) = self.permit(b, target) else { return };
                    b.open_flow(open, target, permit, lease).await
                }
            };
            self.0.insert(key, flow.ok_or(generation));
        }
        if let Some(Ok(f)) = self.0.get(&key)
            && let Some(out) = f.out.upgrade()
        {
            f.last.store(b.now_ms(), Ordering::Relaxed);
            let _ = out.send(data).await;
        }
    }

    /// A place for a new flow in the call's bound: a free one, or the one of this socket's
    /// flow quiet longest (at least [`UDP_RECLAIM_QUIET`]), which is closed. Else `None`,
    /// audited as a limit.
    fn permit(&mut self, b: &Broker, target: SocketAddr) -> Option<Permit> {
        let refused = match b.quota.acquire(Held::UdpFlow) {
            Ok(p) => return Some(p),
            Err(r) => r,
        };
        let now = b.now_ms();
        let quiet = u64::try_from(UDP_RECLAIM_QUIET.as_millis()).unwrap_or(u64::MAX);
        let oldest = self
            .0
            .iter()
            .filter_map(|(k, f)| f.as_ref().ok().filter(|f| f.alive()).map(|f| (*k, f.last.load(Ordering::Relaxed))))
            .filter(|(_, last)| now.saturating_sub(*last) >= quiet)
            .min_by_key(|(_, last)| *last)
            .map(|(k, _)| k);
        if let Some(Ok(flow)) = oldest.and_then(|k| self.0.remove(&k)) {
            flow.replies.abort();
            if let Some(p) = flow.permit.lock().ok().and_then(|mut p| p.take()) {
                return Some(p);
            }
        }
        b.grant.audit().limit(Capability::Resources, format!("udp://{target}"), refused.0);
        None
    }
}

/// Where a new flow's replies go inside.
#[derive(Clone, Copy)]
struct Open<'a> {
    inside: &'a Arc<UdpSocket>,
    back: Back,
}

impl Broker {
    /// Relays datagrams sent to `inside` (bound at `dialled`) until the grant is revoked.
    pub async fn serve_udp(self: Arc<Self>, inside: UdpSocket, dialled: SocketAddr) {
        let inside = Arc::new(inside);
        self.watched.socket(Arc::downgrade(&inside) as std::sync::Weak<dyn AsFd + Send + Sync>);
        self.until_revoked(self.exact_loop(&inside, dialled)).await;
    }

    /// Relays datagrams sent to `inside` (bound at `0.0.0.0:port`, with `IP_PKTINFO`) for names
    /// under a declared UDP `*.suffix`, until the grant is revoked.
    pub async fn serve_udp_suffix(self: Arc<Self>, inside: UdpSocket, port: u16) {
        let inside = Arc::new(inside);
        self.watched.socket(Arc::downgrade(&inside) as std::sync::Weak<dyn AsFd + Send + Sync>);
        self.until_revoked(self.suffix_loop(&inside, port)).await;
    }

    async fn exact_loop(self: &Arc<Self>, inside: &Arc<UdpSocket>, dialled: SocketAddr) {
        let mut flows = Flows::new();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        while let Ok((n, peer)) = inside.recv_from(&mut buf).await {
            let _busy = self.watched.busy();
            let open = Open { inside, back: Back::To(peer) };
            flows.forward(self, peer, &buf[..n], self.flow_target(dialled), open).await;
        }
    }

    async fn suffix_loop(self: &Arc<Self>, inside: &Arc<UdpSocket>, port: u16) {
        let mut flows = Flows::new();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let received =
                inside.async_io(Interest::READABLE, || sys::recv_with_destination(inside.as_fd(), &mut buf)).await;
            let Ok((n, peer, to)) = received else { return };
            let _busy = self.watched.busy();
            // The kernel reports it for every datagram once the option is set.
            let Some(to) = to else { continue };
            let dialled = SocketAddrV4::new(to, port);
            let open = Open { inside, back: Back::FromStandIn { to: peer, stand_in: to } };
            let check = async move {
                if let Err(d) = self.under_udp_suffix(dialled) {
                    self.grant.audit().deny(&d);
                    return None;
                }
                self.flow_target(SocketAddr::V4(dialled)).await
            };
            flows.forward(self, (peer, to), &buf[..n], check, open).await;
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
        // The patterns calls may bind count (the socket is there for them); the grant decides next.
        let covered = self.grant.grant().planned_endpoints().iter().any(|e| {
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

    /// Where a new flow to `dialled` goes, if the grant allows it (audited).
    async fn flow_target(&self, dialled: SocketAddr) -> Option<SocketAddr> {
        self.destination(dialled, Transport::Udp).await?.first().copied()
    }

    /// Milliseconds since the broker started: the clock of flows' activity.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Opens an allowed flow: a host socket connected to the real endpoint, whose replies go
    /// back inside until the flow idles, is reclaimed, or its lease ends (the grant revoked, the
    /// window it was opened in closed).
    async fn open_flow(
        self: &Arc<Self>,
        open: Open<'_>,
        target: SocketAddr,
        permit: Permit,
        lease: Lease,
    ) -> Option<Flow> {
        let bind: SocketAddr = if target.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let out = Arc::new(UdpSocket::bind(bind).await.ok()?);
        out.connect(target).await.ok()?;
        let last = Arc::new(AtomicU64::new(self.now_ms()));
        let permit = Arc::new(Mutex::new(Some(permit)));
        let (replies, inside, back) = (out.clone(), open.inside.clone(), open.back);
        let (seen, broker, held) = (last.clone(), self.clone(), permit.clone());
        let task = tokio::spawn(async move {
            // The flow's place in the bound goes with it (unless a successor took it over).
            let _held = Release(held);
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                let n = tokio::select! {
                    r = tokio::time::timeout(UDP_IDLE, replies.recv(&mut buf)) => match r {
                        Ok(Ok(n)) => n,
                        _ => return,
                    },
                    () = lease.ended() => return,
                };
                seen.store(broker.now_ms(), Ordering::Relaxed);
                let _ = back.send(&inside, &buf[..n]).await;
            }
        });
        Some(Flow { out: Arc::downgrade(&out), last, permit, replies: task.abort_handle() })
    }
}

/// Gives a flow's place in the bound back when its reply task ends.
struct Release(Arc<Mutex<Option<Permit>>>);

impl Drop for Release {
    fn drop(&mut self) {
        if let Ok(mut p) = self.0.lock() {
            p.take();
        }
    }
}
