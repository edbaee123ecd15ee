//! `serve --listen` as a cluster service, against the real binary, real tools, the official
//! Python SDK as the client and a real Prometheus server as the scraper: the probes and which
//! paths need the token, `/metrics` scraped and queried through Prometheus's HTTP API, graceful
//! shutdown on SIGTERM (a call in flight finishes and answers; one longer than the grace is
//! revoked and its tool stopped), and `--audit -`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{host_processes, python, root, s, skipped, tool};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Writes `out/started`, sleeps `secs`, writes `out/done`, prints `done`.
const SLOW: &str = r#"#!/usr/bin/env python3
import json, os, sys, time
a = json.load(sys.stdin)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
open(os.path.join(out, "started"), "w").close()
time.sleep(a["secs"])
open(os.path.join(out, "done"), "w").close()
print("done")
"#;

/// A tools directory with the sample tools' manifests and `slow`, a token file, an audit path.
struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new() -> Self {
        tool("echo-json");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        let tools = root.join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        // The sample manifests name their artifacts relative to their directory.
        for name in ["echo-json", "read-file"] {
            let text = std::fs::read_to_string(root_tools().join(name).join("tool.toml")).unwrap();
            let text = text.replace("\"../../", &format!("\"{}/", s(&support::root())));
            std::fs::write(tools.join(format!("{name}.toml")), text).unwrap();
        }
        let slow = root.join("slow.py");
        std::fs::write(&slow, SLOW).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
        let manifest = format!(
            "name = \"slow\"\ndescription = \"Sleeps, then writes a marker.\"\ncommand = \"{}\"\n\
             [input_schema]\ntype = \"object\"\n[policy.filesystem]\nread = [\"{}\"]\nwrite = [\"{}\"]\n\
             [policy.limits]\ntimeout = \"120s\"\n",
            s(&slow),
            s(&root),
            s(&root.join("out"))
        );
        std::fs::write(tools.join("slow.toml"), manifest).unwrap();
        std::fs::write(root.join("token"), format!("{TOKEN}\n")).unwrap();
        Workspace { _dir: dir, root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The audit log's events.
    fn audit(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("audit.jsonl")).unwrap();
        assert!(text.ends_with('\n'), "the audit log ends with a whole line");
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}

/// The repository's `tools/`.
fn root_tools() -> PathBuf {
    root().join("tools")
}

/// A running `serve --listen 127.0.0.1:0`, its address and its stderr lines.
struct Serve {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl Serve {
    fn start(w: &Workspace, extra: &[&str], stdout: Stdio) -> Serve {
        let mut child = Command::new(BIN)
            .args(["serve", "--tools", s(&w.path("tools")), "--listen", "127.0.0.1:0"])
            .args(["--token-file", s(&w.path("token"))])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut serve = Serve { child, addr: "127.0.0.1:1".parse().unwrap(), stderr: rx };
        let line = serve.wait_line("serving MCP at http://");
        serve.addr = line.split("http://").nth(1).unwrap().trim_end_matches("/mcp").parse().unwrap();
        serve
    }

    /// Waits for a stderr line containing `what`.
    fn wait_line(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {what:?}: {e}"),
            }
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most a minute); its status code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < deadline, "serve did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one HTTP/1.1 response (with a content-length) from `c`: status and body.
fn read_response(c: &mut impl BufRead) -> (u16, String) {
    let mut status_line = String::new();
    c.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        c.read_line(&mut h).unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    c.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn request(path: &str, addr: SocketAddr, token: Option<&str>, close: bool) -> String {
    let mut req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n");
    if let Some(t) = token {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    if close {
        req.push_str("connection: close\r\n");
    }
    req + "\r\n"
}

/// `GET path` on a new connection.
fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(request(path, addr, token, true).as_bytes()).unwrap();
    read_response(&mut BufReader::new(c))
}

/// An MCP `initialize` (a new session) on a new connection.
fn post_initialize(addr: SocketAddr) -> (u16, String) {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    read_response(&mut BufReader::new(c))
}

/// A kept-alive connection, opened before a shutdown, to ask `/readyz` during the drain.
struct KeepAlive {
    addr: SocketAddr,
    conn: BufReader<TcpStream>,
}

impl KeepAlive {
    fn open(addr: SocketAddr) -> KeepAlive {
        let c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        KeepAlive { addr, conn: BufReader::new(c) }
    }

    fn get(&mut self, path: &str) -> (u16, String) {
        self.conn.get_mut().write_all(request(path, self.addr, None, false).as_bytes()).unwrap();
        read_response(&mut self.conn)
    }
}

/// `tests/mcp/ops_client.py`: one call of `tool` over streamable HTTP, in a thread.
fn call_in_background(url: String, tool: &str, args: &str) -> std::thread::JoinHandle<Value> {
    client(url, tool, args, None)
}

/// As [`call_in_background`], but the call waits (in an open session) until `gate` exists.
fn call_gated(url: String, tool: &str, args: &str, gate: &Path) -> std::thread::JoinHandle<Value> {
    client(url, tool, args, Some(gate.to_path_buf()))
}

fn client(url: String, tool: &str, args: &str, gate: Option<PathBuf>) -> std::thread::JoinHandle<Value> {
    let (tool, args) = (tool.to_string(), args.to_string());
    std::thread::spawn(move || {
        let mut cmd = Command::new(python());
        cmd.arg(root().join("tests/mcp/ops_client.py")).args([&url, TOKEN, &tool, &args]);
        if let Some(gate) = &gate {
            cmd.arg(gate);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| {
            panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        })
    })
}

/// Waits for `path` to exist (the tool's own positive signal).
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn events_of<'a>(events: &'a [Value], invocation: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["invocation"] == invocation).collect()
}

/// The invocation of the `slow` call (its grant.issued event).
fn slow_invocation(events: &[Value]) -> String {
    let issued: Vec<&Value> = events.iter().filter(|e| e["event"] == "grant.issued").collect();
    assert_eq!(issued.len(), 1, "one grant: {events:?}");
    issued[0]["invocation"].as_str().unwrap().to_string()
}

#[test]
fn probes_answer_without_the_token_and_metrics_need_it() {
    let w = Workspace::new();
    let serve = Serve::start(&w, &[], Stdio::null());
    assert_eq!(get(serve.addr, "/healthz", None), (200, "ok\n".into()));
    assert_eq!(get(serve.addr, "/readyz", None), (200, "ready\n".into()));
    // The token guards what names tools: positive control with it, refusal without.
    let (status, body) = get(serve.addr, "/metrics", Some(TOKEN));
    assert_eq!(status, 200);
    assert!(body.contains("mcp_sandbox_calls_in_flight 0") && body.ends_with("# EOF\n"), "{body}");
    assert_eq!(get(serve.addr, "/metrics", None).0, 401);
    assert_eq!(get(serve.addr, "/metrics", Some("0123456789abcdef0123456789abcdee")).0, 401);
    assert_eq!(get(serve.addr, "/status", None).0, 401);
    let (status, body) = get(serve.addr, "/status", Some(TOKEN));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ready"], true, "{v}");
    assert!(v["tools"]["slow"].is_object() && v["tools"]["echo-json"].is_object(), "{v}");
}

#[test]
fn readyz_says_why_with_no_tool_loaded() {
    let w = Workspace::new();
    let empty = w.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--tools", s(&empty), "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let l = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = l.strip_prefix("mcp-sandbox: serving MCP at http://") {
            break rest.trim_end_matches("/mcp").parse().unwrap();
        }
    };
    let (status, body) = get(addr, "/readyz", None);
    assert_eq!(status, 503);
    assert!(body.contains("no tool loaded"), "{body}");
    assert_eq!(get(addr, "/healthz", None).0, 200, "alive all the same");
    child.kill().unwrap();
    let _ = child.wait();
}

