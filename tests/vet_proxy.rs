//! Vetting in `mcp-sandbox proxy`, with the official Python SDK as the client
//! (`tests/mcp/vet_client.py`) and `tests/mcp/poison_server.py` as the server, whose very first
//! listing carries a poisoned `add` (read ~/.ssh/id_rsa, pass it as `sidenote`, do not tell the
//! user) beside clean tools:
//!
//! * the poisoned tool is withheld from `tools/list` and its call refused before it reaches the
//!   server (judged by the server's marker file), while the clean tools work; `pins list` shows
//!   the findings; `pins approve` lets it through; with `--vet off` it is listed (positive
//!   control);
//! * a call carrying a secret to the networked `post` is refused with a tool error naming the
//!   rule and the argument, and the loopback listener it would post to receives nothing, while
//!   the same call without the secret reaches it (positive control), as does the secret with
//!   `--allow-secrets-to post`;
//! * a result carrying instructions aimed at the model is audited, and replaced by an error with
//!   `--on-injected-result block`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use support::{TcpSink, root, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const PEM_BODY: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";

fn python() -> PathBuf {
    let p = std::env::var_os("MCP_SANDBOX_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/mcp-venv/bin/python"));
    assert!(p.exists(), "{} missing: run ./dev test (it installs the MCP Python SDK there)", p.display());
    p
}

