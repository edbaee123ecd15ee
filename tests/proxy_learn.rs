//! Behaviour profiles in `proxy`, end to end: a Python MCP server of the tests' own
//! (`tests/mcp/watch_server.py`, official SDK) run under `proxy`, driven by the official Python
//! SDK client (`tests/mcp/watch_client.py`), with a real loopback listener.
//!
//! `proxy --learn` learns what the server did while each call was in flight (and between calls);
//! then, under `--profile --quarantine`: a call with new arguments inside the learned behaviour
//! raises nothing; a file never read is a medium anomaly (reported, not quarantined); a shell
//! and a new endpoint are high: the anomaly names the tool and the client's JSON-RPC id, the
//! SDK's `list_tools` no longer shows the tool, and its call is refused with a JSON-RPC error
//! (never reaching the server: the listener gets nothing) until `pins approve`. The control:
//! the same deviating calls without `--profile` run and raise nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::path::PathBuf;
use support::watch::{anomalies, approve, call, list, names, outcome, sdk_steps};
use support::{TcpSink, python_server_flags, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
const SERVER: &str = "watch-docs";

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
    port: u16,
}

impl Workspace {
    fn new(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        for f in ["a", "b", "c", "d"] {
            std::fs::write(root.join("data").join(f), format!("document {f}")).unwrap();
        }
        std::fs::write(root.join("notes.txt"), "private notes").unwrap();
        Workspace { _dir: dir, root, port }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `proxy` around the server: a broad static policy (the sandbox allows every deviation
    /// below: only the profile tells them from ordinary calls), then `watch`.
    fn command(&self, watch: &[&str]) -> Vec<String> {
        let mut extra: Vec<String> = vec![
            "--server-name".into(),
            SERVER.into(),
            "--audit".into(),
            s(&self.path("audit.jsonl")).into(),
            "--allow-read".into(),
            s(&self.root).into(),
            "--allow-env".into(),
            format!("WATCH_DATA={}", s(&self.path("data"))),
            "--allow-net".into(),
            format!("127.0.0.1:{}", self.port),
        ];
        extra.extend(watch.iter().map(|x| x.to_string()));
        let mut c = vec![BIN.to_string(), "proxy".into()];
        c.extend(python_server_flags(s(&self.path("pins.json")), "watch_server.py", &extra));
        c
    }

    fn run(&self, watch: &[&str], steps: &[Value]) -> Vec<Value> {
        sdk_steps(&self.path("audit.jsonl"), &Value::Array(steps.to_vec()), &self.command(watch))
    }
}

fn docs(args: Value) -> Value {
    call("docs", args)
}

fn assert_ok(step: &Value, what: &str) -> String {
    let (error, text) = outcome(step);
    assert!(!error, "{what}: {step}");
    text
}

fn learn(w: &Workspace) -> PathBuf {
    let profile = w.path("profile.json");
    let got = w.run(
        &["--learn", s(&profile)],
        &[list(), docs(json!({"file": "a"})), docs(json!({"file": "b"})), docs(json!({"file": "c"}))],
    );
    for (i, g) in got.iter().enumerate().skip(1) {
        assert!(assert_ok(g, "learning").starts_with("length 10"), "{i}: {g}");
    }
    profile
}

#[test]
fn proxy_learns_each_call_and_quarantines_a_tool_that_deviates() {
    let sink = TcpSink::start("127.0.0.1");
    let w = Workspace::new(sink.addr.port());
    let profile = learn(&w);
    let learned: Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    let entries: Vec<&Value> = learned.as_array().unwrap().iter().collect();
    let tool = entries.iter().find(|p| p["tool"] == "docs").unwrap_or_else(|| panic!("{learned}"));
    assert_eq!(tool["calls"], 3, "{tool}");
    assert!(tool["reads"].get(s(&w.path("data/a"))).is_some(), "the call's read is the call's: {tool}");
    // What the server did outside its calls (start-up) is learned apart, not blamed on a call.
    let between = entries.iter().find(|p| p["tool"] == "(between calls)").unwrap_or_else(|| panic!("{learned}"));
    assert!(between["calls"].as_u64().unwrap() >= 1, "{between}");
    assert!(tool["reads"].as_object().unwrap().len() < between["reads"].as_object().unwrap().len(), "{learned}");

    // Control: without --profile, the deviating calls run and nothing is judged.
    let notes = s(&w.path("notes.txt")).to_string();
    let got = w.run(&[], &[list(), docs(json!({"file": "a", "also": notes, "shell": true}))]);
    assert!(assert_ok(&got[1], "control").contains("also 13; shell ran"), "{:?}", got[1]);
    assert!(anomalies(&w.path("audit.jsonl")).is_empty());

    let pins = w.path("pins.json");
    let port = sink.addr.port();
    let got = w.run(
        &["--profile", s(&profile), "--quarantine"],
        &[
            list(),                                    // 0
            docs(json!({"file": "d"})),                // 1: inside the profile
            docs(json!({"file": "a", "also": notes})), // 2: a file never read: medium
            list(),                                    // 3
            docs(json!({"file": "a", "shell": true})), // 4: a shell: high
            list(),                                    // 5
            docs(json!({"file": "a", "send": port})),  // 6: refused, never relayed
            approve(&pins, SERVER, "docs"),            // 7
            list(),                                    // 8
            docs(json!({"file": "b", "send": port})),  // 9: a new endpoint: high
            list(),                                    // 10
        ],
    );
    let audit = w.path("audit.jsonl");
    assert_eq!(names(&got[0]), ["docs"]);
    assert_eq!(assert_ok(&got[1], "benign"), "length 10");
    assert_eq!(
        got[1]["anomalies"],
        0,
        "new arguments inside the learned behaviour raise nothing: {:?}",
        anomalies(&audit)
    );
    assert!(assert_ok(&got[2], "new read").contains("also 13"));
    assert_eq!(got[2]["anomalies"], 1, "{:?}", anomalies(&audit));
    let a = anomalies(&audit);
    assert_eq!((a[0]["target"].as_str(), a[0]["detail"]["kind"].as_str()), (Some("docs"), Some("new-read")), "{a:?}");
    assert_eq!(a[0]["detail"]["what"], s(&w.path("notes.txt")));
    assert_eq!(a[0]["detail"]["severity"], "medium");
    assert!(a[0]["detail"]["call"]["id"].is_number(), "the client's JSON-RPC id: {a:?}");
    assert_eq!(names(&got[3]), ["docs"], "a medium anomaly does not quarantine");
    assert!(assert_ok(&got[4], "shell").contains("shell ran"));
    let a = anomalies(&audit);
    assert!(a.iter().any(|e| e["detail"]["kind"] == "new-exec" && e["detail"]["what"] == "/bin/sh"), "{a:?}");
    assert!(names(&got[5]).is_empty(), "quarantined: withheld from tools/list: {:?}", got[5]);
    let (error, text) = outcome(&got[6]);
    assert!(error && got[6].get("exception").is_some(), "a JSON-RPC error: {:?}", got[6]);
    assert!(text.contains("pins approve"), "{text}");
    assert_eq!(got[7]["ok"], 0, "{:?}", got[7]);
    assert_eq!(names(&got[8]), ["docs"], "approved: listed again");
    assert!(assert_ok(&got[9], "new endpoint").contains("sent"));
    let a = anomalies(&audit);
    assert!(
        a.iter()
            .any(|e| e["detail"]["kind"] == "new-endpoint" && e["detail"]["what"] == format!("tcp://127.0.0.1:{port}")),
        "{a:?}"
    );
    assert!(names(&got[10]).is_empty(), "{:?}", got[10]);
    // The listener got the one call that ran (the sandbox allows it; the profile flags it), and
    // nothing from the refused one.
    let received = sink.received();
    assert!(received.contains("document b") && !received.contains("document a"), "{received}");
    // Nothing the server did outside its calls deviated (its start-up is the learned one).
    assert!(a.iter().all(|e| e["target"] == "docs"), "{a:?}");
}

#[test]
fn a_profile_flag_on_proxy_that_does_not_parse_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("p.json");
    std::fs::write(&bad, "{\"version\": 1}").unwrap();
    let r = support::run(&["proxy", "--profile", s(&bad), "--", "/bin/true"]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("p.json") && r.stderr.trim().lines().count() == 1, "{}", r.stderr);
}
