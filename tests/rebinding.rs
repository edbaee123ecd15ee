//! Break 5 of issue 9: a declared name whose AAAA record is an IPv6 form carrying a private
//! IPv4 address (NAT64 `64:ff9b::a00:5`, SIIT `::ffff:0:a00:5`, IPv4-compatible `::a00:5`,
//! 6to4 `2002:a00:5::1`, Teredo) was accepted and dialled, while an A record for 10.0.0.5 was
//! refused as DNS rebinding.
//!
//! Judged by what a listener receives. The test re-executes itself in a new user and network
//! namespace (`unshare --user --map-root-user --net`) where a local default route on `lo` makes
//! every IPv6 address local: a dial to `64:ff9b::a00:5` lands on the listener bound to `[::]`,
//! exactly as a NAT64 translator would deliver it to 10.0.0.5, and nothing can leave the
//! namespace. Each refused form has its positive control (the same answer pinned with the hint
//! the refusal printed reaches the listener), and the same forms carrying a public address pass
//! the guard and reach it too; for a WebAssembly tool and for a native one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;
use support::*;

/// Runs a tool that connects to `rebind.test` under one executor: (DNS stub, extra flags, message).
type RunTool<'a> = dyn Fn(&DnsSink, &[&str], &str) -> Run + 'a;

/// Set in the re-executed test: it runs inside its own network namespace.
const INSIDE: &str = "MCP_SANDBOX_TEST_IN_NETNS";

/// Each form carries 10.0.0.5 or 127.0.0.1 (the guard must refuse it).
const PRIVATE_FORMS: &[(&str, &str)] = &[
    ("64:ff9b::a00:5", "NAT64"),
    ("64:ff9b::7f00:1", "NAT64"),
    ("::ffff:0:a00:5", "SIIT"),
    ("::a00:5", "IPv4-compatible"),
    ("2002:a00:5::1", "6to4"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "Teredo"),
];

/// The same forms carrying 93.184.216.34, a public address (the guard must let them through).
const PUBLIC_FORMS: &[&str] = &["64:ff9b::5db8:d822", "::ffff:0:5db8:d822", "2002:5db8:d822::1"];

#[test]
fn names_resolving_to_ipv6_forms_of_private_ipv4_addresses_are_refused() {
    if std::env::var_os(INSIDE).is_none() {
        // Build the tool here: the namespace has no network for cargo.
        tool("tcp-ping");
        let out = in_own_namespaces("names_resolving_to_ipv6_forms_of_private_ipv4_addresses_are_refused");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "inside the namespace:\n{text}");
        assert!(text.contains("1 passed"), "the test did not run inside:\n{text}");
        assert!(text.contains("rebinding: wasm tool checked"), "{text}");
        if text.contains("rebinding: native tool checked") {
            println!("both executors checked");
        }
        return;
    }
    inside_a_private_network_namespace();
}

