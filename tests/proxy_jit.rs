//! `proxy`'s just-in-time egress, end to end: a Python MCP server of the tests' own
//! (`tests/mcp/jit_server.py`, official SDK) run under `proxy`, driven by the official Python SDK
//! client (`tests/mcp/jit_client.py`) with real loopback listeners.
//!
//! * The server tries the listener at start-up, during a call and between calls (a background
//!   thread, told when by a file the client writes after a reply came back): only the attempt
//!   during the call arrives. Each refused attempt is judged after a positive signal (the server
//!   reporting its attempt failed), and the audit log holds the refusals.
//! * A connection opened during a call and held is cut when the call ends: the listener sees EOF.
//!   What a call sent just before it returned still arrives (its end waits for the relay).
//! * A UDP flow opened during a call is closed with it: the same socket's datagram between calls
//!   is refused (its audit record is the signal) and never reaches the UDP listener.
//! * Controls: with `--jit off` the start-up and between-calls attempts arrive, and the held
//!   connection stays (what the server sends on it later arrives).
//! * `--bind fetch.url=connect:http://127.0.0.1:*`: a call reaches the origin its argument names,
//!   not another one the pattern covers, and a call naming an origin outside it is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{python, python_server_flags, root, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

/// Runs `jit_client.py MODE` around `proxy FLAGS`; returns what it printed.
fn client(mode: &[&str], flags: &[String]) -> Value {
    client_and_stderr(mode, flags).0
}

/// [`client`], and the proxy's stderr (the client passes it through).
fn client_and_stderr(mode: &[&str], flags: &[String]) -> (Value, String) {
    let out = Command::new(python())
        .arg(root().join("tests/mcp/jit_client.py"))
        .args(mode)
        .arg(BIN)
        .args(flags)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("client printed no result ({e}): {stdout}\n{stderr}"));
    assert!(v["scenario"].get("timeout").is_none() && v["scenario"].get("other").is_none(), "{v}\n{stderr}");
    (v, stderr)
}

fn flags(pins: &Path, audit: &Path, extra: &[&str]) -> Vec<String> {
    let mut e: Vec<String> = vec!["--audit".into(), s(audit).into()];
    e.extend(extra.iter().map(|x| x.to_string()));
    python_server_flags(s(pins), "jit_server.py", &e)
}

/// The window scenario's flags: the listener declared, the shared directory writable.
fn window_flags(pins: &Path, audit: &Path, jit: &str) -> Vec<String> {
    let extra = [
        "--jit",
        jit,
        "--allow-net",
        "127.0.0.1:{PORT}",
        "--allow-net",
        "udp://127.0.0.1:{UPORT}",
        "--allow-env",
        "JIT_PORT={PORT}",
        "--allow-env",
        "JIT_UDP_PORT={UPORT}",
        "--allow-env",
        "JIT_DIR={DIR}",
        "--allow-write",
        "{DIR}",
    ];
    flags(pins, audit, &extra)
}

fn records(audit: &Path) -> Vec<Value> {
    std::fs::read_to_string(audit).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `mcp-sandbox audit window FILE`: its one line.
fn window_report(audit: &Path) -> String {
    let out = Command::new(BIN).args(["audit", "window", s(audit)]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a text: {v}")).to_string()
}

#[test]
fn the_network_is_open_only_while_a_call_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (pins, audit) = (dir.path().join("pins.json"), dir.path().join("audit.jsonl"));
    let v = client(&["window"], &window_flags(&pins, &audit, "on"));
    // Positive control first: during a call the same connection arrives.
    assert_eq!(text(&v, "probe"), "arrived", "{v}");
    assert_eq!(v["after_probe"], 1, "{v}");
    // At start-up and between calls: the server saw its attempt fail, and nothing arrived.
    assert!(text(&v, "startup").starts_with("refused"), "{v}");
    assert_eq!(v["after_startup"], 0, "nothing arrived from start-up: {v}");
    assert!(text(&v, "between").starts_with("refused"), "{v}");
    assert_eq!(v["after_between"], 1, "nothing arrived between calls: {v}");
    // The connection held past its call was cut when the call ended: the listener saw its end
    // (and nothing the server sent on it afterwards).
    assert_eq!(text(&v, "hold"), "arrived", "{v}");
    assert_eq!(v["held_wait"], true, "{v}");
    let held = &v["listener"][v["held_index"].as_u64().unwrap() as usize];
    assert_eq!((held["ended"].as_str(), held["data"].as_str()), (Some("eof"), Some("")), "{v}");
    // A call that sends and returns at once: what it sent arrives although its window closes
    // right after (the call's end waits for the broker to relay it).
    assert_eq!(v["posts"], serde_json::json!(["sent", "sent", "sent", "sent", "sent"]), "{v}");
    assert_eq!(v["posts_wait"], true, "{v}");
    // UDP: the flow opened during a call is closed with its window; the same socket's next
    // datagram, between calls, is refused (the audit record is the signal) and never arrives.
    assert_eq!(v["udp_during"], true, "{v}");
    assert_eq!(v["udp_between_wait"], true, "{v}");
    assert_eq!(v["datagrams"], serde_json::json!(["during"]), "{v}");

    let recs = records(&audit);
    let refusals: Vec<&Value> = recs
        .iter()
        .filter(|r| {
            r["event"] == "deny" && r["reason"].as_str().is_some_and(|x| x.starts_with("no tools/call in flight"))
        })
        .collect();
    assert!(refusals.len() >= 2, "the start-up and between-calls attempts are audited: {refusals:?}");
    assert!(refusals.iter().all(|r| r["hint"] == "--jit off" && r["capability"] == "net.connect"), "{refusals:?}");
    let windows: Vec<&Value> = recs.iter().filter(|r| r["event"] == "net.window").collect();
    let phases: Vec<(&str, bool)> = windows
        .iter()
        .map(|r| (r["detail"]["phase"].as_str().unwrap(), r["detail"]["open"].as_bool().unwrap()))
        .collect();
    assert_eq!(phases, [("start", true), ("end", false)].repeat(9), "one window per call, with its id: {windows:?}");
    assert!(windows.iter().all(|r| r["detail"]["call"].is_u64()), "{windows:?}");
    let report = window_report(&audit);
    assert!(report.contains("(just-in-time)") && report.contains("9 calls, 9 windows"), "{report}");
}

#[test]
fn with_jit_off_the_same_attempts_arrive_and_the_held_connection_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (pins, audit) = (dir.path().join("pins.json"), dir.path().join("audit.jsonl"));
    let v = client(&["window"], &window_flags(&pins, &audit, "off"));
    assert_eq!(text(&v, "startup"), "arrived", "{v}");
    assert_eq!(v["after_startup"], 1, "{v}");
    assert_eq!(text(&v, "probe"), "arrived", "{v}");
    assert_eq!(text(&v, "between"), "arrived", "{v}");
    assert_eq!(v["after_between"], 3, "{v}");
    assert_eq!(text(&v, "send_held"), "sent", "{v}");
    assert_eq!(v["held_wait"], true, "what the server sent on the held connection arrived: {v}");
    assert_eq!(v["datagrams"], serde_json::json!(["during", "between"]), "{v}");
    let report = window_report(&audit);
    assert!(report.contains("(persistent (--jit off))") && report.contains("= 100.0% of it"), "{report}");
}

