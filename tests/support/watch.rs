//! Behaviour-profile tests driven by the official Python SDK client (`tests/mcp/watch_client.py`).

use super::{python, root, s};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Runs `steps` (see `watch_client.py`) with the SDK client against `command`; per step, what
/// the client saw (`ok` or `exception`) and the anomaly events in `audit` right after.
pub fn sdk_steps(audit: &Path, steps: &Value, command: &[String]) -> Vec<Value> {
    let out = Command::new(python())
        .arg(root().join("tests/mcp/watch_client.py"))
        .arg(audit)
        .arg(steps.to_string())
        .args(command)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("the client printed no result ({e}): {stdout}\n{stderr}"));
    let got = v.as_array().unwrap().clone();
    assert_eq!(got.len(), steps.as_array().unwrap().len(), "{v}\n{stderr}");
    got
}

/// A call step.
pub fn call(tool: &str, args: Value) -> Value {
    json!(["call", tool, args])
}

/// A listing step.
pub fn list() -> Value {
    json!(["list"])
}

/// A step running `mcp-sandbox pins approve --pins PINS --server SERVER TOOL`.
pub fn approve(pins: &Path, server: &str, tool: &str) -> Value {
    json!(["run", [env!("CARGO_BIN_EXE_mcp-sandbox"), "pins", "approve", "--pins", s(pins), "--server", server, tool]])
}

/// The anomaly events of `audit`.
pub fn anomalies(audit: &Path) -> Vec<Value> {
    std::fs::read_to_string(audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "anomaly")
        .collect()
}

/// A call step's text, and whether it was an error (a tool error or a JSON-RPC error, which
/// the SDK raises).
pub fn outcome(step: &Value) -> (bool, String) {
    if let Some(e) = step["exception"].as_str() {
        return (true, e.to_string());
    }
    (step["ok"]["error"].as_bool().unwrap(), step["ok"]["text"].as_str().unwrap().to_string())
}

/// A listing step's tool names.
pub fn names(step: &Value) -> Vec<String> {
    let listed = step["ok"].as_array().unwrap_or_else(|| panic!("not a listing: {step}"));
    listed.iter().map(|n| n.as_str().unwrap().to_string()).collect()
}
