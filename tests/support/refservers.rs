//! The four official reference MCP servers, installed by `./dev test` into
//! `target/refservers` (`mcp-server-time`, `mcp-server-fetch` and `mcp-server-git` from PyPI in
//! a venv, `@modelcontextprotocol/server-filesystem` from npm, and an npx cache of mcp-sandbox's
//! holding the latter), and a session with one of them through `mcp-sandbox proxy`, driven by
//! the official Python SDK client (`tests/mcp/ref_client.py`).

use super::{python, root, s};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The version of `@modelcontextprotocol/server-filesystem` `./dev` installs (`REF_NPM`).
pub const FILESYSTEM_PACKAGE: &str = "@modelcontextprotocol/server-filesystem@2026.8.31";

/// Seconds a client step may take before it counts as a hang (a sandboxed server takes a second
/// or two to start on a loaded machine; npx from its cache a few more).
pub const REF_STEP_TIMEOUT: &str = "60";

/// `target/refservers/REL`, which `./dev test` makes (or `$MCP_SANDBOX_REFSERVERS/REL`, an
/// install of the same layout).
pub fn refservers(rel: &str) -> PathBuf {
    let dir = std::env::var_os("MCP_SANDBOX_REFSERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/refservers"));
    let p = dir.join(rel);
    assert!(p.exists(), "{} missing: run ./dev test (it installs the reference MCP servers there)", p.display());
    p
}

/// The venv's console script of a reference Python server (`mcp-server-time`…).
pub fn python_server(name: &str) -> String {
    s(&refservers("venv/bin").join(name)).to_string()
}

/// The filesystem server's bin script in its npm install (`node_modules/.bin/…`, a `#!/usr/bin/env
/// node` script, as `npm install` leaves it).
pub fn filesystem_server() -> String {
    s(&refservers("node/node_modules/.bin/mcp-server-filesystem")).to_string()
}

/// One session: `mcp-sandbox PROXY_ARGS` under the SDK client, `calls` made in order, with
/// `env` added to the proxy's environment. Returns what the client saw and the proxy's stderr.
pub fn ref_session(proxy_args: &[String], calls: &Value, env: &[(&str, String)]) -> (Value, String) {
    session(proxy_args, calls, env, None)
}

/// [`ref_session`] with the client, and so the proxy, started in `dir`.
pub fn ref_session_in(dir: &Path, proxy_args: &[String], calls: &Value) -> (Value, String) {
    session(proxy_args, calls, &[], Some(dir))
}

fn session(proxy_args: &[String], calls: &Value, env: &[(&str, String)], dir: Option<&Path>) -> (Value, String) {
    sdk_session("ref_client.py", &[calls.to_string()], proxy_args, env, dir)
}

/// One session of the SDK client `tests/mcp/SCRIPT`, given the step timeout, `client_args`,
/// then the proxy's command line (`mcp-sandbox proxy PROXY_ARGS`), with `env` added and started
/// in `dir`: what the client printed last (JSON) and the proxy's stderr.
pub fn sdk_session(
    script: &str,
    client_args: &[String],
    proxy_args: &[String],
    env: &[(&str, String)],
    dir: Option<&Path>,
) -> (Value, String) {
    let mut cmd = Command::new(python());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd
        .arg(root().join("tests/mcp").join(script))
        .arg(REF_STEP_TIMEOUT)
        .args(client_args)
        .arg(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .arg("proxy")
        .args(proxy_args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("the client printed no result ({e}): {stdout}\n{stderr}"));
    (v, stderr)
}

/// The text a call returned, asserting it was answered (not an error, a hang or a transport
/// failure) and whether the tool reported an error.
pub fn call_text<'a>(v: &'a Value, label: &str, is_error: bool) -> &'a str {
    let step = &v[label];
    assert!(step.get("ok").is_some(), "`{label}` got no result: {v}");
    assert_eq!(step["ok"]["is_error"], is_error, "`{label}`: {v}");
    step["ok"]["text"].as_str().unwrap()
}

/// The session's tool names, asserting `initialize` and `tools/list` were answered.
pub fn tool_names(v: &Value) -> Vec<String> {
    assert_eq!(v["initialize"]["ok"], "initialized", "{v}");
    let list = v["list"]["ok"].as_array().unwrap_or_else(|| panic!("tools/list got no result: {v}"));
    list.iter().map(|t| t.as_str().unwrap().to_string()).collect()
}
