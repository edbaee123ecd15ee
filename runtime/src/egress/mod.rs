//! Egress decisions: may this invocation look up this name, connect to this address, bind
//! this port, send an HTTP request to this origin?
//!
//! Names are resolved by the runtime, at most once per invocation, and pinned: a tool only
//! ever reaches the addresses the runtime resolved for a declared name. Undeclared names are
//! refused before any resolver is asked, so DNS cannot be used as a side channel.

pub mod addr;
pub mod broker;
pub mod dns;
pub mod http;
pub mod quota;
pub mod resolve;

use crate::audit::{Auditor, Capability};
use crate::grant::Denial;
use crate::policy::endpoint::{self, Endpoint, HostPattern, Transport};
use quota::{Held, Quota};
use resolve::Resolve;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The network part of a grant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetGrant {
    pub endpoints: Vec<Endpoint>,
    pub listen: Vec<Endpoint>,
    pub pins: BTreeMap<String, Vec<IpAddr>>,
}

type Resolution = Arc<OnceCell<Result<Vec<IpAddr>, String>>>;

/// The live egress state of one invocation: its grant's network part plus the names it has
/// resolved so far.
#[derive(Debug)]
pub struct Egress {
    net: NetGrant,
    resolver: Arc<dyn Resolve>,
    resolved: Mutex<HashMap<String, Resolution>>,
    /// Look-ups waiting on the resolver ([`quota::MAX_PENDING_LOOKUPS`]).
    quota: Arc<Quota>,
}

/// `--allow-net ENDPOINT`, if `endpoint` is one the policy parser accepts: a hint must work
/// when followed, so one that would not parse is left out.
pub fn allow_net_hint(endpoint: &str) -> Option<String> {
    endpoint.parse::<Endpoint>().is_ok().then(|| format!("--allow-net {endpoint}"))
}

/// `host` as an origin or endpoint names it: an IP literal canonical (an IPv4-mapped IPv6
/// address is the IPv4 address) and bracketed when IPv6, a name as it is.
fn host_part(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        Ok(ip) => ip.to_string(),
        Err(_) => bare.to_string(),
    }
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Http { tls: false } => "http",
        Transport::Http { tls: true } => "https",
    }
}

impl Egress {
    pub fn new(net: NetGrant, resolver: Arc<dyn Resolve>) -> Self {
        Egress { net, resolver, resolved: Mutex::new(HashMap::new()), quota: Quota::new() }
    }

    pub fn grant(&self) -> &NetGrant {
        &self.net
    }

    fn covering(&self, t: Transport, port: u16) -> impl Iterator<Item = &Endpoint> {
        self.net.endpoints.iter().filter(move |e| e.scheme.covers(t) && e.ports.contains(port))
    }

    fn declared_name(&self, name: &str) -> bool {
        self.net.endpoints.iter().any(|e| e.host.matches_name(name))
    }

    fn named_literally(&self, ip: IpAddr) -> bool {
        self.net.endpoints.iter().any(|e| e.host.names_ip(ip))
    }

