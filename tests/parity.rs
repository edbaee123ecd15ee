//! The same flags and the same policy file mean the same for a WebAssembly component and for
//! native programs. One hostile tool, a command-and-control beacon, in four builds: the WASI
//! component (`sample-tools/c2-beacon`) and its native twins in shell, Python and C
//! (`sample-tools/native/`). Each tries TCP by address and by name, DNS tunnelling and UDP.
//! Under the beacon's policy file nothing reaches the listeners; with every channel granted by
//! the same flags (the positive control), everything does. Judged by what the listeners got.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::path::PathBuf;
use support::*;

fn beacons() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("wasm", tool("c2-beacon")),
        ("shell", native_tool("c2-beacon.sh")),
        ("python", native_tool("c2-beacon.py")),
        ("c", native_tool("c2-beacon.c")),
    ]
}

#[test]
fn one_policy_blocks_every_channel_of_every_build_and_the_same_flags_open_them() {
    for (build, beacon) in beacons() {
        let tcp = TcpSink::start("127.0.0.1");
        let udp = UdpSink::start();
        let dns = DnsSink::start(Some("127.0.0.1".parse().unwrap()));
        let (t, u, port) = (tcp.addr.to_string(), udp.addr.to_string(), tcp.addr.port());
        let name = format!("c2.example.net:{port}");
        let channels =
            ["--tcp-ip", t.as_str(), "--tcp-name", name.as_str(), "--dns", "c2.example.net", "--udp", u.as_str()];
        let resolver = dns.addr.to_string();

        let pol = policy("c2-beacon");
        let mut args = vec!["run", "--resolver", &resolver, "--policy", s(&pol), s(&beacon), "--"];
        args.extend(channels);
        let blocked = run(&args);
        // A UDP send to an address nothing listens on looks successful to a native sender (the
        // datagram just goes nowhere), so the listeners are the judges of UDP, and the exit
        // status says "all blocked" only when the UDP line does.
        let all_blocked = blocked.stdout.contains("udp: blocked");
        assert!(build != "wasm" || all_blocked, "{}", blocked.stdout);
        assert_eq!(blocked.code, if all_blocked { 3 } else { 0 }, "{build}: {}{}", blocked.stdout, blocked.stderr);
        for channel in ["tcp-ip", "tcp-name", "dns"] {
            assert!(blocked.stdout.contains(&format!("{channel}: blocked")), "{build}: {}", blocked.stdout);
        }
        assert!(tcp.received().is_empty(), "{build}: {}", tcp.received());
        assert!(udp.received().is_empty(), "{build}: {:?}", udp.received());
        assert!(dns.questions().is_empty(), "{build}: no query may leave: {:?}", dns.questions());

        // Positive control: every channel granted, by the same flags for every build.
        let (udp_ep, pin, sub) =
            (format!("udp://{u}"), "c2.example.net:127.0.0.1".to_string(), "*.c2.example.net:1".to_string());
        let mut args = vec!["run", "--resolver", &resolver, "--allow-net", &t, "--allow-net", &name, "--resolve", &pin];
        args.extend(["--allow-net", &udp_ep, "--allow-net", &sub, s(&beacon), "--"]);
        args.extend(channels);
        let open = run(&args);
        assert_eq!(open.code, 0, "{build}: {}{}", open.stdout, open.stderr);
        assert_eq!(open.stdout.matches(": ok").count(), 4, "{build}: {}{}", open.stdout, open.stderr);
        assert_eq!(tcp.received().matches("beacon:c2-beacon").count(), 2, "{build}: {}", tcp.received());
        assert_eq!(udp.received(), vec!["beacon:c2-beacon"], "{build}");
        assert!(!dns.questions().is_empty(), "{build}");
    }
}
