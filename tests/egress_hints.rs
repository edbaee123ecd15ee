//! Issue 11: every egress denial's hint, followed exactly as printed, lets the same request
//! through. For each kind of request a tool makes (raw TCP by address and by name, UDP, HTTP
//! through the injected proxy to an address and to `localhost`, an `https://` CONNECT, a
//! WebAssembly component's `wasi:http` request), the tool runs with what a user would give
//! first, is denied, and the hint from stderr (checked against the audit's `hint` field) is
//! added as given; the loopback listener is the judge: it receives nothing while the tool is
//! denied, and the request once the hints are followed (the positive control).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

/// Sends `argv[3]` and a newline over TCP to `argv[1]:argv[2]` (a name is looked up as the
/// tool's libc does).
const TCP_SEND: &str = "import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.sendall(sys.argv[3].encode() + b'\\n')
    print('reply', s.recv(16))
except Exception as e:
    print('failed', e)
";

/// Sends `argv[3]` over UDP to `argv[1]:argv[2]` a few times (loopback may drop one under load).
const UDP_SEND: &str = "import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    try:
        s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    except Exception as e:
        print('failed', e)
";

/// Fetches `argv[1]` with urllib, which uses the sandbox's HTTP_PROXY / HTTPS_PROXY.
const URLLIB: &str = "import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except Exception as e:
    print('failed', e)
";

/// Asks the DNS stub (127.0.0.1:53) for the A record of `argv[1]` itself, then sends `argv[3]`
/// over TCP to the answer at port `argv[2]`.
const STUB_THEN_TCP: &str = "import socket, struct, sys
name, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(10)
u.sendto(q, ('127.0.0.1', 53))
r = u.recv(512)
if struct.unpack('>H', r[6:8])[0] == 0:
    print('no answer, rcode', r[3] & 15)
    sys.exit(0)
ip = socket.inet_ntoa(r[-4:])
print('answer', ip)
s = socket.create_connection((ip, port), timeout=10)
s.sendall(tag.encode() + b'\\n')
print('reply', s.recv(16))
";

/// What a run was given and what it printed.
struct Attempt {
    flags: Vec<String>,
    run: Run,
}

/// `run FLAGS TOOL ARGS` (a native program, or a component).
fn attempt(flags: &[String], tool: &[&str]) -> Attempt {
    let mut args = vec!["run"];
    args.extend(flags.iter().map(String::as_str));
    args.extend_from_slice(tool);
    Attempt { flags: flags.to_vec(), run: run(&args) }
}

fn python(code: &str, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["/usr/bin/python3", "--", "-c", code].iter().map(|s| (*s).to_string()).collect();
    v.extend(args.iter().map(|s| (*s).to_string()));
    v
}

/// The first hint printed on stderr (`…; to allow: FLAG VALUE`), as `[FLAG, VALUE]`.
fn printed_hint(a: &Attempt) -> Option<[String; 2]> {
    let line = a.run.stderr.lines().find(|l| l.starts_with("mcp-sandbox: denied: ") && l.contains("; to allow: "))?;
    let hint = line.rsplit("; to allow: ").next()?;
    let (flag, value) = hint.split_once(' ')?;
    Some([flag.to_string(), value.to_string()])
}

/// Checks the printed hint against the audit and against the flags already given: it is an
/// audited denial's hint, names no placeholder, and is not a flag the run already had.
fn checked_hint(a: &Attempt) -> [String; 2] {
    let [flag, value] =
        printed_hint(a).unwrap_or_else(|| panic!("denied without a hint: {}\n{:?}", a.run.stderr, a.run.audit));
    let hint = format!("{flag} {value}");
    assert!(
        a.run.audit.iter().any(|e| e["event"] == "deny" && e["hint"] == hint.as_str()),
        "the printed hint `{hint}` is an audited denial's: {:?}",
        a.run.audit
    );
    for placeholder in ["PORT", "HOST", "ADDR", "NAME"] {
        assert!(!value.contains(placeholder), "placeholder in `{hint}`");
    }
    let given = a.flags.windows(2).any(|w| w[0] == flag && w[1] == value);
    assert!(!given, "`{hint}` is a flag already given: {:?}", a.flags);
    [flag, value]
}