/// The interpreter's installation (the venv's base), which the sandboxed server may execute.
fn python_base() -> String {
    let out = Command::new(python()).args(["-c", "import sys; print(sys.base_prefix)"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A temporary directory with the pins file, the audit log and the server's marker file, and
/// the listener `post` posts to.
struct Scene {
    dir: tempfile::TempDir,
    sink: TcpSink,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        Scene { dir, sink: TcpSink::start("127.0.0.1") }
    }
    fn pins(&self) -> PathBuf {
        self.dir.path().join("pins.json")
    }
    fn marker(&self) -> PathBuf {
        self.dir.path().join("out/marker")
    }
    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    /// The tools the server really ran, in order.
    fn ran(&self) -> Vec<String> {
        std::fs::read_to_string(self.marker()).unwrap_or_default().lines().map(str::to_string).collect()
    }

    /// Runs the SDK client through `mcp-sandbox proxy` with `extra` flags; what it saw.
    fn session(&self, extra: &[&str]) -> Value {
        let base = python_base();
        let sink = self.sink.addr.to_string();
        let mut a: Vec<String> = vec![BIN.into()];
        for (flag, v) in [
            ("--pins", s(&self.pins()).to_string()),
            ("--audit", s(&self.dir.path().join("audit.jsonl")).to_string()),
            ("--server-name", "poison".into()),
            ("--allow-exec", base.clone()),
            ("--allow-read", s(&root().join("tests/mcp")).to_string()),
            ("--allow-write", s(&self.dir.path().join("out")).to_string()),
            ("--allow-net", sink.clone()),
            ("--allow-env", format!("POISON_MARKER={}", s(&self.marker()))),
            ("--allow-env", format!("POISON_SINK={sink}")),
        ] {
            a.push(flag.into());
            a.push(v);
        }
        a.extend(extra.iter().map(|x| x.to_string()));
        a.extend(["--".into(), format!("{base}/bin/python3"), s(&root().join("tests/mcp/poison_server.py")).into()]);
        let out = Command::new(python()).arg(root().join("tests/mcp/vet_client.py")).args(&a).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "client failed: {stdout}\n{stderr}");
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
    }

    fn pins_cli(&self, args: &[&str]) -> String {
        let out = Command::new(BIN).arg("pins").args(args).arg("--pins").arg(self.pins()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn vet_events<'a>(audit: &'a [Value], target: &str) -> Vec<&'a Value> {
    audit.iter().filter(|e| e["event"] == "vet" && e["target"] == target).collect()
}

#[test]
fn a_poisoned_tool_is_withheld_until_approved_and_clean_tools_work() {
    let scene = Scene::new();
    let v = scene.session(&[]);
    let tools = v["tools"].as_object().unwrap();
    assert!(tools.contains_key("echo") && tools.contains_key("post"), "positive control: {v}");
    assert!(!tools.contains_key("add"), "the poisoned tool is withheld: {v}");
    assert!(!v["tools"].to_string().contains("id_rsa"), "{v}");
    let refused = v["add"]["refused"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(refused.contains("withheld") && refused.contains("poisoned"), "{refused}");
    assert_eq!(v["echo"]["text"], r#"{"a": 2, "b": 3}"#, "positive control: {v}");
    assert!(!scene.ran().contains(&"add".to_string()), "the refused call never reached the server: {:?}", scene.ran());
    assert_eq!(scene.ran().first().map(String::as_str), Some("echo"));
    // Audited as a `vet` event with its findings; `pins list` shows them.
    let audit = scene.audit();
    let add = vet_events(&audit, "add");
    assert!(add.iter().any(|e| e["detail"]["verdict"] == "poisoned"), "{audit:#?}");
    assert!(vet_events(&audit, "echo").iter().any(|e| e["detail"]["verdict"] == "clean"));
    let list: Value = serde_json::from_str(&scene.pins_cli(&["list"])).unwrap();
    let pending = &list["poison"]["pending"]["add"];
    assert_eq!(pending["vet"]["verdict"], "poisoned", "{list:#}");
    assert!(!pending["vet"]["findings"].as_array().unwrap().is_empty());
    assert!(list["poison"]["tools"].get("add").is_none(), "not pinned: {list:#}");
    assert!(list["poison"]["tools"].get("echo").is_some(), "{list:#}");

    // Approved: recorded in the pin, relayed, audited.
    let audit_file = scene.dir.path().join("audit.jsonl");
    let approved = scene.pins_cli(&["approve", "--server", "poison", "--audit", s(&audit_file), "add"]);
    assert!(approved.contains("approved add (over its vetting findings)"), "{approved}");
    assert!(
        scene.audit().iter().any(|e| e["event"] == "vet" && e["invocation"] == "pins-approve" && e["target"] == "add"),
        "the approval is audited"
    );
    let list: Value = serde_json::from_str(&scene.pins_cli(&["list"])).unwrap();
    assert!(list["poison"]["tools"]["add"]["vet_override"]["findings"]["findings"].is_array(), "{list:#}");
    let v = scene.session(&[]);
    assert!(v["tools"].get("add").is_some(), "approved: {v}");
    assert_eq!(v["add"]["text"], "5", "{v}");
    let audit = scene.audit();
    assert!(
        vet_events(&audit, "add").iter().any(|e| e["reason"].as_str().unwrap_or("").contains("approved")),
        "{audit:#?}"
    );
}

#[test]
fn with_vetting_off_the_poisoned_tool_is_listed() {
    let scene = Scene::new();
    let v = scene.session(&["--vet", "off"]);
    assert!(v["tools"]["add"].as_str().unwrap_or_else(|| panic!("{v}")).contains("id_rsa"), "{v}");
    assert_eq!(v["add"]["text"], "5", "{v}");
    assert!(scene.ran().contains(&"add".to_string()));
    // Warn: listed too, but reported and audited.
    let scene = Scene::new();
    let v = scene.session(&["--vet", "warn"]);
    assert!(v["tools"].get("add").is_some(), "{v}");
    assert!(vet_events(&scene.audit(), "add").iter().any(|e| e["detail"]["verdict"] == "poisoned"));
}

#[test]
fn a_secret_to_a_networked_tool_is_refused_and_the_listener_receives_nothing() {
    let scene = Scene::new();
    let v = scene.session(&[]);
    for (key, rule) in [("post_aws", "aws-access-key"), ("post_pem", "private-key")] {
        let r = &v[key];
        assert_eq!(r["is_error"], true, "{key}: {v}");
        let text = r["text"].as_str().unwrap();
        assert!(text.contains(rule) && text.contains("/text"), "{key}: {text}");
        assert!(!text.contains(AWS_KEY) && !text.contains(PEM_BODY), "never the value: {text}");
    }
    // Positive control: the same tool, without the secret, reaches the listener.
    assert_eq!(v["post_clean"]["text"], "posted 13 bytes", "{v}");
    assert_eq!(scene.sink.received(), "lunch at noon");
    assert_eq!(scene.sink.connections(), 1);
    assert_eq!(scene.ran().iter().filter(|t| *t == "post").count(), 1, "{:?}", scene.ran());
    // Audited with the rule and a fingerprint, never the secret.
    let audit = scene.audit();
    let denials: Vec<&Value> = audit
        .iter()
        .filter(|e| e["event"] == "deny" && e["reason"].as_str().unwrap_or("").starts_with("secret"))
        .collect();
    assert_eq!(denials.len(), 2, "{audit:#?}");
    assert!(denials.iter().all(|e| e["detail"][0]["fingerprint"].as_str().is_some_and(|f| f.len() == 12)));
    let text = std::fs::read_to_string(scene.dir.path().join("audit.jsonl")).unwrap();
    assert!(!text.contains(AWS_KEY) && !text.contains(PEM_BODY));

    // Opted out: the secret goes through.
    let scene = Scene::new();
    let v = scene.session(&["--allow-secrets-to", "post"]);
    assert_eq!(v["post_aws"]["is_error"], false, "{v}");
    assert!(scene.sink.received().contains(AWS_KEY));
}

#[test]
fn an_injected_result_is_audited_and_blocked_on_request() {
    let scene = Scene::new();
    let v = scene.session(&[]);
    assert!(v["fetch_page"]["text"].as_str().unwrap().contains("Ignore all previous instructions"), "{v}");
    let audit = scene.audit();
    let flagged = vet_events(&audit, "fetch_page");
    assert!(flagged.iter().any(|e| e["detail"]["result"] == true), "{audit:#?}");
    // The result of `echo`, plain text, is not flagged.
    assert!(!vet_events(&audit, "echo").iter().any(|e| e["detail"]["result"] == true));

    let scene = Scene::new();
    let v = scene.session(&["--on-injected-result", "block"]);
    assert_eq!(v["fetch_page"]["is_error"], true, "{v}");
    let text = v["fetch_page"]["text"].as_str().unwrap();
    assert!(text.contains("instructions aimed at the model") && !text.contains("id_rsa"), "{text}");
    assert_eq!(v["echo"]["text"], r#"{"a": 2, "b": 3}"#, "positive control: {v}");
}
