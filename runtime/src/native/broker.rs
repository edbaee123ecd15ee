//! The egress broker: the supervisor's side of a native sandbox's network. It serves the
//! sockets the sandbox opened inside its namespace, and is the only way out:
//!
//! * the DNS stub answers declared names with a stand-in loopback address (127.1.x.y) that
//!   leads back to a relay, and everything else NXDOMAIN, without any query leaving;
//! * a relay accepts a connection, reads which address the tool dialled, checks the live
//!   grant, and dials the real endpoint (the name's pinned address) from the host's namespace;
//!   UDP relays do the same per flow ([`udp`]);
//! * the HTTP proxy takes `CONNECT host:port` and absolute-form requests, with the same checks,
//!   and answers 403 with `x-proxy-error: blocked-by-allowlist` and the reason when the grant
//!   says no ([`proxy`]).
//!
//! Every attempt is audited through the grant; revocation cuts every open relay. Under a
//! just-in-time window (`proxy`), each connection and flow runs in a [`Lease`] taken before its
//! checks, and is cut when the window it was opened in closes, once the broker has relayed what
//! the server did before its call ended ([`settle`]). What the broker holds for the call
//! (relayed connections, UDP flows) is bounded by [`crate::egress::quota`]: beyond, a connection is
//! closed at once (the proxy answers 503) and a datagram dropped, with a `limit` record.

mod proxy;
mod settle;
mod udp;

use crate::audit::Capability;
use crate::audit::Denial;
use crate::egress::dns;
use crate::egress::quota::{Held, Permit, Quota};
use crate::grant::{Lease, LiveGrant};
use crate::policy::endpoint::{self, Transport};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// First stand-in address handed out for a declared name (127.1.0.1).
pub const FIRST_STAND_IN: Ipv4Addr = Ipv4Addr::new(127, 1, 0, 1);
/// Bytes moved per read in a relay; large buffers keep bulk transfers near loopback speed.
const RELAY_BUFFER: usize = 256 * 1024;
/// How long an accept loop waits after the kernel refused to accept (out of descriptors),
/// before trying again, instead of spinning on the queued connection.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

#[derive(Debug, Default)]
struct StandIns {
    by_name: HashMap<String, Ipv4Addr>,
    by_addr: HashMap<Ipv4Addr, String>,
}

/// The broker of one invocation.
#[derive(Debug)]
pub struct Broker {
    grant: LiveGrant,
    stand_ins: Mutex<StandIns>,
    /// Relayed connections still moving bytes.
    active: AtomicUsize,
    /// What the broker holds for the call.
    quota: Arc<Quota>,
    /// The clock UDP flows' activity is measured on.
    started: std::time::Instant,
    /// What a call's end waits for before its window closes.
    watched: settle::Watched,
}

/// Counts a relay as active while it lives.
struct Active<'a>(&'a AtomicUsize);

