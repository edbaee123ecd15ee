//! Shared test support: the real binary, the real sample tools, real loopback listeners.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod host;
mod python;
mod refservers;
mod sinks;
pub mod watch;
#[allow(unused_imports)]
pub use host::*;
#[allow(unused_imports)]
pub use python::*;
#[allow(unused_imports)]
pub use refservers::*;
#[allow(unused_imports)]
pub use sinks::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the sample tools once per test binary (cargo makes this a no-op when fresh). A user
/// who cannot run cargo here (the unprivileged re-run of `./dev test`) uses what is built.
pub fn tool(name: &str) -> PathBuf {
    let p = root().join("sample-tools/target/wasm32-wasip2/release").join(format!("{name}.wasm"));
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let built = Command::new(env!("CARGO"))
            .args(["build", "--release", "--quiet"])
            .current_dir(root().join("sample-tools"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .status()
            .is_ok_and(|s| s.success());
        assert!(built || p.exists(), "building sample-tools failed (is the wasm32-wasip2 target installed?)");
    });
    assert!(p.exists(), "{} missing", p.display());
    p
}

/// A native sample tool from `sample-tools/native/`: a script as it is, or a C program compiled
/// with `cc` once per test binary (into `sample-tools/target/native/`).
pub fn native_tool(name: &str) -> PathBuf {
    let dir = root().join("sample-tools/native");
    if !name.ends_with(".c") {
        return dir.join(name);
    }
    let out = root().join("sample-tools/target/native").join(name.trim_end_matches(".c"));
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let _ = std::fs::create_dir_all(out.parent().unwrap());
        let built = Command::new("cc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&out)
            .arg(dir.join(name))
            .status()
            .is_ok_and(|s| s.success());
        // As with `tool`: the unprivileged re-run uses what root built.
        assert!(built || out.exists(), "compiling {name} failed (is cc installed?)");
    });
    out
}

pub fn policy(name: &str) -> PathBuf {
    root().join("policies").join(format!("{name}.toml"))
}

/// The result of one `mcp-sandbox` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub audit: Vec<serde_json::Value>,
}

impl Run {
    pub fn events(&self, event: &str) -> Vec<&serde_json::Value> {
        self.audit.iter().filter(|e| e["event"] == event).collect()
    }

    pub fn denials(&self, capability: &str) -> Vec<&serde_json::Value> {
        self.audit.iter().filter(|e| e["event"] == "deny" && e["capability"] == capability).collect()
    }
}

/// Runs `mcp-sandbox` with `args` (and an audit log), feeding `stdin`.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    run_full(args, stdin, &[])
}

/// Runs with extra variables in the runtime's own environment.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_full(args, b"", env)
}

pub fn run_full(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    run_watched(args, stdin, env, None).0
}

/// Runs as [`run_full`] does and measures the wall-clock time from start to exit. With a
/// `watchdog`, a run still going after it is killed (SIGKILL), so that a limit that does not
/// stop the tool fails the test instead of hanging it.
pub fn run_watched(args: &[&str], stdin: &[u8], env: &[(&str, &str)], watchdog: Option<Duration>) -> (Run, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"));
    let is_run = args.first() == Some(&"run");
    if is_run {
        cmd.arg("run").arg("--audit").arg(&audit).args(&args[1..]);
    } else {
        cmd.args(args);
    }
    cmd.envs(env.iter().copied());
    cmd.env("MCP_SANDBOX_CACHE", root().join("target/test-component-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let (done, exited) = std::sync::mpsc::channel::<()>();
    if let Some(limit) = watchdog {
        let pid = child.id().to_string();
        std::thread::spawn(move || {
            if exited.recv_timeout(limit).is_err() {
                let _ = Command::new("/bin/kill").args(["-KILL", &pid]).status();
            }
        });
    }
    let mut input = child.stdin.take().unwrap();
    // A run refused before it reads its input (bad flags) closes the pipe: not the test's error.
    if let Err(e) = input.write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing the tool's stdin: {e}");
    }
    drop(input);
    let out: Output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let _ = done.send(());
    let audit = std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
        .collect();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        audit,
    };
    (run, elapsed)
}

pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, b"")
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// This host's own addresses other than loopback (IPv4 from /proc/net/fib_trie, global IPv6
/// from /proc/net/if_inet6): real, non-loopback destinations a test can listen on without
/// changing the host's network.
pub fn host_addresses() -> (Option<std::net::Ipv4Addr>, Option<std::net::Ipv6Addr>) {
    let trie = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let lines: Vec<&str> = trie.lines().collect();
    let v4 = lines.windows(2).find_map(|w| {
        let ip: std::net::Ipv4Addr = w[0].trim().strip_prefix("|-- ")?.parse().ok()?;
        (w[1].contains("/32 host LOCAL") && !ip.is_loopback()).then_some(ip)
    });
    let v6 = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default().lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // scope 00 is global; `lo` holds only ::1
        let ip = std::net::Ipv6Addr::from(u128::from_str_radix(f.first()?, 16).ok()?);
        (f.get(3) == Some(&"00") && f.get(5) != Some(&"lo") && !ip.is_loopback()).then_some(ip)
    });
    (v4, v6)
}
