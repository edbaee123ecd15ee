//! Network endpoints: `[scheme://]host[:port]`, parsed once and matched many times.
//!
//! * no scheme: TCP and UDP to `host:port` (a port is required), and HTTP(S) requests to it
//!   (through the sandbox's HTTP proxy or `wasi:http`: the tool could have dialled it itself);
//! * `tcp://`: TCP, and HTTP(S) requests (they ride on TCP); `udp://`: UDP only (a port is
//!   required for both);
//! * `http://` / `https://`: HTTP requests to that origin, plus the TCP connection they need;
//!   the port defaults to 80 / 443.
//!
//! The name `localhost` and names under `.localhost` are the loopback addresses (RFC 6761): they
//! are never asked of a resolver (see [`crate::egress`]).
//!
//! `host` is a DNS name, `*.suffix` (subdomains only, never the apex), an IPv4 address,
//! a bracketed IPv6 address, or a CIDR range. `port` is `N`, `N-M` or `*`.

use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// Which traffic an endpoint covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// No scheme given: TCP and UDP.
    Any,
    Tcp,
    Udp,
    Http,
    Https,
}

/// A transport-level use of an address, as the executors see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    /// An HTTP request; `true` for `https`.
    Http {
        tls: bool,
    },
}

impl Scheme {
    /// Whether an endpoint with this scheme covers `transport`.
    pub fn covers(self, transport: Transport) -> bool {
        match (self, transport) {
            (Scheme::Any, Transport::Tcp | Transport::Udp) => true,
            // A request to an endpoint the tool may dial itself: sending it through the proxy
            // (or wasi:http) reaches nothing the connection would not.
            (Scheme::Any | Scheme::Tcp, Transport::Http { .. }) => true,
            (Scheme::Tcp, Transport::Tcp) => true,
            (Scheme::Udp, Transport::Udp) => true,
            // An HTTP origin also covers the TCP connection its requests need.
            (Scheme::Http, Transport::Http { tls: false } | Transport::Tcp) => true,
            (Scheme::Https, Transport::Http { tls: true } | Transport::Tcp) => true,
            _ => false,
        }
    }

    fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            _ => None,
        }
    }
}

/// The addresses `localhost` and the names under `.localhost` stand for (RFC 6761 §6.3), IPv4
/// first: they are never asked of a resolver, and need no `--resolve`.
pub const LOCALHOST: [IpAddr; 2] = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];

/// Whether a normalised name is `localhost` or a name under it (`app.localhost`).
pub fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// The host part of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum HostPattern {
    /// An exact DNS name, lower-cased, without a trailing dot.
    Name(String),
    /// `*.suffix`: any name strictly below `suffix`.
    Suffix(String),
    /// A literal address.
    Ip(IpAddr),
    /// A literal range.
    Cidr(IpNet),
}

impl HostPattern {
    /// Whether the DNS `name` (already normalised) matches this pattern.
    pub fn matches_name(&self, name: &str) -> bool {
        match self {
            HostPattern::Name(n) => n == name,
            HostPattern::Suffix(s) => {
                name.len() > s.len() + 1 && name.ends_with(s.as_str()) && {
                    name.as_bytes()[name.len() - s.len() - 1] == b'.'
                }
            }
            _ => false,
        }
    }

    /// Whether this pattern names `ip` literally (as an address or a range containing it).
    pub fn names_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match self {
            HostPattern::Ip(a) => a.to_canonical() == ip,
            HostPattern::Cidr(net) => net.contains(&ip),
            _ => false,
        }
    }

    /// Whether every name this pattern matches is a localhost name (see [`is_localhost`]).
    pub fn is_localhost(&self) -> bool {
        match self {
            HostPattern::Name(n) | HostPattern::Suffix(n) => is_localhost(n),
            _ => false,
        }
    }

    /// Whether this is a DNS name or name pattern (as opposed to a literal address).
    pub fn is_name(&self) -> bool {
        matches!(self, HostPattern::Name(_) | HostPattern::Suffix(_))
    }
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

/// One declared endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub scheme: Scheme,
    pub host: HostPattern,
    pub ports: PortRange,
    /// The text it was parsed from, for audit records and messages.
    pub source: String,
}