    /// A tool's name look-up. Only declared names (exact or under a declared `*.suffix`)
    /// are resolved; IP literals are returned as they are, without any query.
    pub async fn lookup(&self, name: &str, audit: &Auditor) -> Result<Vec<IpAddr>, Denial> {
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Ok(vec![ip.to_canonical()]);
        }
        let asked = name;
        let name = endpoint::normalize_name(name)
            .map_err(|_| Denial::new(Capability::NetDns, asked, "not a valid host name", None))?;
        if !self.declared_name(&name) {
            // The port the tool will use is not known yet: the hint names the most common one.
            let hint = allow_net_hint(&format!("{name}:443"));
            return Err(Denial::new(Capability::NetDns, asked, "name not declared; no query was sent", hint));
        }
        self.resolve_declared(&name, audit).await
    }

    /// Resolves a name already known to be declared, once per invocation, dropping any
    /// address in a special range that no entry names literally (DNS-rebinding guard).
    async fn resolve_declared(&self, name: &str, audit: &Auditor) -> Result<Vec<IpAddr>, Denial> {
        if let Some(pinned) = self.net.pins.get(name) {
            audit.allow(Capability::NetDns, name, format!("pinned to {}", join(pinned)));
            return Ok(pinned.clone());
        }
        let refuse = |reason: String| Denial::new(Capability::NetDns, name, &reason, None);
        let cell = {
            let mut map = self.resolved.lock().map_err(|_| refuse("internal lock poisoned".into()))?;
            if !map.contains_key(name) && map.len() >= quota::MAX_NAMES {
                return Err(refuse(format!(
                    "at most {} distinct names (MAX_NAMES) are resolved per call; refused",
                    quota::MAX_NAMES
                )));
            }
            map.entry(name.to_string()).or_default().clone()
        };
        // A look-up that will ask the resolver holds a place among those in flight.
        let _pending = match cell.get() {
            Some(_) => None,
            None => Some(self.quota.acquire(Held::Lookup).map_err(|r| refuse(r.0))?),
        };
        let result = cell
            .get_or_init(|| async {
                let addrs = self.resolver.resolve(name).await.map_err(|e| format!("resolution failed: {e}"))?;
                let (ok, refused): (Vec<IpAddr>, Vec<IpAddr>) = addrs
                    .into_iter()
                    .map(|a| a.to_canonical())
                    .partition(|a| addr::special_range(*a).is_none() || self.named_literally(*a));
                for a in &refused {
                    let why = addr::special_range(*a).unwrap_or("special range");
                    audit.deny(&Denial::new(
                        Capability::NetDns,
                        name,
                        &format!("resolved to {a}: {why}; refused as DNS rebinding"),
                        Some(format!("--resolve {name}:{}", host_part(&a.to_string()))),
                    ));
                }
                if ok.is_empty() {
                    return Err(if refused.is_empty() {
                        "no addresses".to_string()
                    } else {
                        "only refused addresses".to_string()
                    });
                }
                audit.allow(Capability::NetDns, name, format!("resolved to {} and pinned", join(&ok)));
                Ok(ok)
            })
            .await;
        result.clone().map_err(|reason| Denial::new(Capability::NetDns, name, &reason, None))
    }

    /// Addresses already pinned for names matching `pattern` (resolving an exact name if needed).
    async fn pinned_for(&self, pattern: &HostPattern, audit: &Auditor) -> Vec<IpAddr> {
        match pattern {
            HostPattern::Name(n) => self.resolve_declared(n, audit).await.unwrap_or_default(),
            HostPattern::Suffix(_) => {
                let cells: Vec<(String, Resolution)> = self
                    .resolved
                    .lock()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let mut out: Vec<IpAddr> = cells
                    .into_iter()
                    .filter(|(n, _)| pattern.matches_name(n))
                    .filter_map(|(_, c)| c.get().and_then(|r| r.clone().ok()))
                    .flatten()
                    .collect();
                out.extend(self.net.pins.iter().filter(|(n, _)| pattern.matches_name(n)).flat_map(|(_, a)| a.clone()));
                out
            }
            _ => Vec::new(),
        }
    }

    /// An outgoing TCP connection or UDP datagram to `addr`.
    pub async fn check_connect(&self, addr: SocketAddr, t: Transport, audit: &Auditor) -> Result<String, Denial> {
        let ip = addr.ip().to_canonical();
        let target = SocketAddr::new(ip, addr.port());
        for e in self.covering(t, addr.port()) {
            if e.host.names_ip(ip) {
                return Ok(format!("matches {e}"));
            }
        }
        for e in self.covering(t, addr.port()).filter(|e| e.host.is_name()) {
            if self.pinned_for(&e.host, audit).await.contains(&ip) {
                return Ok(format!("pinned address of {e}"));
            }
        }
        let hint = match t {
            Transport::Udp => allow_net_hint(&format!("udp://{target}")),
            _ => allow_net_hint(&target.to_string()),
        };
        Err(Denial::new(Capability::NetConnect, &format!("{}://{target}", transport_name(t)), "not declared", hint))
    }

    /// Binding a local address (`listen` = also listening for connections).
    pub fn check_bind(&self, addr: SocketAddr, t: Transport, listen: bool) -> Result<String, Denial> {
        let ip = addr.ip().to_canonical();
        let declared =
            self.net.listen.iter().any(|e| e.scheme.covers(t) && e.ports.contains(addr.port()) && e.host.names_ip(ip));
        if declared {
            return Ok("declared listener".into());
        }
        // A client socket needs an ephemeral local port; that is not a listener. A TCP
        // socket bound so cannot accept (listening is checked on its own); a UDP one could
        // receive datagrams, so it needs a declared UDP endpoint.
        if !listen && addr.port() == 0 {
            if t == Transport::Tcp {
                return Ok("ephemeral port for a client connection".into());
            }
            if self.net.endpoints.iter().any(|e| e.scheme.covers(t)) {
                return Ok("ephemeral port for a declared UDP endpoint".into());
            }
            return Err(Denial::new(
                Capability::NetBind,
                &format!("{}://{addr}", transport_name(t)),
                "no UDP endpoint is declared (declare where the tool sends: --allow-net udp://host:port)",
                None,
            ));
        }
        let scheme = if t == Transport::Udp { "udp://" } else { "" };
        Err(Denial::new(
            Capability::NetBind,
            &format!("{}://{addr}", transport_name(t)),
            if listen { "listening is not declared" } else { "binding is not declared" },
            Some(format!("--allow-listen {scheme}{addr}")),
        ))
    }

    /// An HTTP request to `scheme://host:port`: checked by scheme, host and port, then
    /// routed to the pinned addresses of the host (never to what a header says).
    pub async fn route_http(
        &self,
        tls: bool,
        host: &str,
        port: u16,
        audit: &Auditor,
    ) -> Result<Vec<SocketAddr>, Denial> {
        let t = Transport::Http { tls };
        let scheme = transport_name(t);
        let shown = host_part(host);
        let origin = format!("{scheme}://{shown}:{port}");
        let default_port = if tls { 443 } else { 80 };
        let hint =
            if port == default_port { allow_net_hint(&format!("{scheme}://{shown}")) } else { allow_net_hint(&origin) };
        let deny = |reason: &str| Denial::new(Capability::NetHttp, &origin, reason, hint.clone());
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return if self.covering(t, port).any(|e| e.host.names_ip(ip)) {
                Ok(vec![SocketAddr::new(ip, port)])
            } else {
                Err(deny("origin not declared"))
            };
        }
        let name = endpoint::normalize_name(host).map_err(|_| deny("not a valid host name"))?;
        if !self.covering(t, port).any(|e| e.host.matches_name(&name)) {
            return Err(deny("origin not declared"));
        }
        let addrs = self.resolve_declared(&name, audit).await.map_err(|d| deny(&d.reason))?;
        Ok(addrs.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }
}