/// Re-runs `test` in a new user and network namespace. As root, ids 0-65535 are mapped (the
/// native sandbox needs 65534 for its tool); otherwise only the caller, as root, and only the
/// WebAssembly half can run (said on stderr).
fn in_own_namespaces(test: &str) -> std::process::Output {
    use std::process::Stdio;
    let exe = std::env::current_exe().unwrap();
    let harness = [test, "--exact", "--nocapture", "--test-threads=1"];
    // Our real uid, as /proc/self/status gives it.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let root = status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !root {
        eprintln!("note: not root, so only uid 0 is mapped in the test's namespace: the native half is skipped");
        return Command::new("unshare")
            .args(["--user", "--map-root-user", "--net", "--"])
            .arg(&exe)
            .args(harness)
            .env(INSIDE, "wasm")
            .output()
            .expect("unshare (util-linux) runs the test in its own namespaces");
    }
    // `unshare` leaves the maps to us; the child waits for a line on stdin before it runs.
    let mut child = Command::new("unshare")
        .args(["--user", "--net", "--", "sh", "-c", "read go && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args(harness)
        .env(INSIDE, "all")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) runs the test in its own namespaces");
    let ours = std::fs::read_link("/proc/self/ns/user").unwrap();
    let proc_dir = format!("/proc/{}", child.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // The positive signal: the child's user namespace is no longer ours.
    while std::fs::read_link(format!("{proc_dir}/ns/user")).unwrap() == ours {
        assert!(std::time::Instant::now() < deadline, "unshare did not create a user namespace");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::fs::write(format!("{proc_dir}/uid_map"), "0 0 65536\n").unwrap();
    std::fs::write(format!("{proc_dir}/gid_map"), "0 0 65536\n").unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    child.wait_with_output().unwrap()
}

fn inside_a_private_network_namespace() {
    // Never dial these addresses on the host: only `lo` may exist here.
    let devices = std::fs::read_to_string("/proc/net/dev").unwrap();
    let names: Vec<&str> = devices.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    assert_eq!(names, ["lo"], "not in a private network namespace");
    for args in
        [&["link", "set", "lo", "up"][..], &["-6", "route", "add", "local", "::/0", "dev", "lo", "table", "local"]]
    {
        let st = Command::new("ip").args(args).status().expect("ip (iproute2) configures the namespace");
        assert!(st.success(), "ip {args:?}");
    }

    let (port, received) = listener();
    // Built by the outer run (cargo has no network here).
    let ping = root().join("sample-tools/target/wasm32-wasip2/release/tcp-ping.wasm");
    let endpoint = format!("rebind.test:{port}");
    // A WebAssembly tool (tcp-ping) and a native one (bash), each connecting by name.
    let wasm = |dns: &DnsSink, extra: &[&str], message: &str| {
        let resolver = dns.addr.to_string();
        let mut args = vec!["run", "--resolver", &resolver, "--allow-net", &endpoint];
        args.extend(extra);
        args.extend([s(&ping), "--", &endpoint, message]);
        run(&args)
    };
    let native = |dns: &DnsSink, extra: &[&str], message: &str| {
        let resolver = dns.addr.to_string();
        let script = format!("echo '{message}' > /dev/tcp/rebind.test/{port}");
        let mut args = vec!["run", "--resolver", &resolver, "--allow-net", &endpoint];
        args.extend(extra);
        args.extend(["/bin/bash", "--", "-c", &script]);
        run(&args)
    };
    let mut executors: Vec<(&str, &RunTool)> = vec![("wasm", &wasm)];
    if std::env::var(INSIDE).as_deref() == Ok("all") {
        executors.push(("native", &native));
    }

    for (executor, run_tool) in executors {
        for (form, kind) in PRIVATE_FORMS {
            let dns = DnsSink::start(Some(form.parse().unwrap()));
            let refused = run_tool(&dns, &[], &format!("refused {executor} {form}"));
            assert_ne!(refused.code, 0, "{executor} {form}: {}", refused.stderr);
            let denial = refused
                .denials("net.dns")
                .into_iter()
                .find(|d| d["reason"].as_str().unwrap_or("").contains("refused as DNS rebinding"))
                .unwrap_or_else(|| panic!("{executor} {form}: no rebinding denial: {:?}", refused.audit))
                .clone();
            let reason = denial["reason"].as_str().unwrap();
            assert!(reason.contains(form) && reason.contains(kind), "{form}: {reason}");
            assert!(refused.stderr.contains("refused as DNS rebinding"), "{}", refused.stderr);

            // Positive control: the hint the refusal gave, followed, reaches the listener; and
            // what arrives first is this message, so the refused run sent nothing. (wasi-sockets
            // itself refuses to connect to deprecated IPv4-compatible addresses, so for that
            // form only the native tool, whose connections the broker dials, can show it.)
            if executor == "wasm" && *kind == "IPv4-compatible" {
                continue;
            }
            let hint: Vec<&str> = denial["hint"].as_str().unwrap().split(' ').collect();
            assert_eq!(hint[0], "--resolve", "{hint:?}");
            let pinned = run_tool(&dns, &hint, &format!("pinned {executor} {form}"));
            assert_eq!(pinned.code, 0, "{executor} {form}: {}", pinned.stderr);
            assert_eq!(next(&received), format!("pinned {executor} {form}"), "the refused run reached the listener");
        }

        for form in PUBLIC_FORMS {
            let dns = DnsSink::start(Some(form.parse().unwrap()));
            let r = run_tool(&dns, &[], &format!("public {executor} {form}"));
            assert_eq!(r.code, 0, "{executor}: {form} carries a public address: {}", r.stderr);
            assert_eq!(next(&received), format!("public {executor} {form}"));
        }
        println!("rebinding: {executor} tool checked");
    }
}

/// A TCP listener on `[::]` that handles one connection at a time, in order: reads a line,
/// answers `pong`, and sends the line on the channel.
fn listener() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("[::]:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&c).read_line(&mut line);
            let _ = c.write_all(b"pong\n");
            if tx.send(line.trim_end().to_string()).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

/// The next message the listener received (a positive signal: the control's own arrival).
fn next(received: &mpsc::Receiver<String>) -> String {
    received.recv_timeout(Duration::from_secs(60)).expect("the listener received nothing")
}
