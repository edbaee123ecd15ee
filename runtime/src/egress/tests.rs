//! Egress decisions, against a fake resolver.

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
    assert!(eg.check_connect(ok("93.184.216.34:8005"), Transport::Udp, &a).await.is_ok(), "pinned address of a name");
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

/// Issue 11: an endpoint the tool could dial itself (no scheme, or `tcp://`) also allows HTTP
/// requests to it; `udp://` does not, and an `http(s)://` origin stays its name.
#[tokio::test]
async fn bare_and_tcp_endpoints_cover_http_to_them() {
    let a = audit();
    for (ep, allowed) in [("127.0.0.1:8080", true), ("tcp://127.0.0.1:8080", true), ("udp://127.0.0.1:8080", false)] {
        let (eg, _) = egress(&[ep], &[]);
        for tls in [false, true] {
            assert_eq!(eg.route_http(tls, "127.0.0.1", 8080, &a).await.is_ok(), allowed, "{ep} tls={tls}");
        }
        assert!(eg.route_http(false, "127.0.0.1", 8081, &a).await.is_err(), "{ep}: another port");
    }
    let (eg, _) = egress(&["api.example.com:443"], &[]);
    assert_eq!(
        eg.route_http(true, "api.example.com", 443, &a).await.unwrap(),
        vec!["93.184.216.34:443".parse().unwrap()]
    );
    // Its address too, as a connection to it would be (the name was pinned to it).
    assert!(eg.route_http(true, "93.184.216.34", 443, &a).await.is_ok());
    // An origin is its name: a request to the address is not that origin.
    let (eg, _) = egress(&["https://api.example.com"], &[]);
    assert!(eg.route_http(true, "93.184.216.34", 443, &a).await.is_err());
}

