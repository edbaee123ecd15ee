//! What the sandbox's side of the egress broker opens, planned by the supervisor from the
//! grant. The network namespace has only `lo`. Before the tool starts, PID 1 brings `lo` up,
//! routes the declared literal addresses and ranges to it (see [`super::route`]) and opens,
//! inside the namespace, the sockets the grant calls for: a DNS stub on 127.0.0.1:53, one TCP
//! relay listener per declared port (on `[::]`, dual-stack, so any address routed to `lo`
//! reaches it), a UDP relay per declared UDP address and port, a UDP socket on `0.0.0.0` per
//! port of a declared UDP `*.suffix` (its names get stand-ins only when the DNS stub is asked,
//! so the supervisor learns each datagram's destination from `IP_PKTINFO`), and an HTTP proxy.
//! The stub and the proxy are there even when nothing is declared: a tool behaves the same
//! whatever its grant (a proxy-aware client always uses the proxy), so the denial it meets
//! names the flag that lets the same request through (`egress::hint`).
//! It hands them to the supervisor over a socketpair (SCM_RIGHTS) and keeps none
//! ([`super::handover`]).
//!
//! Each relay is a descriptor in PID 1 and in the supervisor, and each TCP port a Landlock
//! rule, so a sandbox has at most [`MAX_RELAYS`]: a declaration that needs more is refused
//! with the endpoint named and a fix, never cut short.

use super::broker::FIRST_STAND_IN;
use crate::policy::endpoint::{self, Endpoint, HostPattern, LOCALHOST, Scheme, Transport};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What to open inside, planned by the supervisor from the grant.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NetPlan {
    pub dns: bool,
    pub relay_ports: Vec<u16>,
    pub proxy_port: Option<u16>,
    /// UDP relays, each bound to the exact address the tool will send to: a literal address
    /// (routed to `lo` when not loopback), the stand-in of a declared name, or both loopback
    /// addresses for a localhost name.
    pub udp: Vec<SocketAddr>,
    /// Ports of UDP `*.suffix` endpoints: one socket each on `0.0.0.0`, which receives what is
    /// sent to a stand-in handed out by the DNS stub (more specific sockets on the same port,
    /// the stub and the relays above, keep their own traffic).
    pub udp_wildcard: Vec<u16>,
    /// Stand-in addresses fixed in advance for exact declared names other than localhost names
    /// (the DNS stub hands out the same ones, so UDP relays can be bound before the tool starts).
    pub stand_ins: Vec<(String, Ipv4Addr)>,
    /// Declared literal addresses and ranges (other than loopback) routed to `lo`, so that a
    /// connection to them reaches a relay instead of failing with ENETUNREACH.
    pub local_routes: Vec<IpNet>,
}

/// One socket handed out, in order.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Opened {
    Dns,
    Relay(u16),
    Proxy,
    Udp(SocketAddr),
    /// The UDP socket on `0.0.0.0` at this port, for names under a `*.suffix`.
    UdpWildcard(u16),
}

/// The most relays one sandbox may have: TCP ports plus UDP (address, port) pairs plus the
/// ports of UDP `*.suffix` endpoints.
pub const MAX_RELAYS: usize = 512;

