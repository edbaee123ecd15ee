//! `mcp-sandbox vet` on the real binary: corpus entries (one poisoned, one benign) from a file,
//! stdin and a manifest directory, in the three formats; exit statuses 0 / 1 / 125; and
//! `--server` against a real stdio MCP server run in the sandbox (`tests/mcp/poison_server.py`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::{root, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
/// The Invariant Labs direct-poisoning `add` (read ~/.cursor/mcp.json and ~/.ssh/id_rsa.pub,
/// pass them as `sidenote`, do not mention it).
const POISONED: &str = "p-invariant-direct-add";
/// Bitwarden's `edit_item`: a hard negative (secrets, email).
const BENIGN: &str = "b-bitwarden-mcp-server-edit-item";

/// The tool of corpus entry `id`.
fn corpus_tool(id: &str) -> Value {
    for file in ["poisoned.jsonl", "benign.jsonl"] {
        let text = std::fs::read_to_string(root().join("vet-corpus").join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let e: Value = serde_json::from_str(line).unwrap();
            if e["id"] == id {
                return e["tool"].clone();
            }
        }
    }
    panic!("no corpus entry {id}");
}

fn vet(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("vet")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[test]
fn a_poisoned_and_a_benign_entry_in_three_formats() {
    let dir = tempfile::tempdir().unwrap();
    // One tool; an array; a tools/list result.
    let poisoned = write(dir.path(), "poisoned.json", &corpus_tool(POISONED));
    let benign = write(dir.path(), "benign.json", &json!([corpus_tool(BENIGN)]));
    let (p, b) = (s(&poisoned), s(&benign));

    // human
    let o = vet(&[p, b], None);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let text = out(&o);
    assert!(text.contains("add (") && text.contains("POISONED"), "{text}");
    assert!(text.contains("edit_item (") && text.contains("CLEAN"), "{text}");
    assert!(text.contains("2 tools: 1 poisoned, 0 suspicious, 1 clean"), "{text}");

    // json, the listing on stdin
    let listing = json!({"tools": [corpus_tool(POISONED), corpus_tool(BENIGN)]}).to_string();
    let o = vet(&["--format", "json", "-"], Some(&listing));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["tools"][0]["tool"], "add");
    assert_eq!(v["tools"][0]["verdict"], "poisoned");
    assert_eq!(v["tools"][0]["input"], "-");
    let f = &v["tools"][0]["findings"][0];
    for key in ["rule", "category", "severity", "location", "evidence", "explanation"] {
        assert!(f[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {f}");
    }
    assert_eq!(v["tools"][1]["verdict"], "clean");
    assert_eq!(v["tools"][1]["findings"], json!([]));
    assert_eq!(v["summary"], json!({"tools": 2, "poisoned": 1, "suspicious": 0, "clean": 1}));

    // sarif
    let o = vet(&["--format", "sarif", p], None);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
    for r in results {
        assert!(rules.contains(&r["ruleId"].as_str().unwrap()), "{r}");
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], p);
    }
    assert!(results.iter().any(|r| r["level"] == "error"));
    // The benign one alone: no results, exit 0, even failing on low.
    let o = vet(&["--format", "sarif", "--fail-on", "low", b], None);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"], json!([]));
}

#[test]
fn manifest_directories_are_vetted_with_their_policy() {
    // This project's own manifests are clean.
    let o = vet(&[s(&root().join("tools"))], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("0 poisoned, 0 suspicious"), "{}", out(&o));
    // A manifest whose description carries the poisoned text.
    let dir = tempfile::tempdir().unwrap();
    let description = corpus_tool(POISONED)["description"].as_str().unwrap().to_string();
    let manifest = format!(
        "name = \"add\"\ndescription = {}\nwasm = \"add.wasm\"\n[input_schema]\ntype = \"object\"\n",
        toml_string(&description)
    );
    std::fs::write(dir.path().join("add.toml"), manifest).unwrap();
    let o = vet(&["--format", "json", s(dir.path())], None);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["tools"][0]["verdict"], "poisoned", "{v}");
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.json", &corpus_tool(POISONED));
    let o = vet(&["--fail-on", "high", s(&p)], None);
    assert_eq!(o.status.code(), Some(1));
    let o = vet(&["--fail-on", "low", s(&p)], None);
    assert_eq!(o.status.code(), Some(1));
    // A medium finding alone (a hidden HTML comment: suspicious) fails at medium and below
    // only; a low one alone (a zero-width character: still clean) only at low.
    let medium = r#"{"name":"t","description":"Returns the time. <!-- build 42 -->","inputSchema":{"type":"object"}}"#;
    let low = "{\"name\":\"t\",\"description\":\"Adds two numbers.\\u200b\",\"inputSchema\":{\"type\":\"object\"}}";
    for (tool, verdict, fails_at) in [(medium, "suspicious", ["low", "medium"]), (low, "clean", ["low", "low"])] {
        for level in ["low", "medium", "high"] {
            let o = vet(&["--format", "json", "--fail-on", level, "-"], Some(tool));
            let report: Value = serde_json::from_str(&out(&o)).unwrap();
            assert_eq!(report["tools"][0]["verdict"], verdict, "{report}");
            let expected = if fails_at.contains(&level) { 1 } else { 0 };
            assert_eq!(o.status.code(), Some(expected), "--fail-on {level}: {report}");
        }
    }
    // The default threshold is high.
    assert_eq!(vet(&["-"], Some(medium)).status.code(), Some(0));
}

