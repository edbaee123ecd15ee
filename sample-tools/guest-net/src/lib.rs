//! Shared guest-side networking helpers for the sample tools.
//!
//! Name resolution goes through `wasi:sockets/ip-name-lookup` explicitly, so
//! the host sees (and can refuse) every lookup; TCP and UDP use plain
//! `std::net`, which on `wasm32-wasip2` is backed by `wasi:sockets`; HTTP
//! uses `wasi:http/outgoing-handler` (see [`http`]).

pub mod http;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};

use wasi::sockets::instance_network::instance_network;
use wasi::sockets::ip_name_lookup::{self, IpAddress};
use wasi::sockets::network::ErrorCode;

/// Splits `host:port`, `1.2.3.4:port` or `[::1]:port` into host and port.
pub fn split_host_port(s: &str) -> Result<(&str, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("missing port in {s:?}"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = port.parse().map_err(|_| format!("invalid port in {s:?}"))?;
    if host.is_empty() {
        return Err(format!("missing host in {s:?}"));
    }
    Ok((host, port))
}

/// Looks `name` up with `wasi:sockets/ip-name-lookup`, blocking until done.
pub fn lookup(name: &str) -> Result<Vec<IpAddr>, ErrorCode> {
    let network = instance_network();
    let stream = ip_name_lookup::resolve_addresses(&network, name)?;
    let mut addrs = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4((a, b, c, d)))) => {
                addrs.push(Ipv4Addr::new(a, b, c, d).into());
            }
            Ok(Some(IpAddress::Ipv6((a, b, c, d, e, f, g, h)))) => {
                addrs.push(Ipv6Addr::new(a, b, c, d, e, f, g, h).into());
            }
            Ok(None) => return Ok(addrs),
            Err(ErrorCode::WouldBlock) => stream.subscribe().block(),
            Err(e) => return Err(e),
        }
    }
}

/// Resolves `host` (an IP literal, or a name looked up via [`lookup`]) into
/// socket addresses with `port`.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let ips = lookup(host).map_err(|e| e.to_string())?;
    if ips.is_empty() {
        return Err("no addresses found".into());
    }
    Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

/// Connects to the first of `addrs` that accepts; if none does, returns the
/// error of every attempt.
pub fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, Vec<(SocketAddr, io::Error)>> {
    let mut errors = Vec::new();
    for &addr in addrs {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(e) => errors.push((addr, e)),
        }
    }
    Err(errors)
}
