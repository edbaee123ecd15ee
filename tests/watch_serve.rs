//! Behaviour profiles in `serve`, driven by rmcp's client against the real binary, a real
//! native Python tool and a real loopback listener: a profile learned over ordinary calls
//! (`--learn`); then (`--profile`) calls inside it raise nothing, a call doing what the
//! profile never showed raises an `anomaly` naming it, and with `--quarantine` a high one
//! withholds the tool from `tools/list` and refuses its calls until `pins approve`. The same
//! deviating calls without `--profile` raise nothing (the control).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::{TcpSink, s};

type Client = RunningService<RoleClient, ()>;

type Workspace = support::watch::DocsWorkspace;

fn workspace(port: u16) -> Workspace {
    Workspace::new(port, &[("notes.txt", "private notes")])
}

async fn connect(w: &Workspace, extra: &[&str]) -> Client {
    let (transport, _stderr) =
        TokioChildProcess::builder(tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
            c.arg("serve").arg("--tools").arg(w.path("tools")).arg("--audit").arg(w.path("audit.jsonl")).args(extra);
        }))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

async fn call(c: &Client, a: Value) -> CallToolResult {
    let p = CallToolRequestParams::new("docs".to_string()).with_arguments(a.as_object().unwrap().clone());
    c.call_tool(p).await.unwrap()
}

fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// The anomaly events in the audit log so far.
fn anomalies(w: &Workspace) -> Vec<Value> {
    std::fs::read_to_string(w.path("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "anomaly")
        .collect()
}

async fn listed(c: &Client) -> bool {
    c.list_all_tools().await.unwrap().iter().any(|t| t.name == "docs")
}

async fn learn(w: &Workspace) -> PathBuf {
    let profile = w.path("profile.json");
    let c = connect(w, &["--learn", s(&profile)]).await;
    for f in ["a", "b", "c"] {
        let r = call(&c, json!({ "file": f })).await;
        assert_eq!(r.is_error, Some(false), "{}", text(&r));
    }
    c.cancel().await.unwrap();
    profile
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_outside_the_learned_profile_raise_anomalies_and_quarantine_the_tool() {
    let sink = TcpSink::start("127.0.0.1");
    let w = workspace(sink.addr.port());
    let profile = learn(&w).await;
    let learned = std::fs::read_to_string(&profile).unwrap();
    assert!(learned.contains(s(&w.path("data/a"))), "{learned}");

    // Control: without --profile, the deviating calls run and nothing is judged.
    let c = connect(&w, &[]).await;
    let r = call(&c, json!({ "file": "a", "also": s(&w.path("notes.txt")), "shell": true })).await;
    assert!(text(&r).contains("also 13"), "{}", text(&r));
    c.cancel().await.unwrap();
    assert!(anomalies(&w).is_empty());

    let pins = w.path("pins.json");
    let c = connect(&w, &["--profile", s(&profile), "--quarantine", "--pins", s(&pins)]).await;
    // Inside the profile: another document of the same directory.
    let r = call(&c, json!({ "file": "d" })).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert!(anomalies(&w).is_empty(), "{:?}", anomalies(&w));
    // A file never read: medium, reported, not quarantined.
    let r = call(&c, json!({ "file": "a", "also": s(&w.path("notes.txt")) })).await;
    assert_eq!(r.is_error, Some(false));
    let a = anomalies(&w);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["detail"]["kind"], "new-read");
    assert_eq!(a[0]["detail"]["what"], s(&w.path("notes.txt")));
    assert!(listed(&c).await, "a medium anomaly does not quarantine");
    // A shell: a program never run. High: the tool is quarantined.
    call(&c, json!({ "file": "a", "shell": true })).await;
    let a = anomalies(&w);
    assert!(a.iter().any(|e| e["detail"]["kind"] == "new-exec" && e["detail"]["what"] == "/bin/sh"), "{a:?}");
    assert!(!listed(&c).await, "quarantined: withheld from tools/list");
    let before = sink.received();
    let r = call(&c, json!({ "file": "a", "send": sink.addr.port() })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("pins approve"), "{}", text(&r));
    assert_eq!(sink.received(), before, "a quarantined tool's call never runs");
    // Approval restores it (the review path of a rug-pulled tool).
    let approve = || support::run(&["pins", "approve", "--pins", s(&pins), "--server", &server(&w), "docs"]);
    assert_eq!(approve().code, 0);
    assert!(listed(&c).await, "approved: listed again");
    // Far more output than any learned call: an envelope anomaly, high.
    call(&c, json!({ "file": "a", "big": true })).await;
    assert!(anomalies(&w).iter().any(|e| e["detail"]["kind"] == "output"), "{:?}", anomalies(&w));
    assert!(!listed(&c).await);
    assert_eq!(approve().code, 0);
    // A new endpoint (the listener receives: the sandbox allows it; the profile flags it).
    let r = call(&c, json!({ "file": "b", "send": sink.addr.port() })).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert!(sink.received().contains("document b"));
    assert!(anomalies(&w).iter().any(|e| e["detail"]["kind"] == "new-endpoint"), "{:?}", anomalies(&w));
    assert!(!listed(&c).await);
    c.cancel().await.unwrap();
}

fn server(w: &Workspace) -> String {
    format!("serve:{}", w.path("tools").display())
}

#[test]
fn a_profile_file_that_does_not_parse_is_one_line_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("p.json");
    std::fs::write(&bad, "[{\"version\": 1}]").unwrap();
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    let r = support::run(&["serve", "--tools", s(&tools), "--profile", s(&bad)]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("p.json") && r.stderr.trim().lines().count() == 1, "{}", r.stderr);
}
