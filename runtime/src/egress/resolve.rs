//! Name resolution for *declared* names only. The grant decides whether a name may be
//! resolved at all; a resolver is only ever asked about names that passed that check, so
//! no query for an undeclared name leaves the runtime.

use super::dns;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a declared name into addresses.
pub trait Resolve: Send + Sync + fmt::Debug {
    fn resolve<'a>(&'a self, name: &'a str) -> ResolveFuture<'a>;
}

/// The host's resolver (`getaddrinfo`, so `/etc/hosts` and `/etc/resolv.conf` apply).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(&'a self, name: &'a str) -> ResolveFuture<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name, 0)).await?;
            Ok(addrs.map(|a| a.ip().to_canonical()).collect())
        })
    }
}

/// Asks one DNS server over UDP for A and AAAA records (`--resolver ADDR:PORT`).
#[derive(Debug, Clone, Copy)]
pub struct DnsServerResolver {
    pub server: SocketAddr,
    pub timeout: Duration,
}

impl DnsServerResolver {
    async fn query(&self, name: &str, qtype: u16) -> io::Result<Vec<IpAddr>> {
        let bind: SocketAddr = if self.server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let sock = tokio::net::UdpSocket::bind(bind).await?;
        sock.connect(self.server).await?;
        let mut id = [0u8; 2];
        getrandom::fill(&mut id).map_err(|e| io::Error::other(e.to_string()))?;
        let id = u16::from_be_bytes(id);
        let query = dns::encode_query(id, name, qtype)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "name too long for DNS"))?;
        sock.send(&query).await?;
        let mut buf = vec![0u8; 1500];
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let n = tokio::time::timeout_at(deadline, sock.recv(&mut buf))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "DNS server did not answer"))??;
            match dns::parse_answers(&buf[..n], id) {
                Ok(addrs) => return Ok(addrs),
                Err(dns::RCODE_NXDOMAIN) => return Ok(Vec::new()),
                Err(2) if buf.get(..2) != Some(&id.to_be_bytes()) => continue, // not ours
                Err(code) => {
                    return Err(io::Error::other(format!("DNS server answered rcode {code}")));
                }
            }
        }
    }
}

impl Resolve for DnsServerResolver {
    fn resolve<'a>(&'a self, name: &'a str) -> ResolveFuture<'a> {
        Box::pin(async move {
            let (a, aaaa) = tokio::join!(self.query(name, dns::TYPE_A), self.query(name, dns::TYPE_AAAA));
            let mut out = a?;
            out.extend(aaaa.unwrap_or_default());
            if out.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such name")));
            }
            Ok(out)
        })
    }
}