/// Runs `tool` with `flags`, then, while `arrived()` says the request did not arrive, follows
/// the printed hint and runs again, at most `most` hints. Returns the hints followed.
fn follow(mut flags: Vec<String>, tool: &[String], most: usize, arrived: impl Fn() -> bool) -> Vec<String> {
    let tool: Vec<&str> = tool.iter().map(String::as_str).collect();
    let mut followed = Vec::new();
    loop {
        let a = attempt(&flags, &tool);
        if arrived() {
            assert!(!followed.is_empty() || most == 0, "arrived before any hint was followed: {}", a.run.stderr);
            assert!(
                a.run.denials("net.connect").is_empty() && a.run.denials("net.http").is_empty(),
                "{:?}",
                a.run.audit
            );
            return followed;
        }
        assert!(
            followed.len() < most,
            "still denied after following {followed:?}:\n{}\n{}",
            a.run.stdout,
            a.run.stderr
        );
        let [flag, value] = checked_hint(&a);
        followed.push(format!("{flag} {value}"));
        flags.extend([flag, value]);
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn raw_tcp_by_address_one_hint() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port().to_string();
    let tool = python(TCP_SEND, &["127.0.0.1", &port, "by-address"]);
    let hints = follow(Vec::new(), &tool, 1, || sink.received().contains("by-address\n"));
    assert_eq!(hints, [format!("--allow-net 127.0.0.1:{port}")]);
}

#[test]
fn raw_tcp_by_name_through_the_dns_stub() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port().to_string();
    let tool = python(TCP_SEND, &["svc.test", &port, "by-name"]);
    // The name is the user's (here pinned to the listener, as their resolver would answer).
    // The look-up cannot know the port: its hint names 443, and the connection that follows,
    // to the name's stand-in on another port, names the name with its own port.
    let hints =
        follow(strings(&["--resolve", "svc.test:127.0.0.1"]), &tool, 2, || sink.received().contains("by-name\n"));
    assert_eq!(hints, ["--allow-net svc.test:443".to_string(), format!("--allow-net svc.test:{port}")]);
}

#[test]
fn udp_one_hint() {
    let sink = UdpSink::start();
    let port = sink.addr.port().to_string();
    let tool = python(UDP_SEND, &["127.0.0.1", &port, "datagram"]);
    let hints = follow(Vec::new(), &tool, 1, || sink.received().iter().any(|d| d == "datagram"));
    assert_eq!(hints, [format!("--allow-net udp://127.0.0.1:{port}")]);
}

/// The circle: Python's urllib uses the injected HTTP_PROXY.
#[test]
fn urllib_through_the_proxy_to_an_address_one_hint() {
    let web = HttpSink::start(None);
    let tool = python(URLLIB, &[&web.url("/by-address")]);
    let got = || web.requests().iter().any(|r| r.starts_with("GET /by-address "));
    let hints = follow(Vec::new(), &tool, 1, got);
    assert_eq!(hints, [format!("--allow-net http://{}", web.addr)]);
}

/// The hint a raw-TCP client of a listener gets (`--allow-net 127.0.0.1:P`) lets an HTTP client
/// of it through too, natively (urllib through the proxy) and in a component (`wasi:http`):
/// a bare endpoint, or `tcp://`, covers HTTP requests to it; `udp://` does not.
#[test]
fn a_bare_or_tcp_endpoint_covers_http_to_it_in_both_executors() {
    for (form, allowed) in [("", true), ("tcp://", true), ("udp://", false), ("http://", true)] {
        for native in [true, false] {
            let web = HttpSink::start(None);
            let url = web.url("/covered");
            let flags = strings(&["--allow-net", &format!("{form}{}", web.addr)]);
            let http_get = tool("http-get");
            let tool: Vec<String> =
                if native { python(URLLIB, &[&url]) } else { strings(&[http_get.to_str().unwrap(), "--", &url]) };
            let a = attempt(&flags, &tool.iter().map(String::as_str).collect::<Vec<_>>());
            let got = web.requests().iter().any(|r| r.starts_with("GET /covered "));
            let which = if native { "native" } else { "wasm" };
            assert_eq!(got, allowed, "{which} --allow-net {form}{}: {}\n{}", web.addr, a.run.stdout, a.run.stderr);
            if !allowed {
                // Refused with the flag that allows it (the origin), never the one given.
                checked_hint(&a);
            }
        }
    }
}

#[test]
fn urllib_to_localhost_one_hint() {
    let web = HttpSink::start(None);
    let url = format!("http://localhost:{}/by-name", web.addr.port());
    let got = || web.requests().iter().any(|r| r.starts_with("GET /by-name "));
    let hints = follow(Vec::new(), &python(URLLIB, &[&url]), 1, got);
    assert_eq!(hints, [format!("--allow-net http://localhost:{}", web.addr.port())]);
}

