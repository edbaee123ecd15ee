//! The fix a network denial offers: the flag that, given, allows what was denied. A hint names
//! the real host and port, never a placeholder, and is left out when no flag would allow it
//! (a malformed name, a revoked grant).

use crate::policy::endpoint::{Endpoint, Transport};
use std::net::IpAddr;

/// `--allow-net ENDPOINT`, if `endpoint` is one the policy parser accepts: a hint must work
/// when followed, so one that would not parse is left out.
pub fn allow_net(endpoint: &str) -> Option<String> {
    endpoint.parse::<Endpoint>().is_ok().then(|| format!("--allow-net {endpoint}"))
}

/// `host` as an origin or endpoint names it: an IP literal canonical (an IPv4-mapped IPv6
/// address is the IPv4 address) and bracketed when IPv6, a name as it is.
pub fn host_part(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        Ok(ip) => ip.to_string(),
        Err(_) => bare.to_string(),
    }
}

/// The scheme a transport is written with in targets and endpoints.
pub fn scheme(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Http { tls: false } => "http",
        Transport::Http { tls: true } => "https",
    }
}

/// The flag that allows `t` to `host:port`: `udp://host:port` for UDP; `host:port` for TCP
/// (which covers TCP and UDP, and HTTP requests to it: what a client of that endpoint uses);
/// the origin, `http(s)://host[:port]`, for an HTTP request (the default port left out).
pub fn connect(host: &str, port: u16, t: Transport) -> Option<String> {
    let host = host_part(host);
    match t {
        Transport::Udp => allow_net(&format!("udp://{host}:{port}")),
        Transport::Tcp => allow_net(&format!("{host}:{port}")),
        Transport::Http { tls } => {
            let s = scheme(t);
            if port == if tls { 443 } else { 80 } {
                allow_net(&format!("{s}://{host}"))
            } else {
                allow_net(&format!("{s}://{host}:{port}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_real_endpoints_the_parser_accepts() {
        assert_eq!(connect("10.0.0.5", 443, Transport::Tcp).as_deref(), Some("--allow-net 10.0.0.5:443"));
        assert_eq!(connect("::ffff:10.0.0.5", 53, Transport::Udp).as_deref(), Some("--allow-net udp://10.0.0.5:53"));
        assert_eq!(connect("[::1]", 80, Transport::Http { tls: false }).as_deref(), Some("--allow-net http://[::1]"));
        assert_eq!(
            connect("api.example.com", 8443, Transport::Http { tls: true }).as_deref(),
            Some("--allow-net https://api.example.com:8443")
        );
        assert_eq!(connect("bad_name!", 80, Transport::Tcp), None, "no endpoint allows a malformed name");
    }
}
