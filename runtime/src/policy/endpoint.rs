//! Network endpoints: `[scheme://]host[:port]`, parsed once and matched many times.
//!
//! * no scheme: TCP and UDP to `host:port` (a port is required);
//! * `tcp://` / `udp://`: only that transport (a port is required);
//! * `http://` / `https://`: HTTP requests to that origin, plus the TCP connection they need;
//!   the port defaults to 80 / 443.
//!
//! `host` is a DNS name, `*.suffix` (subdomains only, never the apex), an IPv4 address,
//! a bracketed IPv6 address, or a CIDR range. `port` is `N`, `N-M` or `*`.

use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
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

    fn from_str(text: &str) -> Result<Self, EndpointError> {
        let trimmed = text.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            None => (Scheme::Any, trimmed),
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
        let (host_text, port_text) = split_host_port(rest)?;
        let host = parse_host(host_text)?;
        let ports = match port_text {
            Some(p) => parse_ports(p)?,
            None => match scheme.default_port() {
                Some(p) => PortRange { first: p, last: p },
                None => {
                    return err("a port is required (e.g. host:443, or use https:// for the default port)");
                }
            },
        };
        Ok(Endpoint { scheme, host, ports, source: trimmed.to_string() })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), EndpointError> {
    if let Some(inner) = rest.strip_prefix('[') {
        let Some((host, after)) = inner.split_once(']') else {
            return err("unclosed `[` in IPv6 address");
        };
        return match after {
            "" => Ok((host, None)),
            a => match a.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => err("expected `:port` after `]`"),
            },
        };
    }
    match rest.matches(':').count() {
        0 => Ok((rest, None)),
        1 => {
            let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
            Ok((h, Some(p)))
        }
        _ => err("IPv6 addresses must be bracketed, e.g. [2001:db8::1]:443"),
    }
}

/// Parses a host pattern; shared with `--resolve` and name look-ups.
pub fn parse_host(text: &str) -> Result<HostPattern, EndpointError> {
    if text.contains('/') {
        return IpNet::from_str(text)
            .map(|n| HostPattern::Cidr(n.trunc()))
            .or_else(|_| err(format!("`{text}` is not a valid CIDR range")));
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

/// Validates and normalises a DNS name: lower case, no trailing dot, LDH labels.
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
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return err(format!("`{text}` is not a valid IPv4 address"));
    }
    Ok(name)
}

fn parse_ports(text: &str) -> Result<PortRange, EndpointError> {
    let port = |s: &str| -> Result<u16, EndpointError> {
        match s.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => err(format!("`{s}` is not a port (1-65535)")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn schemes_and_default_ports() {
        assert_eq!(ep("https://api.example.com").ports, PortRange { first: 443, last: 443 });
        assert_eq!(ep("http://api.example.com/").ports, PortRange { first: 80, last: 80 });
        assert_eq!(ep("api.example.com:8443").scheme, Scheme::Any);
        assert!("api.example.com".parse::<Endpoint>().is_err(), "bare host needs a port");
        assert!("tcp://10.0.0.1".parse::<Endpoint>().is_err());
        assert!("ftp://x.com:21".parse::<Endpoint>().is_err());
        assert!("https://x.com/path".parse::<Endpoint>().is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(ep("10.0.0.5:443").host, HostPattern::Ip("10.0.0.5".parse().unwrap()));
        assert_eq!(ep("[::1]:80").host, HostPattern::Ip("::1".parse().unwrap()));
        assert_eq!(ep("10.1.2.3/8:22").host, HostPattern::Cidr("10.0.0.0/8".parse().unwrap()));
        assert_eq!(ep("[fd00::/8]:53").host, HostPattern::Cidr("fd00::/8".parse().unwrap()));
        assert_eq!(ep("*.Example.COM:1").host, HostPattern::Suffix("example.com".into()));
        assert!("::1:80".parse::<Endpoint>().is_err(), "unbracketed IPv6");
        assert!("*:80".parse::<Endpoint>().is_err());
        assert!("bad_host!:80".parse::<Endpoint>().is_err());
        assert!("999.1.1.1:80".parse::<Endpoint>().is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(ep("h.com:*").ports, PortRange { first: 1, last: 65535 });
        assert_eq!(ep("h.com:8000-8100").ports, PortRange { first: 8000, last: 8100 });
        assert!("h.com:0".parse::<Endpoint>().is_err());
        assert!("h.com:9-1".parse::<Endpoint>().is_err());
        assert!("h.com:70000".parse::<Endpoint>().is_err());
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let h = ep("*.example.com:443").host;
        assert!(h.matches_name("api.example.com"));
        assert!(h.matches_name("a.b.example.com"));
        assert!(!h.matches_name("example.com"), "apex is not a subdomain");
        assert!(!h.matches_name("evilexample.com"));
        assert!(!h.matches_name("example.com.evil.net"));
    }

    #[test]
    fn literal_addresses_and_ranges() {
        assert!(ep("10.0.0.0/8:1").host.names_ip("10.9.9.9".parse().unwrap()));
        assert!(!ep("10.0.0.0/8:1").host.names_ip("11.0.0.1".parse().unwrap()));
        assert!(ep("127.0.0.1:1").host.names_ip("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!ep("a.com:1").host.names_ip("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn scheme_coverage() {
        assert!(Scheme::Any.covers(Transport::Tcp) && Scheme::Any.covers(Transport::Udp));
        assert!(!Scheme::Any.covers(Transport::Http { tls: false }));
        assert!(!Scheme::Tcp.covers(Transport::Udp));
        assert!(Scheme::Https.covers(Transport::Tcp));
        assert!(!Scheme::Https.covers(Transport::Http { tls: false }));
        assert!(!Scheme::Http.covers(Transport::Udp));
    }
}