/// Why an endpoint string was rejected (the caller adds where it came from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError(pub String);

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, EndpointError> {
    Err(EndpointError(msg.into()))
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    /// Parses `[scheme://]host[:port]`. Only canonical forms are accepted: no whitespace or
    /// control characters anywhere, IPv4 in dotted decimal and never in brackets, no host
    /// name that a resolver or libc could read as a number, ports in plain decimal.
    fn from_str(text: &str) -> Result<Self, EndpointError> {
        check_chars(text)?;
        let (scheme, rest) = match text.split_once("://") {
            None => (Scheme::Any, text),
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "tcp" => Scheme::Tcp,
                    "udp" => Scheme::Udp,
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    other => {
                        return err(format!("unknown scheme `{other}` (use tcp, udp, http or https)"));
                    }
                };
                (scheme, rest)
            }
        };
        // An origin may be written with a trailing slash; anything longer is a path.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return err("missing host");
        }
        if rest.contains(['?', '#', '@']) {
            return err("an endpoint is an origin: no user, path, query or fragment");
        }
        let (host_text, bracketed, port_text) = split_host_port(rest)?;
        let host = parse_host(host_text)?;
        match (&host, bracketed) {
            (HostPattern::Ip(IpAddr::V6(_)) | HostPattern::Cidr(IpNet::V6(_)), _) | (_, false) => {}
            (HostPattern::Ip(v4 @ IpAddr::V4(_)), true) if host_text.contains(':') => {
                return err(format!("`{host_text}` is the IPv4 address {v4} written as IPv6; write {v4}"));
            }
            _ => return err(format!("brackets are for IPv6 addresses only; write `{host_text}` without them")),
        }
        let ports = match port_text {
            Some(p) => parse_ports(p)?,
            None => match scheme.default_port() {
                Some(p) => PortRange { first: p, last: p },
                None => {
                    return err("a port is required (e.g. host:443, or use https:// for the default port)");
                }
            },
        };
        Ok(Endpoint { scheme, host, ports, source: text.to_string() })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Refuses whitespace and control characters anywhere: a value is taken exactly as written,
/// never trimmed, so what is checked is what is shown and audited.
pub fn check_chars(text: &str) -> Result<(), EndpointError> {
    match text.char_indices().find(|(_, c)| c.is_whitespace() || c.is_control()) {
        None => Ok(()),
        Some((i, c)) => err(format!(
            "contains {} at byte {i}; remove it (values are taken exactly as written)",
            match c {
                ' ' => "a space".to_string(),
                '\n' => "a line break".to_string(),
                '\t' => "a tab".to_string(),
                c => format!("U+{:04X}", u32::from(c)),
            }
        )),
    }
}

/// Splits `host[:port]` or `[host][:port]`; says whether the host was bracketed.
fn split_host_port(rest: &str) -> Result<(&str, bool, Option<&str>), EndpointError> {
    if let Some(inner) = rest.strip_prefix('[') {
        let Some((host, after)) = inner.split_once(']') else {
            return err("unclosed `[` in IPv6 address");
        };
        return match after {
            "" => Ok((host, true, None)),
            a => match a.strip_prefix(':') {
                Some(port) => Ok((host, true, Some(port))),
                None => err("expected `:port` after `]`"),
            },
        };
    }
    if rest.contains(['[', ']']) {
        return err("`[` and `]` only enclose an IPv6 address, e.g. [2001:db8::1]:443");
    }
    match rest.split_once(':') {
        None => Ok((rest, false, None)),
        Some((h, p)) if !p.contains(':') => Ok((h, false, Some(p))),
        Some(_) => err("IPv6 addresses must be bracketed, e.g. [2001:db8::1]:443"),
    }
}

/// Parses a host pattern; shared with `--resolve` and name look-ups.
pub fn parse_host(text: &str) -> Result<HostPattern, EndpointError> {
    check_chars(text)?;
    if let Some((addr, len)) = text.split_once('/') {
        let bad = || err(format!("`{text}` is not a valid CIDR range (e.g. 10.0.0.0/8 or [fd00::/8])"));
        let (Ok(addr), Some(len)) = (IpAddr::from_str(addr), canonical_decimal(len)) else {
            return bad();
        };
        let Ok(len) = u8::try_from(len) else { return bad() };
        return IpNet::new(addr, len).map(|n| HostPattern::Cidr(n.trunc())).or_else(|_| bad());
    }
    if let Ok(ip) = IpAddr::from_str(text) {
        return Ok(HostPattern::Ip(ip.to_canonical()));
    }
    if text == "*" {
        return err("a bare `*` host is not allowed; name the hosts, or a range such as 203.0.113.0/24");
    }
    if let Some(suffix) = text.strip_prefix("*.") {
        return Ok(HostPattern::Suffix(normalize_name(suffix)?));
    }
    Ok(HostPattern::Name(normalize_name(text)?))
}

/// Validates and normalises a DNS name: lower case, no trailing dot, LDH labels, and never
/// numeric-looking (see [`ends_in_number`]).
pub fn normalize_name(text: &str) -> Result<String, EndpointError> {
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return err(format!("`{text}` is not a valid host name"));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return err(format!("`{text}` is not a valid host name"));
        }
    }
    if ends_in_number(&name) {
        return err(match libc_ipv4(&name) {
            Some(ip) => format!("`{text}` is a numeric address in a form libc reads as {ip}; write {ip}"),
            None if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                format!("`{text}` is not a valid IPv4 address (dotted decimal: four parts 0-255, no leading zeros)")
            }
            None => format!(
                "`{text}` ends in a numeric label, which resolvers and libc may read as an IPv4 address; name a host"
            ),
        });
    }
    Ok(name)
}