impl NetPlan {
    /// A relay for every port of every endpoint that covers TCP (names and literal addresses
    /// alike; `http(s)://` ranges too wide for the budget are served by the proxy alone), a UDP
    /// relay for every address and port of every endpoint that covers UDP (a wildcard UDP
    /// socket per port for `*.suffix` names), the DNS stub and the proxy always (with nothing
    /// declared they refuse everything, each refusal audited with its fix).
    /// Refuses, naming the endpoint and the fix, a declaration that needs more than
    /// [`MAX_RELAYS`].
    pub fn for_endpoints(endpoints: &[Endpoint]) -> Result<Self, String> {
        let mut tcp: BTreeSet<u16> = BTreeSet::new();
        for e in endpoints.iter().filter(|e| matches!(e.scheme, Scheme::Any | Scheme::Tcp)) {
            tcp.extend(e.ports.first..=e.ports.last);
            if tcp.len() > MAX_RELAYS {
                return Err(too_many_tcp(e, tcp.len()));
            }
        }
        // HTTP origins: relays when they fit (for tools that ignore HTTP_PROXY); the proxy
        // serves them on any port either way.
        for e in endpoints.iter().filter(|e| matches!(e.scheme, Scheme::Http | Scheme::Https)) {
            let more: Vec<u16> = (e.ports.first..=e.ports.last).filter(|p| !tcp.contains(p)).collect();
            if tcp.len() + more.len() <= MAX_RELAYS {
                tcp.extend(more);
            }
        }
        let relay_ports: Vec<u16> = tcp.into_iter().collect();
        let proxy_port = (3128..u16::MAX).find(|p| relay_ports.binary_search(p).is_err());
        let mut stand_ins: Vec<(String, Ipv4Addr)> = Vec::new();
        for e in endpoints {
            if let HostPattern::Name(n) = &e.host
                && !endpoint::is_localhost(n)
                && !stand_ins.iter().any(|(m, _)| m == n)
            {
                let next = u32::from(FIRST_STAND_IN) + stand_ins.len() as u32;
                stand_ins.push((n.clone(), Ipv4Addr::from(next)));
            }
        }
        let mut udp: BTreeSet<SocketAddr> = BTreeSet::new();
        let mut wildcard: BTreeSet<u16> = BTreeSet::new();
        for e in endpoints.iter().filter(|e| e.scheme.covers(Transport::Udp)) {
            let room = MAX_RELAYS.saturating_sub(relay_ports.len() + udp.len() + wildcard.len());
            let hosts = match &e.host {
                HostPattern::Ip(ip) => Hosts::One(ip.to_canonical()),
                HostPattern::Cidr(net) => Hosts::Range(net.trunc()),
                // The stub answers a localhost name with both loopback addresses, as the
                // sandbox's /etc/hosts does.
                HostPattern::Name(n) if endpoint::is_localhost(n) => Hosts::Localhost,
                HostPattern::Name(n) => match stand_ins.iter().find(|(m, _)| m == n) {
                    Some((_, a)) => Hosts::One(IpAddr::V4(*a)),
                    None => continue,
                },
                HostPattern::Suffix(_) => {
                    let more = (e.ports.first..=e.ports.last).filter(|p| !wildcard.contains(p)).count();
                    if more > room {
                        return Err(too_many_udp(e, more as u128));
                    }
                    wildcard.extend(e.ports.first..=e.ports.last);
                    continue;
                }
            };
            let ports = u128::from(e.ports.last - e.ports.first) + 1;
            let needed = hosts.count().saturating_mul(ports);
            if needed > room as u128 {
                return Err(too_many_udp(e, needed));
            }
            for ip in hosts.iter() {
                udp.extend((e.ports.first..=e.ports.last).map(|p| SocketAddr::new(ip, p)));
            }
        }
        let mut local_routes: Vec<IpNet> = endpoints
            .iter()
            .filter_map(|e| match &e.host {
                HostPattern::Ip(ip) => Some(IpNet::from(ip.to_canonical())),
                HostPattern::Cidr(net) => Some(net.trunc()),
                _ => None,
            })
            .filter(super::route::needs_route)
            .collect();
        local_routes.sort_unstable();
        local_routes.dedup();
        Ok(NetPlan {
            dns: true,
            relay_ports,
            proxy_port,
            udp: udp.into_iter().collect(),
            udp_wildcard: wildcard.into_iter().collect(),
            stand_ins,
            local_routes,
        })
    }

    /// Whether nothing at all is opened inside.
    pub fn is_empty(&self) -> bool {
        !self.dns
            && self.relay_ports.is_empty()
            && self.proxy_port.is_none()
            && self.udp.is_empty()
            && self.udp_wildcard.is_empty()
    }

    /// Whether something in the sandbox serves `to`: a local address (loopback, or routed to
    /// `lo`) on the port of a relay, the proxy or the DNS stub. Anything else the kernel
    /// refuses (see `super::notify`).
    pub fn serves(&self, to: SocketAddr) -> bool {
        let ip = to.ip().to_canonical();
        let local = ip.is_loopback() || ip.is_unspecified() || self.local_routes.iter().any(|n| n.contains(&ip));
        let port = to.port();
        local
            && ((self.dns && port == 53)
                || self.relay_ports.binary_search(&port).is_ok()
                || self.proxy_port == Some(port)
                || self.udp.iter().any(|a| a.port() == port)
                || self.udp_wildcard.contains(&port))
    }

    /// TCP ports the tool may connect to (Landlock): the relays and the proxy.
    pub fn connect_ports(&self) -> Vec<u16> {
        self.relay_ports.iter().copied().chain(self.proxy_port).collect()
    }
}

fn too_many_tcp(e: &Endpoint, total: usize) -> String {
    format!(
        "endpoint `{}` needs a relay per TCP port ({total} ports with the endpoints before it), and a native tool gets at most {MAX_RELAYS}; narrow the port range, or declare it as http://… or https://… if the tool speaks HTTP (the proxy serves any port)",
        e.source
    )
}