/// `--allow-net localhost:P` is enough to reach a server on this host by the name `localhost`,
/// every way a tool can: HTTP through the proxy, its libc's look-up (the sandbox's
/// /etc/hosts, `::1` first) and a direct connection, its own DNS question to the stub, and a
/// component's `wasi:http` request and `wasi:sockets` look-up. No resolver is asked (the one
/// given here records every question) and no `--resolve` is needed.
#[test]
fn localhost_means_loopback_without_resolve() {
    let dns = DnsSink::start(Some("203.0.113.9".parse().unwrap()));
    let resolver = dns.addr.to_string();
    let web = HttpSink::start(None);
    let p = web.addr.port().to_string();
    let flags = strings(&["--resolver", &resolver, "--allow-net", &format!("localhost:{p}")]);
    let url = format!("http://localhost:{p}/");
    for (how, tool, path) in [
        ("urllib", python(URLLIB, &[&format!("{url}urllib")]), "urllib"),
        ("wasi:http", strings(&[tool("http-get").to_str().unwrap(), "--", &format!("{url}wasm")]), "wasm"),
    ] {
        // Control: not declared, nothing arrives.
        let denied =
            attempt(&strings(&["--resolver", &resolver]), &tool.iter().map(String::as_str).collect::<Vec<_>>());
        checked_hint(&denied);
        assert!(!web.requests().iter().any(|r| r.starts_with(&format!("GET /{path} "))), "{how}: arrived undeclared");
        let a = attempt(&flags, &tool.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            web.requests().iter().any(|r| r.starts_with(&format!("GET /{path} "))),
            "{how}: {}\n{}",
            a.run.stdout,
            a.run.stderr
        );
        assert!(a.run.audit.iter().all(|e| e["event"] != "deny"), "{how}: {:?}", a.run.audit);
    }
    let sink = TcpSink::start("127.0.0.1");
    let p = sink.addr.port().to_string();
    let flags = strings(&["--resolver", &resolver, "--allow-net", &format!("localhost:{p}")]);
    let tcp_ping = tool("tcp-ping");
    let target = format!("localhost:{p}");
    for (how, tool, tag) in [
        ("libc look-up", python(TCP_SEND, &["localhost", &p, "by-libc"]), "by-libc"),
        ("the stub", python(STUB_THEN_TCP, &["localhost", &p, "by-stub"]), "by-stub"),
        ("wasi:sockets", strings(&[tcp_ping.to_str().unwrap(), "--", &target, "by-wasm"]), "by-wasm"),
    ] {
        let tool: Vec<&str> = tool.iter().map(String::as_str).collect();
        let denied = attempt(&strings(&["--resolver", &resolver]), &tool);
        assert!(!sink.received().contains(tag), "{how}: arrived undeclared");
        assert!(printed_hint(&denied).is_some(), "{how}: {}", denied.run.stderr);
        let a = attempt(&flags, &tool);
        assert!(sink.received().contains(&format!("{tag}\n")), "{how}: {}\n{}", a.run.stdout, a.run.stderr);
        if how == "the stub" {
            // As the sandbox's /etc/hosts answers, not with a stand-in.
            assert!(a.run.stdout.contains("answer 127.0.0.1\n"), "{}", a.run.stdout);
        }
    }
    // A server listening on ::1 only (as Node's does for `localhost`) is reached too: a client
    // that dialled 127.0.0.1 for `localhost` is relayed to ::1 when 127.0.0.1 refuses.
    let v6 = TcpSink::start("::1");
    let p6 = v6.addr.port().to_string();
    let flags = strings(&["--resolver", &resolver, "--allow-net", &format!("localhost:{p6}")]);
    let target = format!("localhost:{p6}");
    let libc = python(TCP_SEND, &["localhost", &p6, "v6-by-libc"]);
    let denied = attempt(&strings(&["--resolver", &resolver]), &libc.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!v6.received().contains("v6-by-libc"), "arrived undeclared: {}", denied.run.stderr);
    for (how, tool, tag) in [
        ("libc look-up", libc, "v6-by-libc"),
        ("the stub", python(STUB_THEN_TCP, &["localhost", &p6, "v6-by-stub"]), "v6-by-stub"),
        ("wasi:sockets", strings(&[tcp_ping.to_str().unwrap(), "--", &target, "v6-by-wasm"]), "v6-by-wasm"),
    ] {
        let a = attempt(&flags, &tool.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(v6.received().contains(&format!("{tag}\n")), "{how} to ::1: {}\n{}", a.run.stdout, a.run.stderr);
    }
    assert!(dns.questions().is_empty(), "no resolver is asked about localhost: {:?}", dns.questions());
}

/// Parity: with `--allow-net 127.0.0.1:P` (or `localhost:P`), a native tool and a component
/// reach the listener both as `localhost` and at its address, over HTTP and raw TCP.
#[test]
fn localhost_and_its_address_are_one_in_both_executors() {
    for declared in ["127.0.0.1", "localhost"] {
        let web = HttpSink::start(None);
        let sink = TcpSink::start("127.0.0.1");
        let (wp, tp) = (web.addr.port(), sink.addr.port());
        let flags = strings(&["--allow-net", &format!("{declared}:{wp}"), "--allow-net", &format!("{declared}:{tp}")]);
        let (get, ping) = (tool("http-get"), tool("tcp-ping"));
        for host in ["127.0.0.1", "localhost"] {
            let tag = |who: &str| format!("{declared}-{host}-{who}");
            let url = |who: &str| format!("http://{host}:{wp}/{}", tag(who));
            for (who, tool) in [
                ("native-http", python(URLLIB, &[&url("native-http")])),
                ("wasm-http", strings(&[get.to_str().unwrap(), "--", &url("wasm-http")])),
                ("native-tcp", python(TCP_SEND, &[host, &tp.to_string(), &tag("native-tcp")])),
                ("wasm-tcp", strings(&[ping.to_str().unwrap(), "--", &format!("{host}:{tp}"), &tag("wasm-tcp")])),
            ] {
                let a = attempt(&flags, &tool.iter().map(String::as_str).collect::<Vec<_>>());
                let arrived = if who.ends_with("http") {
                    web.requests().iter().any(|r| r.starts_with(&format!("GET /{} ", tag(who))))
                } else {
                    sink.received().contains(&format!("{}\n", tag(who)))
                };
                assert!(arrived, "--allow-net {declared}:P, {who} to {host}: {}\n{}", a.run.stdout, a.run.stderr);
            }
        }
    }
}

/// An `https://` request through HTTPS_PROXY is a CONNECT: to a name pinned (as the user's
/// resolver would answer) to a loopback listener that speaks no TLS, the hint names the name
/// and the port, and once followed the tunnel carries the client's TLS hello to the listener.
#[test]
fn https_connect_to_a_pinned_name_one_hint() {
    let sink = TcpSink::start("127.0.0.1");
    let p = sink.addr.port();
    let tool = python(URLLIB, &[&format!("https://www.example.test:{p}/")]);
    let hints = follow(strings(&["--resolve", "www.example.test:127.0.0.1"]), &tool, 1, || sink.connections() > 0);
    assert_eq!(hints, [format!("--allow-net www.example.test:{p}")]);
    assert!(sink.received().starts_with('\u{16}'), "a TLS handshake record came through the tunnel");
}

/// The placeholder: a denied `https://` request to a public host named `HOST:PORT`.
/// The hint names the host and 443, and followed, the CONNECT is accepted (the name is pinned
/// to loopback here: whether anything answers on 443 is not the point).
#[test]
fn https_to_a_public_host_names_host_and_443() {
    let tool = python(URLLIB, &["https://www.example.com/"]);
    let tool: Vec<&str> = tool.iter().map(String::as_str).collect();
    let pin = strings(&["--resolve", "www.example.com:127.0.0.1"]);
    let a = attempt(&pin, &tool);
    let [flag, value] = checked_hint(&a);
    assert_eq!(format!("{flag} {value}"), "--allow-net www.example.com:443");
    let mut flags = pin;
    flags.extend([flag, value]);
    let a = attempt(&flags, &tool);
    assert!(a.run.audit.iter().all(|e| e["event"] != "deny"), "{:?}", a.run.audit);
    assert!(
        a.run.audit.iter().any(|e| e["event"] == "allow" && e["target"] == "tcp://127.0.0.1:443"),
        "the CONNECT is accepted: {:?}",
        a.run.audit
    );
}

#[test]
fn wasm_http_request_one_hint() {
    let web = HttpSink::start(None);
    let url = web.url("/from-wasm");
    let tool = strings(&[tool("http-get").to_str().unwrap(), "--", &url]);
    let hints = follow(Vec::new(), &tool, 1, || web.requests().iter().any(|r| r.starts_with("GET /from-wasm ")));
    assert_eq!(hints, [format!("--allow-net http://{}", web.addr)]);
}

/// A component's look-up and connection by name meet the same two hints as a native tool's.
#[test]
fn wasm_tcp_by_name_same_hints_as_native() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port().to_string();
    let tool = strings(&[tool("tcp-ping").to_str().unwrap(), "--", &format!("svc.test:{port}"), "from-wasm"]);
    let hints =
        follow(strings(&["--resolve", "svc.test:127.0.0.1"]), &tool, 2, || sink.received().contains("from-wasm\n"));
    assert_eq!(hints, ["--allow-net svc.test:443".to_string(), format!("--allow-net svc.test:{port}")]);
}
