//! `mcp-sandbox learn --learn-net allow`: network attempts beyond the flags are recorded and
//! carried out (by default, recorded and refused). A real Python program fetches from a loopback
//! HTTP server with `urllib`; judged by what the listener received after each run ended (the
//! run's exit is the signal: its proxy is gone with it), the profile, and the derived policy,
//! under which the program then runs with no denial.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

const FETCH: &str = r#"#!/usr/bin/env python3
import sys, urllib.request
try:
    print("fetched:", urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except Exception as e:
    print("fetch failed:", e)
"#;

fn learn(dir: &std::path::Path, tool: &str, url: &str, extra: &[&str]) -> (Run, String, serde_json::Value) {
    let (p, o) = (dir.join("p.json"), dir.join("p.toml"));
    let _ = std::fs::remove_file(&p);
    let mut a = vec!["learn", "--no-host-view", "-p", s(&p), "-o", s(&o)];
    a.extend_from_slice(extra);
    a.extend([tool, url]);
    let r = run(&a);
    let policy = std::fs::read_to_string(&o).unwrap_or_default();
    let profile = std::fs::read_to_string(&p).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (r, policy, profile)
}

#[test]
fn learn_net_allow_carries_out_what_it_records_and_the_derived_policy_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let tool = root.join("fetch.py");
    std::fs::write(&tool, FETCH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let sink = HttpSink::start(None);
    let url = format!("http://127.0.0.1:{}/api", sink.addr.port());
    let origin = format!("http://127.0.0.1:{}", sink.addr.port());

    // Default: recorded, refused; nothing reaches the listener.
    let (r, policy, profile) = learn(&root, s(&tool), &url, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("fetch failed"), "{}", r.stdout);
    assert!(sink.requests().is_empty(), "refused while learning: {:?}", sink.requests());
    assert!(profile["denials"].to_string().contains(&origin), "recorded: {profile:#}");
    // Learned under the flags alone (--no-host-view): listed with the flag that grants it.
    assert!(policy.contains(&format!("--allow-net {origin}")), "{policy}");

    // --learn-net allow: recorded and carried out.
    let (r, policy, profile) = learn(&root, s(&tool), &url, &["--learn-net", "allow"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("fetched: hello from"), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(sink.requests().len(), 1, "the listener received the learning run's request");
    assert!(profile["origins"].get(&origin).is_some(), "recorded: {profile:#}");
    // The narrowest entry: this origin, not the range learning allowed.
    assert!(policy.contains(&format!("allow = [\n    \"{origin}\",  # observed: HTTP to this origin")), "{policy}");
    assert!(!policy.contains("0.0.0.0/0") && !policy.contains("::/0"), "{policy}");

    // The derived policy runs the program: no denial, the request arrives.
    let o = root.join("p.toml");
    let r = run(&["run", "--policy", s(&o), s(&tool), &url]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("fetched: hello from"), "{}", r.stdout);
    assert!(r.events("deny").is_empty(), "{:?}\n{policy}", r.events("deny"));
    assert_eq!(sink.requests().len(), 2);
    // Tight: another origin on the same host is refused by it (the control: --learn-net allow
    // reached it).
    let other = HttpSink::start(None);
    let other_url = format!("http://127.0.0.1:{}/", other.addr.port());
    let r = run(&["run", "--policy", s(&o), s(&tool), &other_url]);
    assert!(r.stdout.contains("fetch failed"), "{}", r.stdout);
    assert!(other.requests().is_empty());
    let (r, _, _) = learn(&root, s(&tool), &other_url, &["--learn-net", "allow"]);
    assert!(r.stdout.contains("fetched: hello from"), "control: {}", r.stdout);
    assert_eq!(other.requests().len(), 1);
}

#[test]
fn learn_net_allow_lets_a_component_dial_and_records_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let ping = support::tool("tcp-ping");
    let sink = TcpSink::start("127.0.0.1");
    let to = sink.addr.to_string();
    let (p, o) = (root.join("p.json"), root.join("p.toml"));
    let base = ["learn", "--no-host-view", "-p", s(&p), "-o", s(&o)];
    // Refused by default: the listener gets nothing, the attempt is derived all the same.
    let mut a = base.to_vec();
    a.extend([s(&ping), to.as_str(), "refused"]);
    let r = run(&a);
    assert_ne!(r.code, 0, "{}", r.stderr);
    let policy = std::fs::read_to_string(&o).unwrap();
    let hinted = [format!("--allow-net {to}"), format!("--allow-net tcp://{to}")];
    assert!(hinted.iter().any(|h| policy.contains(h.as_str())), "{policy}");
    std::fs::remove_file(&p).unwrap();
    // Allowed: the listener receives it; the policy names this endpoint only.
    let mut a = base.to_vec();
    a.extend(["--learn-net", "allow", s(&ping), to.as_str(), "learning"]);
    let r = run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sink.received().contains("learning"), "{:?}", sink.received());
    assert!(!sink.received().contains("refused"));
    let policy = std::fs::read_to_string(&o).unwrap();
    assert!(policy.contains(&format!("\"tcp://{to}\",  # observed: TCP to it")), "{policy}");
    assert!(!policy.contains("/0"), "{policy}");
    let r = run(&["run", "--policy", s(&o), s(&ping), &to, "again"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.events("deny").is_empty(), "{:?}", r.events("deny"));
    assert!(sink.received().contains("again"));
}