/// Issue 11: `localhost` is the loopback addresses, without a resolver and without `--resolve`.
#[tokio::test]
async fn localhost_is_loopback_without_a_resolver() {
    let a = audit();
    let (eg, dns) = egress(&["localhost:8080", "*.localhost:9000"], &[]);
    let lo: Vec<IpAddr> = LOCALHOST.to_vec();
    assert_eq!(eg.lookup("localhost", &a).await.unwrap(), lo);
    assert_eq!(eg.lookup("LocalHost.", &a).await.unwrap(), lo);
    assert_eq!(eg.lookup("app.localhost", &a).await.unwrap(), lo);
    assert_eq!(
        eg.route_http(false, "localhost", 8080, &a).await.unwrap(),
        vec!["127.0.0.1:8080".parse().unwrap(), "[::1]:8080".parse().unwrap()]
    );
    for to in ["127.0.0.1:8080", "[::1]:8080", "127.0.0.1:9000"] {
        assert!(eg.check_connect(to.parse().unwrap(), Transport::Tcp, &a).await.is_ok(), "{to}");
    }
    assert!(eg.check_connect("127.0.0.2:8080".parse().unwrap(), Transport::Tcp, &a).await.is_err());
    assert!(eg.check_connect("127.0.0.1:8081".parse().unwrap(), Transport::Tcp, &a).await.is_err());
    assert!(dns.asked.lock().unwrap().is_empty(), "no resolver asked: {:?}", dns.asked.lock().unwrap());
    // Declared or not, the name is the loopback addresses (a native tool's /etc/hosts says so);
    // an endpoint the tool could dial at one of them allows HTTP to it by that name, an
    // `http://` origin naming the address does not (an origin is what it names).
    let (eg, dns) = egress(&["127.0.0.1:8080", "http://127.0.0.1:9000"], &[]);
    assert_eq!(eg.lookup("localhost", &a).await.unwrap(), lo);
    assert_eq!(eg.route_http(false, "localhost", 8080, &a).await.unwrap(), vec!["127.0.0.1:8080".parse().unwrap()]);
    let d = eg.route_http(false, "localhost", 9000, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net http://localhost:9000"));
    let d = eg.check_connect("[::1]:8080".parse().unwrap(), Transport::Tcp, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net localhost:8080"), "the name the tool looked up");
    assert!(dns.asked.lock().unwrap().is_empty());
    // A pin still wins.
    let (eg, _) = egress(&["localhost:8080"], &[("localhost", "10.0.0.7")]);
    assert_eq!(eg.lookup("localhost", &a).await.unwrap(), vec!["10.0.0.7".parse::<IpAddr>().unwrap()]);
}

#[test]
fn a_loopback_address_reached_through_localhost_falls_back_to_the_other() {
    let net =
        |eps: &[&str]| NetGrant { endpoints: eps.iter().map(|e| e.parse().unwrap()).collect(), ..NetGrant::default() };
    let at = |s: &str| s.parse::<SocketAddr>().unwrap();
    let g = net(&["localhost:8080"]);
    assert_eq!(g.loopback_alternatives(at("[::1]:8080"), Transport::Tcp), vec![at("[::1]:8080"), at("127.0.0.1:8080")]);
    assert_eq!(
        g.loopback_alternatives(at("127.0.0.1:8080"), Transport::Tcp),
        vec![at("127.0.0.1:8080"), at("[::1]:8080")]
    );
    assert_eq!(g.loopback_alternatives(at("127.0.0.1:8081"), Transport::Tcp), vec![at("127.0.0.1:8081")]);
    assert_eq!(net(&["[::1]:8080"]).loopback_alternatives(at("[::1]:8080"), Transport::Tcp), vec![at("[::1]:8080")]);
    assert_eq!(
        net(&["udp://localhost:8080"]).loopback_alternatives(at("[::1]:8080"), Transport::Tcp),
        vec![at("[::1]:8080")]
    );
}

/// Issue 11: hints name the flag that allows the request, with the real host and port, never
/// one already given.
#[tokio::test]
async fn hints_name_the_missing_flag_never_one_given() {
    let sink = Arc::new(MemorySink::default());
    let a = Auditor::new(sink.clone(), "g".into(), "t".into());
    // Declared, but the resolver's answer is refused as rebinding: the fix is a pin, not the
    // origin the user already gave.
    let (eg, _) = egress(&["http://rebind.example.com:8080"], &[]);
    let d = eg.route_http(false, "rebind.example.com", 8080, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--resolve rebind.example.com:127.0.0.1"), "{d}");
    let d = eg.lookup("rebind.example.com", &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--resolve rebind.example.com:127.0.0.1"), "{d}");
    // The pinned address of a declared name, on another port: the name, with that port.
    let (eg, _) = egress(&["svc.test:443"], &[("svc.test", "127.0.0.1")]);
    let d = eg.check_connect("127.0.0.1:8080".parse().unwrap(), Transport::Tcp, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net svc.test:8080"));
    let d = eg.check_connect("127.0.0.1:5353".parse().unwrap(), Transport::Udp, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net udp://svc.test:5353"));
    // A pin for a name not declared is not what the tool looked up: the address.
    let (eg, _) = egress(&["other.test:443"], &[("svc.test", "127.0.0.1")]);
    let d = eg.check_connect("127.0.0.1:8080".parse().unwrap(), Transport::Tcp, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net 127.0.0.1:8080"));
    // A resolved name: the name.
    let (eg, _) = egress(&["api.example.com:443"], &[]);
    eg.lookup("api.example.com", &a).await.unwrap();
    let d = eg.check_connect("93.184.216.34:8443".parse().unwrap(), Transport::Tcp, &a).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--allow-net api.example.com:8443"));
    // A CONNECT by an undeclared name knows its port.
    let d = eg.grant().undeclared_name("www.example.com", 443, Transport::Tcp).unwrap();
    assert_eq!(
        d.to_string(),
        "denied: connect tcp://www.example.com:443 (name not declared; no query was sent); to allow: --allow-net www.example.com:443"
    );
    let d = eg.grant().undeclared_name("Other.Example.", 8443, Transport::Tcp).unwrap();
    assert_eq!(d.hint.as_deref(), Some("--allow-net other.example:8443"));
    assert!(eg.grant().undeclared_name("api.example.com", 8443, Transport::Tcp).is_none(), "declared");
    assert!(eg.grant().undeclared_name("127.0.0.1", 80, Transport::Tcp).is_none(), "an address");
    assert!(eg.grant().undeclared_name("bad_name!", 80, Transport::Tcp).is_none(), "the look-up says why");
    for e in sink.events() {
        if let Some(h) = &e.hint {
            assert!(!h.contains("PORT") && !h.contains("HOST"), "{h}");
        }
    }
}