/// A Prometheus server (Debian's `prometheus`) scraping `target` every second with the token.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: SocketAddr, token_file: &Path) -> Option<Prometheus> {
        let bin = Path::new("/usr/bin/prometheus");
        if !bin.exists() {
            skipped(
                "a real Prometheus scrapes /metrics",
                "/usr/bin/prometheus missing: `./dev test` installs it (apt-get install prometheus)",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mcp-sandbox\n    \
                 scrape_interval: 1s\n    authorization:\n      type: Bearer\n      credentials_file: {}\n    \
                 static_configs:\n      - targets: [\"{target}\"]\n",
                s(token_file)
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", s(&config)))
            .arg(format!("--storage.tsdb.path={}", s(&dir.path().join("data"))))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Prometheus { child, addr, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_err() || get(addr, "/-/ready", None).0 != 200 {
            assert!(Instant::now() < deadline, "prometheus did not become ready on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(p)
    }

    /// `/api/v1/query?query=Q`: the sample values of the result vector.
    fn query(&self, q: &str) -> Vec<(Value, f64)> {
        let encoded: String = q
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let (status, body) = get(self.addr, &format!("/api/v1/query?query={encoded}"), None);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["metric"].clone(), r["value"][1].as_str().unwrap().parse().unwrap()))
            .collect()
    }

    /// Waits until `q` has a sample satisfying `ok` (Prometheus scrapes every second).
    fn wait_for(&self, q: &str, ok: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((_, v)) = self.query(q).into_iter().find(|(_, v)| ok(*v)) {
                return v;
            }
            assert!(Instant::now() < deadline, "no sample of {q} as expected: {:?}", self.query(q));
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_calls_denials_and_latency() {
    let w = Workspace::new();
    let serve = Serve::start(&w, &["--audit", s(&w.path("audit.jsonl"))], Stdio::null());
    let Some(prom) = Prometheus::start(serve.addr, &w.path("token")) else { return };
    // The scrape with the token works: the target is up.
    prom.wait_for("up{job=\"mcp-sandbox\"}", |v| v == 1.0);
    // The SDK's session: echo-json and read-file succeed, read-file of /etc/passwd is denied,
    // a schema error is refused.
    let hello = s(&root().join("sample-tools/data/hello.txt")).to_string();
    let out = Command::new(python())
        .arg(root().join("tests/mcp/client.py"))
        .args(["http", &serve.url(), &hello, TOKEN])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ok = |tool: &str, outcome: &str| format!("mcp_sandbox_calls_total{{tool=\"{tool}\",outcome=\"{outcome}\"}}");
    prom.wait_for(&ok("echo-json", "ok"), |v| v == 1.0);
    prom.wait_for(&ok("read-file", "ok"), |v| v == 1.0);
    prom.wait_for(&ok("read-file", "refused"), |v| v == 1.0);
    prom.wait_for(&ok("read-file", "invalid_arguments"), |v| v == 1.0);
    // Each denial the audit log holds is counted by its capability.
    let audit = w.audit();
    let denials = audit.iter().filter(|e| e["event"] == "deny" && e["capability"] == "mcp.tool").count();
    assert!(denials >= 2, "{audit:?}");
    prom.wait_for("mcp_sandbox_denials_total{capability=\"mcp.tool\"}", |v| v == denials as f64);
    let issued = audit.iter().filter(|e| e["event"] == "grant.issued").count();
    prom.wait_for("mcp_sandbox_grants_issued_total", |v| v == issued as f64);
    prom.wait_for("mcp_sandbox_grants_live", |v| v == 0.0);
    prom.wait_for("mcp_sandbox_call_duration_seconds_count{tool=\"read-file\"}", |v| v == 3.0);
    prom.wait_for("mcp_sandbox_queue_depth", |v| v == 0.0);
    // A name no tool has is counted under one label, not under the name a client chose.
    assert!(prom.query("mcp_sandbox_calls_total{tool=\"/etc/passwd\"}").is_empty());
}

// The Python SDK lists the tools again after a call (to check structured output) and ends the
// session with a DELETE, each possibly on a new connection: the listener stays open in the drain.
#[test]
fn sigterm_lets_a_call_in_flight_finish_and_refuses_new_sessions_and_calls() {
    let w = Workspace::new();
    let mut serve = Serve::start(&w, &["--audit", s(&w.path("audit.jsonl")), "--grace", "60s"], Stdio::null());
    let mut probe = KeepAlive::open(serve.addr);
    assert_eq!(probe.get("/readyz"), (200, "ready\n".into()));
    let call = call_in_background(serve.url(), "slow", r#"{"secs": 3}"#);
    // A second session, opened before the drain, that calls only once it has begun.
    let gate = w.path("gate");
    let late = call_gated(serve.url(), "echo-json", r#"{"message": "too late"}"#, &gate);
    wait_for(&w.path("gate.ready"));
    wait_for(&w.path("out/started"));
    serve.sigterm();
    serve.wait_line("shutting down");
    std::fs::write(&gate, "").unwrap();
    let late = late.join().unwrap();
    assert!(late["error"].as_str().unwrap_or_default().contains("shutting down"), "{late}");
    let (status, body) = probe.get("/readyz");
    assert_eq!((status, body.as_str()), (503, "not ready: shutting down\n"));
    assert_eq!(probe.get("/healthz").0, 200, "alive while draining");
    // A new session is refused (the listener stays open for the sessions in flight).
    let (status, body) = post_initialize(serve.addr);
    assert_eq!((status, body.as_str()), (503, "shutting down; retry on another replica\n"));
    let result = call.join().unwrap();
    assert_eq!(result["is_error"], false, "{result}");
    assert_eq!(result["text"], "done\n", "{result}");
    assert!(w.path("out/done").exists(), "the tool finished");
    assert_eq!(serve.exit_code(), Some(0));
    let audit = w.audit();
    let id = slow_invocation(&audit);
    let mine = events_of(&audit, &id);
    let kinds: Vec<&str> = mine.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"exit") && kinds.contains(&"grant.revoked"), "{kinds:?}");
    let exit = mine.iter().find(|e| e["event"] == "exit").unwrap();
    assert_eq!(exit["detail"]["status"], 0, "{exit}");
}

#[test]
fn a_call_longer_than_the_grace_is_revoked_and_its_tool_stopped() {
    let w = Workspace::new();
    let mut serve = Serve::start(&w, &["--audit", s(&w.path("audit.jsonl")), "--grace", "1s"], Stdio::null());
    let call = call_in_background(serve.url(), "slow", r#"{"secs": 600}"#);
    wait_for(&w.path("out/started"));
    let script = s(&w.path("slow.py")).to_string();
    let running = || host_processes(|args| args.iter().any(|a| *a == script));
    assert!(!running().is_empty(), "the tool runs (control for the check below)");
    serve.sigterm();
    serve.wait_line("grace period over");
    let result = call.join().unwrap();
    assert_eq!(result["is_error"], true, "{result}");
    assert!(result["text"].as_str().unwrap().contains("revoked"), "{result}");
    assert_eq!(serve.exit_code(), Some(0));
    assert!(running().is_empty(), "the tool's process is gone");
    assert!(!w.path("out/done").exists(), "the tool never finished");
    let audit = w.audit();
    let id = slow_invocation(&audit);
    let revoked = events_of(&audit, &id).into_iter().find(|e| e["event"] == "grant.revoked").cloned().unwrap();
    assert_eq!(revoked["reason"], "server shutting down: the grace period is over", "{revoked}");
}

#[test]
fn audit_dash_writes_json_lines_to_stdout_over_http_and_is_refused_over_stdio() {
    let w = Workspace::new();
    let mut serve = Serve::start(&w, &["--audit", "-"], Stdio::piped());
    let mut stdout = serve.child.stdout.take().unwrap();
    let result = call_in_background(serve.url(), "echo-json", r#"{"message": "to stdout"}"#).join().unwrap();
    assert_eq!(result["is_error"], false, "{result}");
    serve.sigterm();
    assert_eq!(serve.exit_code(), Some(0));
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let events: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"grant.issued") && kinds.contains(&"exit"), "{kinds:?}");

    // Over stdio, stdout is the protocol: refused with one line and the fix.
    let out = Command::new(BIN)
        .args(["serve", "--tools", s(&w.path("tools")), "--audit", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--audit FILE") && err.contains("--listen"), "{err}");
}
