//! The official MCP Python SDK's interpreter (installed by `./dev test`) and the `proxy` flags
//! that let it run a server script of `tests/mcp` in the sandbox.

use super::{root, s};
use std::path::PathBuf;
use std::process::Command;

/// The SDK's Python: `MCP_SANDBOX_TEST_PYTHON`, else `target/mcp-venv/bin/python`.
pub fn python() -> PathBuf {
    let p = std::env::var_os("MCP_SANDBOX_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/mcp-venv/bin/python"));
    assert!(p.exists(), "{} missing: run ./dev test (it installs the MCP Python SDK there)", p.display());
    p
}

/// `--pins PINS`, the grants the SDK's Python needs, `extra`, then `-- python3 tests/mcp/SCRIPT`.
pub fn python_server_flags(pins: &str, script: &str, extra: &[String]) -> Vec<String> {
    let probe = Command::new(python())
        .args(["-c", "import sys, sysconfig; print(sys.base_prefix); print(sysconfig.get_paths()['purelib'])"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout).to_string();
    let mut lines = text.lines();
    let (base, site) = (lines.next().unwrap().to_string(), lines.next().unwrap().to_string());
    let mut a: Vec<String> = vec!["--pins".into(), pins.into()];
    for (flag, v) in [
        ("--allow-exec", base.clone()),
        // Native extension modules (pydantic-core) are mapped executable.
        ("--allow-exec", site.clone()),
        ("--allow-read", s(&root().join("tests/mcp")).to_string()),
        ("--allow-env", format!("PYTHONPATH={site}")),
    ] {
        a.push(flag.into());
        a.push(v);
    }
    a.extend(extra.iter().cloned());
    a.push("--".into());
    a.push(format!("{base}/bin/python3"));
    a.push(s(&root().join("tests/mcp").join(script)).to_string());
    a
}