#[test]
fn bad_input_is_one_line_with_a_hint_and_125() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("x.json");
    std::fs::write(&not_json, "{not json").unwrap();
    let cases: Vec<(Vec<String>, Option<&str>, &str)> = vec![
        (vec![], None, "give a JSON file"),
        (vec![s(&not_json).into()], None, "not JSON"),
        (vec!["-".into()], Some("{\"x\": 1}"), "expected {\"tools\": [...]}"),
        (vec![s(&dir.path().join("missing.json")).into()], None, "cannot read"),
        (vec![s(dir.path()).into()], None, "no tool manifests"),
        (vec!["--server".into()], None, "after `--`"),
        (vec!["--format".into(), "xml".into(), "-".into()], None, "--help"),
    ];
    for (args, stdin, hint) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = vet(&a, stdin);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", err(&o));
        let e = err(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(e.contains(hint), "{args:?}: {e}");
        assert!(out(&o).is_empty(), "{args:?}");
    }
}

/// The system interpreter's installation, which the sandboxed server may execute.
fn python() -> (String, String) {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.base_prefix)"]).output().unwrap();
    let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (format!("{base}/bin/python3"), base)
}

#[test]
fn a_live_server_is_listed_in_the_sandbox_and_vetted() {
    let (python, base) = python();
    let server = root().join("tests/mcp/poison_server.py");
    let read = root().join("tests/mcp");
    let args =
        ["--format", "json", "--allow-exec", &base, "--allow-read", s(&read), "--server", "--", &python, s(&server)];
    let o = vet(&args, None);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let verdicts: Vec<(String, String)> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap().to_string(), t["verdict"].as_str().unwrap().to_string()))
        .collect();
    let of = |n: &str| verdicts.iter().find(|(t, _)| t == n).map(|(_, v)| v.as_str()).unwrap_or("missing");
    assert_eq!(of("add"), "poisoned", "{v}");
    assert_eq!(of("echo"), "clean", "{v}");
    assert!(v["tools"][0]["input"].as_str().unwrap().starts_with("server:"), "{v}");
    // Without the grant to execute its interpreter, the server cannot start: bad input, said.
    let args = ["--server", "--", &python, s(&server)];
    let o = vet(&args, None);
    assert_eq!(o.status.code(), Some(125), "{}", err(&o));
    assert!(err(&o).contains("before listing its tools"), "{}", err(&o));
}

#[test]
fn a_judge_is_asked_about_what_is_not_clean_and_recorded_beside_our_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen.jsonl");
    let judge = dir.path().join("judge.sh");
    std::fs::write(
        &judge,
        format!(
            "#!/bin/sh\ncat >> {}\necho >> {0}\necho '{{\"verdict\": \"clean\", \"reason\": \"looks fine to me\"}}'\n",
            s(&seen)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&judge, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let listing = json!([corpus_tool(POISONED), corpus_tool(BENIGN)]).to_string();
    let o = vet(&["--format", "json", "--judge", s(&judge), "-"], Some(&listing));
    // The judge's verdict is recorded, never ours replaced: still poisoned, still exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["tools"][0]["verdict"], "poisoned");
    assert_eq!(v["tools"][0]["judge"], json!({"verdict": "clean", "reason": "looks fine to me"}));
    assert!(v["tools"][1].get("judge").is_none(), "the clean tool is not judged: {v}");
    let asked: Vec<Value> =
        std::fs::read_to_string(&seen).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["tool"]["name"], "add");
    assert_eq!(asked[0]["verdict"], "poisoned");
    assert!(asked[0]["findings"].as_array().is_some_and(|f| !f.is_empty()));
}
