//! The broker's HTTP proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` inside the sandbox):
//! `CONNECT host:port` opens a TCP tunnel, allowed like a relayed connection; an absolute-form
//! request (`GET http://host[:port]/path`, the scheme in any case) is checked by scheme, host
//! and port (an `http://` origin, or an endpoint the tool could dial itself: without a scheme
//! or `tcp://`) and sent on in origin form to the pinned address. A refusal is an answer, never a
//! reset: `403` with `x-proxy-error: blocked-by-allowlist` and the denial (with its fix) for what
//! the grant does not declare, `400` for what is not a proxy request, `503` beyond the call's
//! bound on relayed connections (written by the accept loop, which closes at once).

use super::{Active, Broker, dial};
use crate::audit::Denial;
use crate::egress::quota::{MAX_RELAYED_CONNECTIONS, Permit};
use crate::policy::endpoint::Transport;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Requests heads larger than this are refused by the proxy.
const MAX_HEAD: usize = 16 * 1024;
/// After a refusal, what the client still sends (a request body, a pipelined TLS hello) is read
/// and dropped for this long, at most [`LINGER_BYTES`], so that closing with it unread does not
/// reset the connection before the client has read the answer.
const LINGER: Duration = Duration::from_secs(2);
/// The most a refused client's leftovers are read (and dropped) before closing anyway.
const LINGER_BYTES: usize = 1 << 20;

/// Why a request is not proxied.
enum Refusal {
    /// Not a proxy request the broker serves (400).
    Bad(String),
    /// The grant does not allow it (403).
    Denied(Denial),
}

impl Broker {
    /// A proxy client, holding its place in the call's bound until it ends.
    pub(super) async fn proxy(self: Arc<Self>, mut client: TcpStream, _held: Permit) {
        let _active = Active::new(&self.active);
        let Some((head, rest)) = read_head(&mut client).await else { return };
        let Some((method, target, version)) = parse_request_line(&head) else {
            refuse(&mut client, "400 Bad Request", "bad-request", "not an HTTP request line").await;
            return;
        };
        let routed = if method.eq_ignore_ascii_case("CONNECT") {
            self.route_connect(&target).await.map(|t| (t, None))
        } else {
            self.route_absolute(&target).await.map(|(t, path)| (t, Some(path)))
        };
        let (targets, origin_form) = match routed {
            Ok(r) => r,
            Err(Refusal::Bad(why)) => return refuse(&mut client, "400 Bad Request", "bad-request", &why).await,
            Err(Refusal::Denied(d)) => {
                let why = format!("blocked by mcp-sandbox: {d}");
                return refuse(&mut client, "403 Forbidden", "blocked-by-allowlist", &why).await;
            }
        };
        let Some(mut upstream) = dial(&targets).await else {
            refuse(&mut client, "502 Bad Gateway", "unreachable", "the declared destination did not answer").await;
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
    async fn route_connect(&self, target: &str) -> Result<Vec<SocketAddr>, Refusal> {
        let (host, port) = split_authority(target, None)
            .ok_or_else(|| Refusal::Bad(format!("CONNECT needs host:port, not `{target}`")))?;
        // An undeclared name is refused before any look-up, with the port in its hint (a
        // look-up's own would have to guess it).
        if let Some(d) = self.grant.grant().net.undeclared_name(&host, port, Transport::Tcp) {
            self.grant.audit().deny(&d);
            return Err(Refusal::Denied(d));
        }
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => self.grant.lookup(&host).await.map_err(Refusal::Denied)?,
        };
        let candidates = addrs.into_iter().map(|ip| SocketAddr::new(ip, port)).collect();
        self.allowed(candidates, Transport::Tcp).await.map_err(Refusal::Denied)
    }

    /// `GET http://host[:port]/path`: an HTTP request, checked by scheme, host and port.
    async fn route_absolute(&self, target: &str) -> Result<(Vec<SocketAddr>, String), Refusal> {
        let (scheme, rest) = target.split_once("://").ok_or_else(|| {
            Refusal::Bad(format!("a proxy request names its origin (http://host/path), not `{target}`"))
        })?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(Refusal::Bad(format!("`{scheme}://` is not proxied in absolute form; use CONNECT for https")));
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        // `user:password@` is not part of the origin (RFC 9110 §4.2.4): the request goes to
        // the host after it, and that is what is checked.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = split_authority(authority, Some(80))
            .ok_or_else(|| Refusal::Bad(format!("`{authority}` is not host[:port]")))?;
        let addrs = self.grant.route_http(false, &host, port).await.map_err(Refusal::Denied)?;
        Ok((addrs, path))
    }
}

/// The answer to a client beyond the call's bound on relayed connections.
pub(super) fn busy() -> String {
    let why = format!(
        "at most {MAX_RELAYED_CONNECTIONS} relayed connections (MAX_RELAYED_CONNECTIONS) per call; try again when one ends"
    );
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nx-proxy-error: too-many-connections\r\nx-mcp-sandbox-reason: {why}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{why}\n",
        why.len() + 1
    )
}

/// Answers `status` with the reason (in the body and `x-mcp-sandbox-reason`), then closes
/// without a reset: what the client still sends is read and dropped for a moment first.
async fn refuse(client: &mut TcpStream, status: &str, error: &str, why: &str) {
    let header: String = why.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    let body = format!("{why}\n");
    let resp = format!(
        "HTTP/1.1 {status}\r\nx-proxy-error: {error}\r\nx-mcp-sandbox-reason: {header}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answered = tokio::time::timeout(LINGER, client.write_all(resp.as_bytes())).await;
    if !matches!(answered, Ok(Ok(()))) {
        return;
    }
    let _ = client.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while let Ok(n) = client.read(&mut buf).await {
            total += n;
            if n == 0 || total > LINGER_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
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
            None if after.is_empty() => default?,
            None => return None,
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
        assert_eq!(split_authority("[::1]x", Some(80)), None);
        assert_eq!(split_authority("a.com:nope", None), None);
    }
}
