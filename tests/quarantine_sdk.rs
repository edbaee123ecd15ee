//! Quarantine in `serve`, seen by the official Python SDK client (`tests/mcp/watch_client.py`):
//! a profile learned over ordinary calls of a real native Python tool; then, under `--profile
//! --quarantine`, a call with new arguments inside it raises nothing, a call reading a key it
//! never read (a sensitive-looking path outside the learned set) and a call spawning a shell
//! each raise a high `anomaly` naming the tool; the SDK's `list_tools` no longer shows the tool
//! and its `call_tool` gets a tool error naming `pins approve` (the listener receives nothing);
//! approval restores it. The control: the same calls without `--profile` raise nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::watch::{anomalies, approve, call, list, names, outcome, sdk_steps};
use support::{TcpSink, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

type Workspace = support::watch::DocsWorkspace;

fn workspace(port: u16) -> Workspace {
    Workspace::new(port, &[("keys/id_ed25519", "not a real key")])
}

fn server(w: &Workspace) -> String {
    format!("serve:{}", w.path("tools").display())
}

fn run(w: &Workspace, watch: &[&str], steps: &[Value]) -> Vec<Value> {
    let mut c: Vec<String> = vec![
        BIN.into(),
        "serve".into(),
        "--tools".into(),
        s(&w.path("tools")).into(),
        "--audit".into(),
        s(&w.path("audit.jsonl")).into(),
    ];
    c.extend(watch.iter().map(|x| x.to_string()));
    sdk_steps(&w.path("audit.jsonl"), &Value::Array(steps.to_vec()), &c)
}

fn docs(args: Value) -> Value {
    call("docs", args)
}

fn ok(step: &Value) -> String {
    let (error, text) = outcome(step);
    assert!(!error, "{step}");
    text
}

#[test]
fn the_sdk_client_sees_a_deviating_tool_withheld_until_approved() {
    let sink = TcpSink::start("127.0.0.1");
    let port = sink.addr.port();
    let w = workspace(port);
    let profile = w.path("profile.json");
    let got = run(
        &w,
        &["--learn", s(&profile)],
        &[docs(json!({"file": "a"})), docs(json!({"file": "b"})), docs(json!({"file": "c"}))],
    );
    assert!(got.iter().all(|g| ok(g).starts_with("length 10")), "{got:?}");

    // Control: without --profile the deviating calls run, and nothing is judged.
    let key = s(&w.path("keys/id_ed25519")).to_string();
    let got = run(&w, &[], &[docs(json!({"file": "a", "also": key, "shell": true}))]);
    assert!(ok(&got[0]).contains("also 14"), "{got:?}");
    assert!(anomalies(&w.path("audit.jsonl")).is_empty());

    let pins = w.path("pins.json");
    let got = run(
        &w,
        &["--profile", s(&profile), "--quarantine", "--pins", s(&pins)],
        &[
            docs(json!({"file": "d"})),                // 0: inside the profile
            list(),                                    // 1
            docs(json!({"file": "a", "shell": true})), // 2: a shell: high
            list(),                                    // 3
            docs(json!({"file": "a", "send": port})),  // 4: refused, never runs
            approve(&pins, &server(&w), "docs"),       // 5
            list(),                                    // 6
            docs(json!({"file": "b", "also": key})),   // 7: a key never read
            list(),                                    // 8
        ],
    );
    let audit = w.path("audit.jsonl");
    assert_eq!(ok(&got[0]).trim(), "length 10");
    assert_eq!(got[0]["anomalies"], 0, "{:?}", anomalies(&audit));
    assert_eq!(names(&got[1]), ["docs"]);
    ok(&got[2]);
    let a = anomalies(&audit);
    assert!(
        a.iter()
            .any(|e| e["target"] == "docs" && e["detail"]["kind"] == "new-exec" && e["detail"]["what"] == "/bin/sh"),
        "{a:?}"
    );
    assert!(names(&got[3]).is_empty(), "withheld from list_tools: {:?}", got[3]);
    let (error, text) = outcome(&got[4]);
    assert!(error && text.contains("pins approve"), "{text}");
    assert_eq!(got[5]["ok"], 0, "{:?}", got[5]);
    assert_eq!(names(&got[6]), ["docs"], "approved: listed again");
    assert!(ok(&got[7]).contains("also 14"));
    let a = anomalies(&audit);
    let read = a.iter().find(|e| e["detail"]["kind"] == "new-read").unwrap_or_else(|| panic!("{a:?}"));
    assert_eq!(read["detail"]["what"], key.as_str());
    assert!(sink.received().is_empty(), "the withheld call never ran: {}", sink.received());
    // The key's read is medium unless the path is sensitive: the tool stays listed or not
    // accordingly; a medium anomaly does not quarantine.
    let high = read["detail"]["severity"] == "high";
    assert_eq!(names(&got[8]).is_empty(), high, "{read}");
}
