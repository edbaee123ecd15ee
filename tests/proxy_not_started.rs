//! `proxy` refused before its server starts (a program that does not exist, one that is not
//! executable, a granted path that does not exist, a flag it does not know) still answers the
//! client: `initialize` gets a JSON-RPC error carrying the one-line reason and fix, and the
//! proxy exits with the documented status (126: the tool cannot be loaded; 125: a bad flag or
//! grant). The official Python SDK client (`tests/mcp/crash_client.py`, each step bounded by a
//! client-side timeout) must get that error, never wait; the exit status is read by running
//! the proxy directly with an `initialize` on its input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use support::{python, root, run_watched, s};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

/// Seconds a client step may take before it counts as a hang (the answer comes before any
/// sandbox is made: well under one).
const STEP_TIMEOUT: &str = "20";

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// The SDK client's `initialize` error through `proxy ARGS`, and how long it took.
fn sdk_error(args: &[&str]) -> (String, f64) {
    let out = Command::new(python())
        .arg(root().join("tests/mcp/crash_client.py"))
        .arg(STEP_TIMEOUT)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| {
        panic!("client printed no result ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr))
    });
    let init = &v["initialize"];
    assert!(init.get("timeout").is_none(), "`initialize` hung: {v}");
    let e = init["error"].as_str().unwrap_or_else(|| panic!("`initialize` got no JSON-RPC error: {v}"));
    (e.to_string(), init["seconds"].as_f64().unwrap())
}

/// `proxy ARGS` with an `initialize` on its input (then the input closed): its exit status and
/// the reply it wrote.
fn direct(args: &[&str]) -> (i32, Value, String) {
    let mut a = vec!["proxy"];
    a.extend_from_slice(args);
    let (r, _) = run_watched(&a, format!("{INITIALIZE}\n").as_bytes(), &[], Some(Duration::from_secs(60)));
    let reply = serde_json::from_str(r.stdout.lines().next().unwrap_or("")).unwrap_or(Value::Null);
    (r.code, reply, r.stderr)
}

fn check(args: &[&str], status: i32, reason: &str) {
    let (e, secs) = sdk_error(args);
    assert!(e.starts_with("mcp-sandbox proxy could not start the MCP server: "), "{e}");
    assert!(e.contains(reason), "the reason and its fix: {e}");
    assert!(secs < 10.0, "answered at once, not after a wait: {secs}s");
    let (code, reply, stderr) = direct(args);
    assert_eq!(code, status, "{stderr}");
    assert_eq!(reply["id"], 1, "{reply}");
    assert_eq!(reply["error"]["data"]["exit_status"], status, "{reply}");
    assert!(stderr.contains(reason), "the same line on stderr: {stderr}");
}

#[test]
fn a_program_that_does_not_exist_is_answered_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let missing = dir.path().join("no-such-server");
    check(&["--pins", s(&pins), "--", s(&missing)], 126, &format!("{}", missing.display()));
}

#[test]
fn a_program_that_is_not_executable_is_answered_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let server = dir.path().join("server.sh");
    std::fs::write(&server, "#!/bin/sh\nexec cat\n").unwrap();
    check(&["--pins", s(&pins), "--", s(&server)], 126, "chmod +x");
}

#[test]
fn a_granted_path_that_does_not_exist_is_answered_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let gone = dir.path().join("no-such-data");
    check(&["--pins", s(&pins), "--allow-read", s(&gone), "--", "/bin/cat"], 125, s(&gone));
}

#[test]
fn an_unknown_flag_is_answered_with_the_help_to_read() {
    check(&["--allow-reed", "/tmp", "--", "/bin/cat"], 125, "mcp-sandbox proxy --help");
    // One clap itself refuses: a flag without its value.
    check(&["--pins"], 125, "mcp-sandbox proxy --help");
}