impl<'a> Active<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Active(n)
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Broker {
    /// A broker whose DNS stub will hand out `fixed` stand-ins for those names (planned in
    /// advance so that UDP relays could be bound to them), and new ones for other declared names.
    pub fn new(grant: LiveGrant, fixed: &[(String, Ipv4Addr)]) -> Arc<Self> {
        let mut s = StandIns::default();
        for (name, addr) in fixed {
            s.by_name.insert(name.clone(), *addr);
            s.by_addr.insert(*addr, name.clone());
        }
        let b = Arc::new(Broker {
            grant,
            stand_ins: Mutex::new(s),
            active: AtomicUsize::new(0),
            quota: Quota::new(),
            started: std::time::Instant::now(),
            watched: settle::Watched::default(),
        });
        let settler: std::sync::Weak<dyn crate::grant::Settle> = Arc::downgrade(&b) as std::sync::Weak<Broker>;
        b.grant.set_settler(settler);
        b
    }

    /// Lets bytes a tool wrote just before it exited reach their destination: waits (at most
    /// `max`) until queued connections are taken and every relay has drained. Called after the
    /// tool ends and before the grant is revoked.
    pub async fn settle(&self, max: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + max;
        // A connection the tool made is already queued on its listener; a few turns of the
        // scheduler let the accept loops take it and count it as active.
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        while self.active.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    fn stand_in_for(&self, name: &str) -> Option<Ipv4Addr> {
        let mut s = self.stand_ins.lock().ok()?;
        if let Some(a) = s.by_name.get(name) {
            return Some(*a);
        }
        let n = u32::try_from(s.by_name.len()).ok()?;
        let next = u32::from(FIRST_STAND_IN).checked_add(n).filter(|a| *a < u32::from(Ipv4Addr::new(127, 2, 0, 0)))?;
        let addr = Ipv4Addr::from(next);
        s.by_name.insert(name.to_string(), addr);
        s.by_addr.insert(addr, name.to_string());
        Some(addr)
    }

    fn name_of(&self, addr: IpAddr) -> Option<String> {
        let IpAddr::V4(v4) = addr else { return None };
        self.stand_ins.lock().ok()?.by_addr.get(&v4).cloned()
    }

    /// Runs until the grant is revoked.
    pub async fn serve_dns(self: Arc<Self>, sock: UdpSocket) {
        let sock = Arc::new(sock);
        self.watched.socket(Arc::downgrade(&sock) as std::sync::Weak<dyn std::os::fd::AsFd + Send + Sync>);
        self.until_revoked(self.dns_loop(&sock)).await;
    }

    /// Runs `work` until it ends or the grant is revoked.
    async fn until_revoked(&self, work: impl Future<Output = ()>) {
        tokio::select! {
            () = work => {}
            () = self.grant.revoked() => {}
        }
    }

    async fn dns_loop(&self, sock: &UdpSocket) {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let _busy = self.watched.busy();
            let Some(q) = dns::parse_question(&buf[..n]) else { continue };
            // Only addresses are served: any other type (TXT, ANY, …) could carry a tool's data
            // in its labels to a suffix's servers and bring records back, so it is refused for
            // every name, declared or not, and never resolved.
            if q.qtype != dns::TYPE_A && q.qtype != dns::TYPE_AAAA {
                self.grant.audit().deny(&Denial::new(
                    Capability::NetDns,
                    &q.name,
                    &format!("query type {} refused: only A and AAAA are served", dns::type_name(q.qtype)),
                    None,
                ));
                if let Some(r) = dns::encode_response(&q, dns::RCODE_REFUSED, &[]) {
                    let _ = sock.send_to(&r, from).await;
                }
                continue;
            }
            // The grant decides (and audits); undeclared names are never resolved. A localhost
            // name is answered with its loopback addresses, as the sandbox's /etc/hosts does
            // (the relays listen there); any other name with a stand-in.
            let answer = match self.grant.lookup(&q.name).await {
                Ok(addrs) if endpoint::is_localhost(&q.name) && addrs.iter().all(IpAddr::is_loopback) => Some(addrs),
                Ok(_) => self.stand_in_for(&q.name).map(|a| vec![IpAddr::V4(a)]),
                Err(_) => None,
            };
            let reply = match answer {
                Some(addrs) => dns::encode_response(&q, dns::RCODE_NOERROR, &addrs),
                None => dns::encode_response(&q, dns::RCODE_NXDOMAIN, &[]),
            };
            if let Some(r) = reply {
                let _ = sock.send_to(&r, from).await;
            }
        }
    }

    /// Accepts relayed connections until the grant is revoked.
    pub async fn serve_relay(self: Arc<Self>, listener: TcpListener) {
        self.accept_loop(listener, false, |b, s, held| async move { b.relay(s, held).await }).await;
    }

    /// Serves proxy clients until the grant is revoked.
    pub async fn serve_proxy(self: Arc<Self>, listener: TcpListener) {
        self.accept_loop(listener, true, |b, s, held| async move { b.proxy(s, held).await }).await;
    }

    /// Accepts connections until the grant is revoked. Each takes its place in the call's bound
    /// here, before anything else: one beyond it is closed at once (the proxy's after a `503`
    /// line, if the socket takes it), so refused connections never pile up.
    async fn accept_loop<F, Fut>(self: Arc<Self>, listener: TcpListener, proxy: bool, handle: F)
    where
        F: Fn(Arc<Self>, TcpStream, Permit) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = Arc::new(listener);
        self.watched.socket(Arc::downgrade(&listener) as std::sync::Weak<dyn std::os::fd::AsFd + Send + Sync>);
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = self.grant.revoked() => return,
            };
            match accepted {
                Ok((stream, _)) => {
                    let Ok(local) = stream.local_addr() else { continue };
                    let target = if proxy {
                        format!("http proxy {local}")
                    } else {
                        format!("tcp://{}", SocketAddr::new(local.ip().to_canonical(), local.port()))
                    };
                    match self.quota.acquire_or_audit(Held::Relayed, &target, self.grant.audit()) {
                        Some(held) => {
                            // Taken before the checks: a window closing meanwhile cuts it.
                            let lease = self.grant.lease();
                            let progress = self.watched.accepted(lease.clone());
                            let work = handle(self.clone(), stream, held);
                            tokio::spawn(settle::PROGRESS.scope(progress, async move { lease.scope(work).await }));
                        }
                        None if proxy => {
                            let _ = stream.try_write(proxy::busy().as_bytes());
                        }
                        None => {}
                    }
                }
                // Out of descriptors (or memory): the connection stays queued; try again soon
                // rather than spin on it.
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            }
        }
    }

    /// The candidates the grant allows `t` to, or the (last) denial when it allows none (each
    /// check is audited).
    async fn allowed(&self, candidates: Vec<SocketAddr>, t: Transport) -> Result<Vec<SocketAddr>, Denial> {
        let mut allowed = Vec::new();
        let mut denied = None;
        for c in candidates {
            match self.grant.check_connect(c, t).await {
                Ok(()) => allowed.push(c),
                Err(d) => denied = Some(d),
            }
        }
        match denied {
            Some(d) if allowed.is_empty() => Err(d),
            None if allowed.is_empty() => Err(Denial::new(Capability::NetConnect, "", "no address", None)),
            _ => Ok(allowed),
        }
    }

    /// Where a connection the tool made should really go, if the grant allows it.
    async fn destination(&self, dialled: SocketAddr, t: Transport) -> Option<Vec<SocketAddr>> {
        // A dual-stack relay sees an IPv4 destination as `::ffff:a.b.c.d`.
        let dialled = SocketAddr::new(dialled.ip().to_canonical(), dialled.port());
        let port = dialled.port();
        let candidates = match self.name_of(dialled.ip()) {
            Some(name) => {
                self.grant.lookup(&name).await.ok()?.into_iter().map(|ip| SocketAddr::new(ip, port)).collect()
            }
            None => self.grant.grant().net.loopback_alternatives(dialled, t),
        };
        self.allowed(candidates, t).await.ok()
    }

    /// A relayed connection, holding its place in the call's bound until it ends.
    async fn relay(self: Arc<Self>, mut inside: TcpStream, _held: Permit) {
        let _active = Active::new(&self.active);
        let Ok(dialled) = inside.local_addr() else { return };
        let Some(targets) = self.destination(dialled, Transport::Tcp).await else { return };
        let Some(mut outside) = dial(&targets).await else { return };
        self.pipe(&mut inside, &mut outside).await;
    }

    /// Moves bytes both ways until either side ends or the task's [`Lease`] does (the grant
    /// revoked, the window the connection was opened in closed). `a` is the server's side: what
    /// it sends is counted, for a call's end to wait until it has gone out ([`settle`]).
    async fn pipe(&self, a: &mut TcpStream, b: &mut TcpStream) {
        let lease = Lease::current().unwrap_or_else(|| self.grant.lease());
        let progress = settle::PROGRESS.try_with(Clone::clone).ok();
        settle::Counted::start(progress.as_deref(), a, &self.quota);
        let mut a = settle::Counted { stream: a, progress: progress.as_deref(), inside: true };
        let mut b = settle::Counted { stream: b, progress: progress.as_deref(), inside: false };
        tokio::select! {
            _ = tokio::io::copy_bidirectional_with_sizes(&mut a, &mut b, RELAY_BUFFER, RELAY_BUFFER) => {}
            () = lease.ended() => {}
        }
    }
}

async fn dial(targets: &[SocketAddr]) -> Option<TcpStream> {
    for t in targets {
        if let Ok(Ok(s)) = tokio::time::timeout(std::time::Duration::from_secs(10), TcpStream::connect(t)).await {
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    None
}
