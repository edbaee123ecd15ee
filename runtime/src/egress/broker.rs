//! The egress broker: the supervisor's side of a native sandbox's network. It serves the
//! sockets the sandbox opened inside its namespace, and is the only way out:
//!
//! * the DNS stub answers declared names with a stand-in loopback address (127.1.x.y) that
//!   leads back to a relay, and everything else NXDOMAIN, without any query leaving;
//! * a relay accepts a connection, reads which address the tool dialled, checks the live
//!   grant, and dials the real endpoint (the name's pinned address) from the host's namespace;
//!   UDP relays do the same per flow ([`udp`]);
//! * the HTTP proxy takes `CONNECT host:port` and absolute-form requests, with the same checks,
//!   and answers 403 with `x-proxy-error: blocked-by-allowlist` when the grant says no.
//!
//! Every attempt is audited through the grant; revocation cuts every open relay.

mod udp;

use super::dns;
use crate::grant::LiveGrant;
use crate::policy::endpoint::Transport;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// First stand-in address handed out for a declared name (127.1.0.1).
pub const FIRST_STAND_IN: Ipv4Addr = Ipv4Addr::new(127, 1, 0, 1);
/// Bytes moved per read in a relay; large buffers keep bulk transfers near loopback speed.
const RELAY_BUFFER: usize = 256 * 1024;
/// Requests heads larger than this are refused by the proxy.
const MAX_HEAD: usize = 16 * 1024;

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
        Arc::new(Broker { grant, stand_ins: Mutex::new(s), active: AtomicUsize::new(0) })
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
            let Some(q) = dns::parse_question(&buf[..n]) else { continue };
            // The grant decides (and audits); undeclared names are never resolved.
            let answer = match self.grant.lookup(&q.name).await {
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
        self.accept_loop(listener, |b, s| async move { b.relay(s).await }).await;
    }

    /// Serves proxy clients until the grant is revoked.
    pub async fn serve_proxy(self: Arc<Self>, listener: TcpListener) {
        self.accept_loop(listener, |b, s| async move { b.proxy(s).await }).await;
    }

    async fn accept_loop<F, Fut>(self: Arc<Self>, listener: TcpListener, handle: F)
    where
        F: Fn(Arc<Self>, TcpStream) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = self.grant.revoked() => return,
            };
            if let Ok((stream, _)) = accepted {
                tokio::spawn(handle(self.clone(), stream));
            }
        }
    }

    /// The candidates the grant allows `t` to, or `None` when it allows none (each check is audited).
    async fn allowed(&self, candidates: Vec<SocketAddr>, t: Transport) -> Option<Vec<SocketAddr>> {
        let mut allowed = Vec::new();
        for c in candidates {
            if self.grant.check_connect(c, t).await.is_ok() {
                allowed.push(c);
            }
        }
        (!allowed.is_empty()).then_some(allowed)
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
            None => vec![dialled],
        };
        self.allowed(candidates, t).await
    }

    async fn relay(self: Arc<Self>, mut inside: TcpStream) {
        let _active = Active::new(&self.active);
        let Ok(dialled) = inside.local_addr() else { return };
        let Some(targets) = self.destination(dialled, Transport::Tcp).await else { return };
        let Some(mut outside) = dial(&targets).await else { return };
        self.pipe(&mut inside, &mut outside).await;
    }

    async fn pipe(&self, a: &mut TcpStream, b: &mut TcpStream) {
        tokio::select! {
            _ = tokio::io::copy_bidirectional_with_sizes(a, b, RELAY_BUFFER, RELAY_BUFFER) => {}
            () = self.grant.revoked() => {}
        }
    }

    async fn proxy(self: Arc<Self>, mut client: TcpStream) {
        let _active = Active::new(&self.active);
        let Some((head, rest)) = read_head(&mut client).await else { return };
        let Some((method, target, version)) = parse_request_line(&head) else {
            let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            return;
        };
        let routed = if method.eq_ignore_ascii_case("CONNECT") {
            self.route_connect(&target).await.map(|t| (t, None))
        } else {
            self.route_absolute(&target).await.map(|(t, path)| (t, Some(path)))
        };
        let Some((targets, origin_form)) = routed else {
            let body = "blocked by mcp-sandbox: the grant does not declare this destination\n";
            let resp = format!(
                "HTTP/1.1 403 Forbidden\r\nx-proxy-error: blocked-by-allowlist\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(resp.as_bytes()).await;
            return;
        };
        let Some(mut upstream) = dial(&targets).await else {
            let _ =
                client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            return;
        };
        match origin_form {
            None => {
                if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
                    return;
                }
            }
            Some(path) => {
                // The request goes on in origin form; every byte after it goes to the same,
                // checked, origin (never to wherever a later Host header points).
                let first_line_end = head.find("\r\n").unwrap_or(head.len());
                let rewritten = format!("{method} {path} {version}{}", &head[first_line_end..]);
                if upstream.write_all(rewritten.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        if !rest.is_empty() && upstream.write_all(&rest).await.is_err() {
            return;
        }
        self.pipe(&mut client, &mut upstream).await;
    }

    /// `CONNECT host:port`: a TCP tunnel, allowed like a relayed connection.
    async fn route_connect(&self, target: &str) -> Option<Vec<SocketAddr>> {
        let (host, port) = split_authority(target, None)?;
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => self.grant.lookup(&host).await.ok()?,
        };
        self.allowed(addrs.into_iter().map(|ip| SocketAddr::new(ip, port)).collect(), Transport::Tcp).await
    }

    /// `GET http://host[:port]/path`: an HTTP request, checked by scheme, host and port.
    async fn route_absolute(&self, target: &str) -> Option<(Vec<SocketAddr>, String)> {
        let rest = target.strip_prefix("http://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (host, port) = split_authority(authority, Some(80))?;
        let addrs = self.grant.route_http(false, &host, port).await.ok()?;
        Some((addrs, path))
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

/// Reads a request head; returns it and whatever body bytes came with it.
async fn read_head(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8(buf).ok()?, rest));
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

fn parse_request_line(head: &str) -> Option<(String, String, String)> {
    let line = head.lines().next()?;
    let mut parts = line.split_ascii_whitespace();
    let (m, t, v) = (parts.next()?, parts.next()?, parts.next()?);
    v.starts_with("HTTP/").then(|| (m.to_string(), t.to_string(), v.to_string()))
}

/// `host:port`, `[v6]:port`, or a bare host with `default` port.
fn split_authority(a: &str, default: Option<u16>) -> Option<(String, u16)> {
    if let Some(inner) = a.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default?,
        };
        return Some((host.to_string(), port));
    }
    match a.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((a.to_string(), default?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_and_authorities() {
        assert_eq!(
            parse_request_line("CONNECT api.example.com:443 HTTP/1.1\r\nHost: x\r\n"),
            Some(("CONNECT".into(), "api.example.com:443".into(), "HTTP/1.1".into()))
        );
        assert_eq!(parse_request_line("garbage"), None);
        assert_eq!(split_authority("a.com:8080", None), Some(("a.com".into(), 8080)));
        assert_eq!(split_authority("a.com", Some(80)), Some(("a.com".into(), 80)));
        assert_eq!(split_authority("a.com", None), None);
        assert_eq!(split_authority("[::1]:53", None), Some(("::1".into(), 53)));
        assert_eq!(split_authority("a.com:nope", None), None);
    }
}