#[test]
fn a_bound_argument_grants_its_own_origin_to_its_call_only() {
    let dir = tempfile::tempdir().unwrap();
    let (pins, audit) = (dir.path().join("pins.json"), dir.path().join("audit.jsonl"));
    let binds = [
        "--bind",
        "fetch.url=connect:http://127.0.0.1:*",
        // Misspelt: said once, granting nothing.
        "--bind",
        "fetch.uri=connect:http://127.0.0.1:*",
        "--bind",
        "fetc.url=connect:http://127.0.0.1:*",
    ];
    let (v, stderr) = client_and_stderr(&["bind"], &flags(&pins, &audit, &binds));
    assert!(stderr.contains("--bind fetch.uri: tool `fetch` has no argument `uri` in its inputSchema"), "{stderr}");
    assert!(stderr.contains("--bind fetc.url: the server lists no tool `fetc`"), "{stderr}");
    assert_eq!(text(&v, "a"), "200 hello from 127.0.0.1", "the origin its argument names: {v}");
    // The same call's other request, to an origin the pattern covers but no argument named.
    let both = text(&v, "a_and_b");
    let (first, second) = both.split_once(" | ").unwrap();
    assert_eq!(first, "200 hello from 127.0.0.1", "{v}");
    assert!(second.starts_with("403 blocked by mcp-sandbox"), "{v}");
    // Control: B is reachable by a call that names it.
    assert_eq!(text(&v, "b"), "200 hello from 127.0.0.1", "{v}");
    assert_eq!(v["paths"]["a"], serde_json::json!(["/one", "/two"]), "{v}");
    assert_eq!(v["paths"]["b"], serde_json::json!(["/three"]), "B saw only the call that named it: {v}");
    // An argument outside the pattern: refused by the proxy, and its origin saw nothing.
    let refused = v["c"]["error"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(refused.contains("matches no declared pattern") && refused.contains("http://127.0.0.1:*"), "{refused}");
    assert_eq!(v["paths"]["c"], serde_json::json!([]), "{v}");
    let recs = records(&audit);
    let bound: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event"] == "net.window" && r["detail"]["bound"].as_array().is_some_and(|b| !b.is_empty()))
        .collect();
    assert_eq!(bound.len(), 3, "each bound grant audited with its call: {bound:?}");
}

/// The attack-surface window of a realistic session, measured (not run by default: about two
/// minutes). A fetch-like server is called `JIT_CALLS` times (default 10), `JIT_THINK` seconds
/// apart (default 3: a model thinking between tool calls), each call fetching from an origin
/// that answers after `JIT_LATENCY` seconds (default 0.5), once with `--jit on` and once with
/// `--jit off`; `mcp-sandbox audit window` reports each session.
///
///     cargo test --test proxy_jit -- --ignored --nocapture attack_surface
#[test]
#[ignore = "a measurement: about two minutes"]
fn attack_surface_window_of_a_realistic_session() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let (n, think, latency) = (env("JIT_CALLS", "10"), env("JIT_THINK", "3"), env("JIT_LATENCY", "0.5"));
    let mut shares = Vec::new();
    for jit in ["on", "off"] {
        let dir = tempfile::tempdir().unwrap();
        let (pins, audit) = (dir.path().join("pins.json"), dir.path().join("audit.jsonl"));
        let v = client(
            &["session", &n, &think, &latency],
            &flags(&pins, &audit, &["--jit", jit, "--allow-net", "http://127.0.0.1:{A}"]),
        );
        let results = v["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r.as_str().is_some_and(|t| t.starts_with("200 "))), "every call fetched: {v}");
        let report = window_report(&audit);
        println!("--jit {jit}: {report}");
        let out = Command::new(BIN).args(["audit", "window", "--json", s(&audit)]).output().unwrap();
        let figures: Value = serde_json::from_slice(&out.stdout).unwrap();
        shares.push(figures[0]["share"].as_f64().unwrap());
    }
    println!(
        "attack-surface window: {:.1}% with --jit on, {:.1}% with --jit off",
        shares[0] * 100.0,
        shares[1] * 100.0
    );
    assert!(shares[0] < 0.5 && shares[1] == 1.0, "{shares:?}");
}