fn too_many_udp(e: &Endpoint, needed: u128) -> String {
    let (per, range) = match e.host {
        HostPattern::Suffix(_) => ("a UDP socket per port", "the port range"),
        _ => ("a UDP relay per address and port", "the address or port range"),
    };
    let tcp = if e.scheme == Scheme::Any { ", or declare it as tcp://… if the tool needs only TCP" } else { "" };
    format!(
        "endpoint `{}` needs {per} ({needed}), and a native tool gets at most {MAX_RELAYS} relays in all; narrow {range}{tcp}",
        e.source
    )
}

/// The addresses a UDP endpoint names.
enum Hosts {
    One(IpAddr),
    Range(IpNet),
    /// The loopback addresses a localhost name stands for.
    Localhost,
}

impl Hosts {
    fn count(&self) -> u128 {
        match self {
            Hosts::One(_) => 1,
            Hosts::Localhost => LOCALHOST.len() as u128,
            Hosts::Range(net) => {
                let bits = u32::from(net.max_prefix_len() - net.prefix_len());
                1u128.checked_shl(bits).unwrap_or(u128::MAX)
            }
        }
    }

    /// Every address, network and broadcast addresses included (call only after `count` fits).
    fn iter(&self) -> Box<dyn Iterator<Item = IpAddr> + '_> {
        match self {
            Hosts::One(ip) => Box::new(std::iter::once(*ip)),
            Hosts::Localhost => Box::new(LOCALHOST.iter().copied()),
            Hosts::Range(IpNet::V4(n)) => {
                let first = u32::from(n.network());
                Box::new((0..self.count() as u32).map(move |i| IpAddr::V4(Ipv4Addr::from(first + i))))
            }
            Hosts::Range(IpNet::V6(n)) => {
                let first = u128::from(n.network());
                Box::new((0..self.count()).map(move |i| IpAddr::V6(Ipv6Addr::from(first + i))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(eps: &[&str]) -> Result<NetPlan, String> {
        let eps: Vec<Endpoint> = eps.iter().map(|e| e.parse().unwrap()).collect();
        NetPlan::for_endpoints(&eps)
    }

    /// Issue 11: the same tool meets the same stub and proxy whatever its grant, so the hint of
    /// a first, ungranted run is about the request a granted run makes.
    #[test]
    fn nothing_declared_opens_only_the_stub_and_the_proxy() {
        let p = plan(&[]).unwrap();
        assert!(p.dns && p.proxy_port == Some(3128), "{p:?}");
        assert!(p.relay_ports.is_empty() && p.udp.is_empty() && p.udp_wildcard.is_empty() && p.local_routes.is_empty());
        assert!(plan(&["10.0.0.5:443"]).unwrap().dns, "a name may be looked up (and refused) all the same");
    }

    #[test]
    fn localhost_names_are_the_loopback_addresses_without_stand_ins() {
        let p = plan(&["localhost:5353", "udp://app.localhost:9000", "svc.test:80"]).unwrap();
        assert_eq!(p.stand_ins, vec![("svc.test".to_string(), FIRST_STAND_IN)]);
        let udp: Vec<String> = p.udp.iter().map(|a| a.to_string()).collect();
        assert_eq!(udp, ["127.0.0.1:5353", "127.0.0.1:9000", "127.1.0.1:80", "[::1]:5353", "[::1]:9000"]);
        assert_eq!(p.relay_ports, vec![80, 5353]);
    }

    #[test]
    fn every_port_of_a_range_gets_a_relay() {
        let p = plan(&["10.0.0.5:8000-8002", "tcp://127.0.0.1:8002", "api.example.com:443"]).unwrap();
        assert_eq!(p.relay_ports, vec![443, 8000, 8001, 8002]);
        assert_eq!(p.connect_ports(), vec![443, 8000, 8001, 8002, 3128]);
        // No scheme covers UDP too: a relay per address and port.
        let udp: Vec<String> = p.udp.iter().map(|a| a.to_string()).collect();
        assert_eq!(udp, ["10.0.0.5:8000", "10.0.0.5:8001", "10.0.0.5:8002", "127.1.0.1:443"]);
        let p = plan(&[&format!("tcp://127.0.0.1:1-{MAX_RELAYS}")]).unwrap();
        assert_eq!(p.relay_ports.len(), MAX_RELAYS);
        assert_eq!(p.proxy_port, Some(3128), "the proxy is not a relay");
    }

    #[test]
    fn wider_than_the_bound_is_refused_never_cut() {
        for (eps, culprit) in [
            (vec!["api.example.com:1-65535"], "api.example.com:1-65535"),
            (vec!["tcp://host.example:*"], "tcp://host.example:*"),
            (vec!["tcp://10.0.0.1:1-300", "tcp://10.0.0.2:301-600"], "tcp://10.0.0.2:301-600"),
        ] {
            let e = plan(&eps).unwrap_err();
            assert!(e.starts_with(&format!("endpoint `{culprit}` needs a relay per TCP port")), "{e}");
            assert!(e.contains("narrow the port range") && e.contains("https://"), "{e}");
        }
        let e = plan(&["10.0.0.0/16:53"]).unwrap_err();
        assert!(e.contains("needs a UDP relay per address and port (65536)") && e.contains("tcp://"), "{e}");
        let e = plan(&["udp://[fd00::/64]:53"]).unwrap_err();
        assert!(e.contains("(18446744073709551616)") && !e.contains("tcp://"), "{e}");
        // An HTTP origin on any port is the proxy's: no relays, no refusal.
        let p = plan(&["https://api.example.com:*", "http://127.0.0.1:8080"]).unwrap();
        assert_eq!(p.relay_ports, vec![8080]);
        assert!(p.proxy_port.is_some());
    }

    #[test]
    fn literal_addresses_and_ranges_are_routed_to_lo() {
        let p = plan(&[
            "tcp://10.0.0.5:443",
            "tcp://192.0.2.77/24:80",
            "tcp://[2001:db8::1]:443",
            "udp://[fd00::1]:53",
            "tcp://127.0.0.2:80",
            "tcp://[::1]:80",
            "https://api.example.com",
            "tcp://10.0.0.5:444",
        ])
        .unwrap();
        let routes: Vec<String> = p.local_routes.iter().map(|n| n.to_string()).collect();
        assert_eq!(routes, ["10.0.0.5/32", "192.0.2.0/24", "2001:db8::1/128", "fd00::1/128"]);
        assert_eq!(p.udp, vec!["[fd00::1]:53".parse().unwrap()]);
    }

    #[test]
    fn small_udp_ranges_get_a_relay_per_address() {
        let p = plan(&["udp://192.0.2.0/30:53"]).unwrap();
        let udp: Vec<String> = p.udp.iter().map(|a| a.to_string()).collect();
        assert_eq!(udp, ["192.0.2.0:53", "192.0.2.1:53", "192.0.2.2:53", "192.0.2.3:53"]);
        assert!(p.relay_ports.is_empty());
    }

    #[test]
    fn udp_suffix_endpoints_get_a_wildcard_socket_per_port() {
        let p = plan(&["udp://*.example.com:53", "*.example.net:5000-5002", "udp://*.other.org:5001"]).unwrap();
        // Their names get stand-ins only when asked: nothing exact to bind.
        assert!(p.udp.is_empty() && p.stand_ins.is_empty());
        assert_eq!(p.udp_wildcard, vec![53, 5000, 5001, 5002]);
        assert!(p.dns, "the stub hands out the stand-ins");
        assert_eq!(p.relay_ports, vec![5000, 5001, 5002], "no scheme: TCP relays too");
        // TCP only, or HTTP: no UDP socket.
        assert!(plan(&["tcp://*.example.com:53", "https://*.example.com"]).unwrap().udp_wildcard.is_empty());
        // Exact names and the suffix share a port: both kinds of socket (the exact one wins
        // for its stand-in, see handover).
        let p = plan(&["udp://a.example.com:53", "udp://*.example.com:53"]).unwrap();
        assert_eq!((p.udp.len(), p.udp_wildcard.clone()), (1, vec![53]));
    }

    #[test]
    fn udp_suffix_ports_count_against_the_relay_bound() {
        let ok = plan(&[&format!("udp://*.example.com:1-{MAX_RELAYS}")]).unwrap();
        assert_eq!(ok.udp_wildcard.len(), MAX_RELAYS);
        for (eps, culprit, n) in [
            (vec!["udp://*.example.com:*"], "udp://*.example.com:*", 65535),
            (vec!["udp://10.0.0.1:1-500", "udp://*.example.com:1-13"], "udp://*.example.com:1-13", 13),
            (vec!["udp://*.example.com:1-500", "udp://10.0.0.1/28:53"], "udp://10.0.0.1/28:53", 16),
        ] {
            let e = plan(&eps).unwrap_err();
            assert!(e.starts_with(&format!("endpoint `{culprit}` needs a UDP")), "{e}");
            assert!(e.contains(&format!("({n})")) && e.contains("at most 512") && e.contains("narrow"), "{e}");
        }
        let e = plan(&["udp://*.example.com:*"]).unwrap_err();
        assert!(
            e.contains("a UDP socket per port") && e.contains("narrow the port range") && !e.contains("tcp://"),
            "{e}"
        );
        // Ports already opened for another suffix cost nothing more.
        let p = plan(&["udp://*.a.example:1-512", "udp://*.b.example:1-512"]).unwrap();
        assert_eq!(p.udp_wildcard.len(), MAX_RELAYS);
    }
}