/// Whether a host name's last label is a number (all digits, or `0x` and hex digits): the
/// WHATWG URL standard's "ends in a number" rule. Such a name is an IPv4 address to a
/// browser, and to libc's `inet_aton` when every label is a number (`127.1`, `0x7f.0.0.1`,
/// `0177.0.0.1`, `2130706433`); no real name ends so (top-level domains are never numeric).
pub fn ends_in_number(name: &str) -> bool {
    let last = name.strip_suffix('.').unwrap_or(name).rsplit('.').next().unwrap_or("");
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The address glibc's `inet_aton` reads from `text` (1 to 4 parts, each decimal, octal with a
/// leading `0`, or hex with `0x`; the last part fills the remaining bytes), if it reads one.
pub fn libc_ipv4(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<u64> = text.split('.').map(libc_number).collect::<Option<_>>()?;
    let (last, init) = parts.split_last()?;
    if init.len() > 3 || init.iter().any(|p| *p > 255) || *last >= 1u64 << (8 * (4 - init.len())) {
        return None;
    }
    let high = init.iter().enumerate().fold(0u64, |acc, (i, p)| acc | (p << (24 - 8 * i)));
    u32::try_from(high | last).ok().map(std::net::Ipv4Addr::from)
}

fn libc_number(part: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (h, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if radix == 16 && digits.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.bytes().all(|b| char::from(b).is_digit(radix)) {
        return None;
    }
    // Anything past 32 bits is out of range for every part.
    u64::from_str_radix(digits, radix).ok().filter(|n| *n <= u64::from(u32::MAX))
}

/// A decimal number as written canonically: digits only, no sign, no leading zero.
fn canonical_decimal(text: &str) -> Option<u32> {
    let canonical = !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn parse_ports(text: &str) -> Result<PortRange, EndpointError> {
    let port = |s: &str| -> Result<u16, EndpointError> {
        match canonical_decimal(s).and_then(|p| u16::try_from(p).ok()) {
            Some(p) if p > 0 => Ok(p),
            _ => err(format!("`{s}` is not a port (1-65535, in decimal without sign or leading zeros)")),
        }
    };
    if text == "*" {
        return Ok(PortRange { first: 1, last: u16::MAX });
    }
    match text.split_once('-') {
        Some((a, b)) => {
            let (first, last) = (port(a)?, port(b)?);
            if first > last {
                return err(format!("port range `{text}` is reversed"));
            }
            Ok(PortRange { first, last })
        }
        None => port(text).map(|p| PortRange { first: p, last: p }),
    }
}

/// Parses a `--resolve` pin, `HOST:ADDR`: a DNS name and an address (IPv4 in dotted decimal,
/// IPv6 bare or in brackets).
pub fn parse_pin(text: &str) -> Result<(String, IpAddr), EndpointError> {
    check_chars(text)?;
    let Some((host, addr)) = text.split_once(':') else {
        return err("missing `:ADDR`");
    };
    let name = match parse_host(host)? {
        HostPattern::Name(n) => n,
        _ => return err(format!("`{host}` is not a host name (a pin gives a declared name its address)")),
    };
    let ip = match addr.strip_prefix('[') {
        Some(inner) => match inner.strip_suffix(']').map(Ipv6Addr::from_str) {
            Some(Ok(v6)) => IpAddr::V6(v6),
            _ => return err(format!("`{addr}` is not an IPv6 address in brackets")),
        },
        None => IpAddr::from_str(addr).or_else(|_| err(format!("`{addr}` is not an IP address")))?,
    };
    Ok((name, ip.to_canonical()))
}

/// Parses a socket address given as `IP:PORT` (IPv4 dotted decimal, IPv6 in brackets),
/// canonically as endpoints are: for `--resolver`.
pub fn parse_socket_addr(text: &str) -> Result<SocketAddr, EndpointError> {
    check_chars(text)?;
    let (host, bracketed, port) = split_host_port(text)?;
    let ip = match (IpAddr::from_str(host), bracketed) {
        (Ok(IpAddr::V4(v4)), false) => IpAddr::V4(v4),
        (Ok(IpAddr::V6(v6)), true) => IpAddr::V6(v6),
        _ => return err(format!("`{host}` is not an IPv4 address or a bracketed IPv6 address")),
    };
    let Some(port) = port else { return err("a port is required, e.g. 127.0.0.1:53") };
    let ports = parse_ports(port)?;
    if ports.first != ports.last {
        return err("one port, not a range");
    }
    Ok(SocketAddr::new(ip, ports.first))
}

#[cfg(test)]
mod tests;