fn join(addrs: &[IpAddr]) -> String {
    addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{MemorySink, NullSink};
    use std::io;

    #[derive(Debug, Default)]
    struct FakeDns {
        asked: Mutex<Vec<String>>,
    }

    impl Resolve for FakeDns {
        fn resolve<'a>(&'a self, name: &'a str) -> resolve::ResolveFuture<'a> {
            self.asked.lock().unwrap().push(name.to_string());
            let r = match name {
                "public.example.com" | "api.example.com" => Ok(vec!["93.184.216.34".parse().unwrap()]),
                "rebind.example.com" => Ok(vec!["127.0.0.1".parse().unwrap(), "169.254.169.254".parse().unwrap()]),
                _ => Err(io::Error::new(io::ErrorKind::NotFound, "nxdomain")),
            };
            Box::pin(async move { r })
        }
    }

    fn egress(eps: &[&str], pins: &[(&str, &str)]) -> (Egress, Arc<FakeDns>) {
        let dns = Arc::new(FakeDns::default());
        let net = NetGrant {
            endpoints: eps.iter().map(|e| e.parse().unwrap()).collect(),
            listen: vec!["127.0.0.1:8080".parse().unwrap()],
            pins: pins.iter().map(|(n, a)| (n.to_string(), vec![a.parse().unwrap()])).collect(),
        };
        (Egress::new(net, dns.clone()), dns)
    }

    fn audit() -> Auditor {
        Auditor::new(Arc::new(NullSink), "g".into(), "t".into())
    }

    #[tokio::test]
    async fn undeclared_names_never_reach_the_resolver() {
        let (eg, dns) = egress(&["public.example.com:443", "*.example.com:443"], &[]);
        assert!(eg.lookup("secret-data.evil.net", &audit()).await.is_err());
        assert!(eg.lookup("example.com", &audit()).await.is_err(), "apex is not under *.example.com");
        assert!(eg.lookup("public.example.com", &audit()).await.is_ok());
        assert!(eg.lookup("PUBLIC.example.com.", &audit()).await.is_ok());
        assert_eq!(*dns.asked.lock().unwrap(), vec!["public.example.com"], "resolved once, only the declared name");
    }

    #[tokio::test]
    async fn rebinding_to_private_addresses_is_refused_unless_pinned_or_literal() {
        let sink = Arc::new(MemorySink::default());
        let a = Auditor::new(sink.clone(), "g".into(), "t".into());
        let (eg, _) = egress(&["rebind.example.com:80"], &[]);
        assert!(eg.lookup("rebind.example.com", &a).await.is_err());
        assert!(sink.events().iter().any(|e| e.hint.as_deref() == Some("--resolve rebind.example.com:127.0.0.1")));
        let (eg, _) = egress(&["rebind.example.com:80", "127.0.0.1:80"], &[]);
        assert_eq!(eg.lookup("rebind.example.com", &a).await.unwrap(), vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        let (eg, dns) = egress(&["rebind.example.com:80"], &[("rebind.example.com", "10.1.1.1")]);
        assert_eq!(eg.lookup("rebind.example.com", &a).await.unwrap(), vec!["10.1.1.1".parse::<IpAddr>().unwrap()]);
        assert!(dns.asked.lock().unwrap().is_empty(), "a pin needs no query");
    }

    #[tokio::test]
    async fn connect_checks_address_port_and_transport() {
        let (eg, _) = egress(&["tcp://10.0.0.5:443", "public.example.com:8000-8010", "udp://[::1]:53"], &[]);
        let a = audit();
        let ok = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(eg.check_connect(ok("10.0.0.5:443"), Transport::Tcp, &a).await.is_ok());
        assert!(eg.check_connect(ok("10.0.0.5:443"), Transport::Udp, &a).await.is_err(), "tcp:// only");
        assert!(eg.check_connect(ok("10.0.0.5:444"), Transport::Tcp, &a).await.is_err(), "other port");
        assert!(eg.check_connect(ok("10.0.0.6:443"), Transport::Tcp, &a).await.is_err(), "other ip same port");
        assert!(
            eg.check_connect(ok("93.184.216.34:8005"), Transport::Udp, &a).await.is_ok(),
            "pinned address of a name"
        );
        assert!(eg.check_connect(ok("[::1]:53"), Transport::Udp, &a).await.is_ok());
        let d = eg.check_connect(ok("1.2.3.4:80"), Transport::Tcp, &a).await.unwrap_err();
        assert_eq!(d.to_string(), "denied: connect tcp://1.2.3.4:80 (not declared); to allow: --allow-net 1.2.3.4:80");
    }

    #[tokio::test]
    async fn http_is_checked_by_scheme_host_and_port() {
        let (eg, _) = egress(&["https://api.example.com", "http://127.0.0.1:8080"], &[]);
        let a = audit();
        assert_eq!(
            eg.route_http(true, "api.example.com", 443, &a).await.unwrap(),
            vec!["93.184.216.34:443".parse().unwrap()]
        );
        assert!(eg.route_http(false, "api.example.com", 443, &a).await.is_err(), "scheme");
        assert!(eg.route_http(true, "api.example.com", 8443, &a).await.is_err(), "port");
        assert!(eg.route_http(true, "evil.example.com", 443, &a).await.is_err(), "host");
        assert!(eg.route_http(false, "127.0.0.1", 8080, &a).await.is_ok());
        let d = eg.route_http(true, "evil.com", 443, &a).await.unwrap_err();
        assert_eq!(d.hint.as_deref(), Some("--allow-net https://evil.com"));
    }

    /// Every hint names an endpoint the policy parser accepts, whatever form the host took.
    #[tokio::test]
    async fn every_hint_is_an_endpoint_the_parser_accepts() {
        let (eg, _) = egress(&["https://api.example.com", "udp://10.0.0.1:53"], &[]);
        let a = audit();
        let ok = |s: &str| s.parse::<SocketAddr>().unwrap();
        let denials = [
            eg.lookup("Undeclared.Example.", &a).await.unwrap_err(),
            eg.lookup("bad_name!", &a).await.unwrap_err(),
            eg.check_connect(ok("[::ffff:10.0.0.9]:443"), Transport::Tcp, &a).await.unwrap_err(),
            eg.check_connect(ok("[fd00::1]:53"), Transport::Udp, &a).await.unwrap_err(),
            eg.route_http(false, "[::ffff:127.0.0.1]", 7081, &a).await.unwrap_err(),
            eg.route_http(false, "::1", 80, &a).await.unwrap_err(),
            eg.route_http(false, "declared.test@127.0.0.1", 7081, &a).await.unwrap_err(),
            eg.route_http(true, "evil.example", 443, &a).await.unwrap_err(),
        ];
        let hints: Vec<String> = denials.iter().filter_map(|d| d.hint.clone()).collect();
        for h in &hints {
            let ep = h.strip_prefix("--allow-net ").unwrap_or_else(|| panic!("{h}"));
            assert!(ep.parse::<Endpoint>().is_ok(), "{h}");
        }
        assert!(hints.contains(&"--allow-net undeclared.example:443".to_string()), "{hints:?}");
        assert!(hints.contains(&"--allow-net http://127.0.0.1:7081".to_string()), "{hints:?}");
        assert!(hints.contains(&"--allow-net http://[::1]".to_string()), "{hints:?}");
        assert!(hints.contains(&"--allow-net 10.0.0.9:443".to_string()), "{hints:?}");
        assert!(denials[1].hint.is_none() && denials[6].hint.is_none(), "no endpoint can allow a bad name");
        let (tcp_only, _) = egress(&["tcp://10.0.0.1:53"], &[]);
        let d = tcp_only.check_bind("0.0.0.0:0".parse().unwrap(), Transport::Udp, false).unwrap_err();
        assert!(d.hint.is_none() && d.reason.contains("--allow-net udp://host:port"), "{d}");
    }

    /// A resolver that never answers.
    #[derive(Debug, Default)]
    struct Stuck;

    impl Resolve for Stuck {
        fn resolve<'a>(&'a self, _: &'a str) -> resolve::ResolveFuture<'a> {
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test]
    async fn lookups_in_flight_and_distinct_names_are_bounded_per_call() {
        let net = NetGrant { endpoints: vec!["*.example.com:443".parse().unwrap()], ..NetGrant::default() };
        let eg = Arc::new(Egress::new(net, Arc::new(Stuck)));
        let mut waiting = Vec::new();
        for i in 0..quota::MAX_PENDING_LOOKUPS {
            let eg = eg.clone();
            waiting.push(tokio::spawn(async move { eg.lookup(&format!("n{i}.example.com"), &audit()).await }));
        }
        while eg.quota.held(Held::Lookup) < quota::MAX_PENDING_LOOKUPS {
            tokio::task::yield_now().await;
        }
        let d = eg.lookup("one-more.example.com", &audit()).await.unwrap_err();
        assert!(d.reason.contains("MAX_PENDING_LOOKUPS"), "{d}");
        waiting.iter().for_each(tokio::task::JoinHandle::abort);
        for w in waiting {
            let _ = w.await;
        }
        assert_eq!(eg.quota.held(Held::Lookup), 0, "given back when the look-ups go");

        let (eg, _) = egress(&["*.example.com:443"], &[]);
        for i in 0..quota::MAX_NAMES - 1 {
            let _ = eg.lookup(&format!("n{i}.example.com"), &audit()).await;
        }
        assert!(eg.lookup("public.example.com", &audit()).await.is_ok(), "the last name within the bound");
        let d = eg.lookup("api.example.com", &audit()).await.unwrap_err();
        assert!(d.reason.contains("MAX_NAMES"), "{d}");
        assert!(eg.lookup("public.example.com", &audit()).await.is_ok(), "names already resolved stay");
    }

    #[test]
    fn binds_need_a_listener_except_ephemeral_client_ports() {
        let (eg, _) = egress(&["udp://10.0.0.1:53"], &[]);
        assert!(eg.check_bind("0.0.0.0:0".parse().unwrap(), Transport::Udp, false).is_ok());
        assert!(eg.check_bind("0.0.0.0:0".parse().unwrap(), Transport::Tcp, false).is_ok(), "tcp client port");
        let (none, _) = egress(&["tcp://10.0.0.1:53"], &[]);
        assert!(none.check_bind("0.0.0.0:0".parse().unwrap(), Transport::Udp, false).is_err(), "no udp endpoint");
        assert!(eg.check_bind("0.0.0.0:9999".parse().unwrap(), Transport::Udp, false).is_err());
        assert!(eg.check_bind("127.0.0.1:8080".parse().unwrap(), Transport::Tcp, true).is_ok());
        assert!(eg.check_bind("127.0.0.1:0".parse().unwrap(), Transport::Tcp, true).is_err());
    }
}
