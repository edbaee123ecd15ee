//! `proxy` around a server that ends: at start (`/bin/false`, a Python server that cannot open
//! its configuration) and in the middle of a session (a Python server that exits on its second
//! call). The official Python SDK client (`tests/mcp/crash_client.py`) must get an error for
//! each request, never wait: each step is bounded by a client-side timeout, and a step that
//! times out fails the test. Positive control: the same client through the same proxy to a
//! healthy server gets its answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::process::Command;
use support::{python, python_server_flags, root, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

/// Seconds a client step may take before it counts as a hang (a sandboxed Python server takes a
/// second or two to start on a loaded machine).
const STEP_TIMEOUT: &str = "20";

/// Runs the client against `proxy ARGS`; returns what it saw and the proxy's stderr (the
/// client passes it through).
fn session(args: &[String]) -> (Value, String) {
    let out = Command::new(python())
        .arg(root().join("tests/mcp/crash_client.py"))
        .arg(STEP_TIMEOUT)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("client printed no result ({e}): {stdout}\n{stderr}"));
    (v, stderr)
}

fn error_of<'a>(v: &'a Value, step: &str) -> &'a str {
    assert!(v[step].get("timeout").is_none(), "`{step}` hung: {v}");
    v[step]["error"].as_str().unwrap_or_else(|| panic!("`{step}` got no JSON-RPC error: {v}"))
}

#[test]
fn a_server_that_exits_at_once_gets_the_client_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let (v, stderr) = session(&["--pins".into(), s(&pins).into(), "--".into(), "/bin/false".into()]);
    let e = error_of(&v, "initialize");
    assert!(e.contains("ended") && e.contains("exit status 1"), "{e}");
    assert_eq!(v["initialize"]["data"]["exit_status"], 1, "{v}");
    assert!(stderr.contains("mcp-sandbox: proxy: the server ended (exit status 1); likely fix:"), "{stderr}");
}

#[test]
fn a_python_server_failing_at_start_is_reported_with_its_stderr_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let (v, stderr) =
        session(&python_server_flags(s(&pins), "crash_server.py", &["--allow-env".into(), "CRASH_AT_START=1".into()]));
    let e = error_of(&v, "initialize");
    assert!(e.contains("exit status 2") && e.contains("cannot open /etc/crash-server/config.toml"), "{e}");
    assert!(e.contains("--allow-read /etc/crash-server/config.toml"), "the fix names the path: {e}");
    let tail = v["initialize"]["data"]["stderr"].as_array().unwrap();
    assert!(tail.iter().any(|l| l.as_str().unwrap().contains("No such file")), "{v}");
    assert!(stderr.contains("likely fix: it could not find `/etc/crash-server/config.toml`"), "{stderr}");
}

#[test]
fn a_server_crashing_mid_session_answers_the_pending_call_and_later_ones_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let (v, _) = session(&python_server_flags(s(&pins), "crash_server.py", &[]));
    // Positive control: the healthy part of the session is answered.
    assert_eq!(v["initialize"]["ok"], "initialized", "{v}");
    assert_eq!(v["list"]["ok"], serde_json::json!(["add"]), "{v}");
    assert_eq!(v["call1"]["ok"], "5", "{v}");
    // The call the server died in, and the one after.
    let e = error_of(&v, "call2");
    assert!(e.contains("exit status 3") && e.contains("giving up in the middle of a call"), "{e}");
    let e = error_of(&v, "call3");
    assert!(e.contains("exit status 3"), "a request after the end is answered too: {e}");
}
