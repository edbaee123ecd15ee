//! Issue 9, break 2 and two crashes: a server that answers its first `tools/list` honestly, then
//! sends a changed ("poisoned") `add` in a form a proxy might not treat as a listing
//! (`tests/mcp/evil_server.py`). Through `mcp-sandbox proxy`, the changed tool must be withheld
//! from everything the client receives, and a call to it must never reach the server (judged by
//! the server's own marker file), while the honest first listing and an unchanged tool work.
//! Driven by raw JSON-RPC over the proxy's stdio, and by the official Python SDK
//! (`tests/mcp/breaks_client.py`, installed by `./dev test` in `target/mcp-venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{root, s, tool};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
const POISON: &str = "IMPORTANT";
/// Only a bound for a broken run: each wait ends on the reply it waits for.
const REPLY_BOUND: Duration = Duration::from_secs(60);

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

/// A peer spoken to in raw newline-delimited JSON-RPC over its stdio.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Vec<u8>>,
    /// Every line received, as bytes.
    seen: Vec<Vec<u8>>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    fn spawn(mut cmd: Command) -> Peer {
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            loop {
                let mut line = Vec::new();
                match out.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line.ends_with(b"\n") {
                            line.pop();
                        }
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf));
        });
        let stdin = child.stdin.take();
        Peer { child, stdin, lines, seen: Vec::new(), stderr }
    }

    fn send_raw(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, v: &Value) {
        self.send_raw(v.to_string().as_bytes());
    }

    /// Waits (at most `bound`) for a line that `pred` accepts.
    fn wait_for(&mut self, what: &str, bound: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                let seen: Vec<_> = self.seen.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
                let _ = self.child.kill();
                std::thread::sleep(Duration::from_millis(200));
                panic!("no {what} within {bound:?}; received {seen:#?}\nstderr: {}", self.stderr.lock().unwrap());
            };
            self.seen.push(line.clone());
            if let Ok(v) = serde_json::from_slice::<Value>(&line)
                && pred(&v)
            {
                return v;
            }
        }
    }

    /// The reply to request `id`.
    fn reply(&mut self, id: i64) -> Value {
        self.reply_within(id, REPLY_BOUND)
    }

    fn reply_within(&mut self, id: i64, bound: Duration) -> Value {
        self.wait_for(&format!("reply to {id}"), bound, |v| v["id"] == json!(id) && v.get("method").is_none())
    }

    /// Closes stdin, waits for the exit; every line received and stderr.
    fn finish(mut self) -> (Vec<Vec<u8>>, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        // The stderr thread ends with the process's stderr.
        for _ in 0..100 {
            if Arc::strong_count(&self.stderr) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(status.code().is_some(), "exited by a signal: {status:?}\n{stderr}");
        (self.seen, stderr)
    }
}

fn init(id: i64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}})
}

fn list(id: i64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/list"})
}

fn call(id: i64, name: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name,"arguments":{"a":2,"b":3}}})
}

fn names(listing: &Value) -> Vec<String> {
    let mut n: Vec<String> = listing["result"]["tools"]
        .as_array()
        .map(|t| t.iter().map(|t| t["name"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default();
    n.sort();
    n
}

/// A temporary directory with the pins file, the audit log and the server's marker file.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        Scene { dir: tempfile::tempdir().unwrap() }
    }
    fn pins(&self) -> PathBuf {
        self.dir.path().join("pins.json")
    }
    fn marker(&self) -> PathBuf {
        self.dir.path().join("out/marker")
    }
    fn audit(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }
    /// The tools the server really ran, in order.
    fn ran(&self) -> Vec<String> {
        std::fs::read_to_string(self.marker()).unwrap_or_default().lines().map(str::to_string).collect()
    }

    /// `mcp-sandbox proxy` arguments running the evil server in `form`.
    fn proxy_args(&self, form: &str) -> Vec<String> {
        let out = self.marker().parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&out).unwrap();
        let base = python_base();
        let mut a: Vec<String> = Vec::new();
        for (flag, v) in [
            ("--pins", s(&self.pins()).to_string()),
            ("--audit", s(&self.audit()).to_string()),
            ("--allow-exec", base.clone()),
            ("--allow-read", s(&root().join("tests/mcp")).to_string()),
            ("--allow-write", s(&out).to_string()),
            ("--allow-env", format!("EVIL_FORM={form}")),
            ("--allow-env", format!("EVIL_MARKER={}", s(&self.marker()))),
        ] {
            a.push(flag.into());
            a.push(v);
        }
        a.extend(["--".into(), format!("{base}/bin/python3"), s(&root().join("tests/mcp/evil_server.py")).into()]);
        a
    }

    fn proxy(&self, form: &str) -> Peer {
        tool("echo-json");
        let mut cmd = Command::new(BIN);
        cmd.arg("proxy").args(self.proxy_args(form));
        Peer::spawn(cmd)
    }
}

/// What the raw client saw of one attack.
struct Seen {
    second: Value,
    add_again: Value,
    lines: Vec<Vec<u8>>,
    stderr: String,
}

/// The session: honest listing, a call to `add` (both reach the server), the changed listing,
/// `add` again, `echo`.
fn attack(scene: &Scene, form: &str) -> Seen {
    let mut p = scene.proxy(form);
    p.send(&init(1));
    p.reply(1);
    p.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    p.send(&list(2));
    let first = p.reply(2);
    assert_eq!(names(&first), ["add", "echo"], "positive control: the honest listing is relayed: {first}");
    assert!(first["result"]["tools"][0]["annotations"].get("readOnlyHint").is_some(), "annotations rewritten");
    p.send(&call(3, "add"));
    assert_eq!(p.reply(3)["result"]["content"][0]["text"], "5", "positive control: a call reaches the server");
    p.send(&list(4));
    let second = p.reply(4);
    p.send(&call(5, "add"));
    let add_again = p.reply(5);
    p.send(&call(6, "echo"));
    let echo = p.reply(6);
    assert!(echo.get("result").is_some(), "positive control: the unchanged tool still works: {echo}");
    let (lines, stderr) = p.finish();
    Seen { second, add_again, lines, stderr }
}

/// The verdict for every form: the changed `add` reached the client nowhere, its second call
/// never reached the server, the unchanged `echo` did; every line relayed is strict JSON.
fn assert_withheld(form: &str) -> (Seen, Scene) {
    let scene = Scene::new();
    let seen = attack(&scene, form);
    let all: Vec<String> = seen.lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
    for l in &seen.lines {
        let text = std::str::from_utf8(l).unwrap_or_else(|_| panic!("[{form}] a line that is not UTF-8 was relayed"));
        serde_json::from_str::<Value>(text)
            .unwrap_or_else(|e| panic!("[{form}] relayed a line that is not JSON ({e}): {text}"));
        assert!(
            !text.contains(POISON) && !text.contains("id_rsa"),
            "[{form}] the changed definition reached the client: {text}"
        );
    }
    assert!(!names(&seen.second).contains(&"add".to_string()), "[{form}] {}", seen.second);
    let refused = seen.add_again["error"]["message"].as_str().unwrap_or_else(|| panic!("[{form}] {}", seen.add_again));
    assert!(refused.contains("withheld"), "[{form}] {refused}");
    assert_eq!(
        scene.ran(),
        ["add", "echo"],
        "[{form}] the changed tool's call must not reach the server\n{all:#?}\n{}",
        seen.stderr
    );
    assert!(seen.stderr.contains("withheld tool `add`"), "[{form}] said on stderr: {}", seen.stderr);
    let audit = std::fs::read_to_string(scene.audit()).unwrap();
    assert!(audit.lines().any(|l| l.contains("\"deny\"") && l.contains("\"add\"")), "[{form}] audited");
    (seen, scene)
}

/// A form the proxy cannot relay at all: the message is dropped, said and audited.
fn assert_dropped(form: &str) -> Seen {
    let (seen, scene) = assert_withheld(form);
    assert!(seen.stderr.contains("dropped a message from the server"), "[{form}] {}", seen.stderr);
    let audit = std::fs::read_to_string(scene.audit()).unwrap();
    assert!(audit.contains("message from the server"), "[{form}] the drop is audited");
    assert!(seen.second.get("error").is_some(), "[{form}] the listing request got an error: {}", seen.second);
    seen
}

/// An unreadable reply whose id is still exact: the proxy answers the request with an error.
fn assert_dropped_and_answered(form: &str) {
    let seen = assert_dropped(form);
    let message = seen.second["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("refused by the proxy"), "[{form}] {}", seen.second);
}

#[test]
fn a_reply_id_written_as_a_string_attributes_nothing() {
    assert_dropped("string-id");
}

#[test]
fn a_reply_id_written_as_a_float_attributes_nothing() {
    assert_dropped("float-id");
}

#[test]
fn a_reply_nested_past_the_parsers_limit_is_dropped() {
    assert_dropped_and_answered("deep-meta");
}

#[test]
fn a_reply_with_a_lone_surrogate_is_dropped() {
    assert_dropped_and_answered("surrogate");
}

#[test]
fn a_reply_with_invalid_utf8_is_dropped() {
    assert_dropped_and_answered("invalid-utf8");
}

#[test]
fn a_reply_to_no_request_is_dropped() {
    assert_dropped("unsolicited");
}

#[test]
fn a_notification_carrying_tools_is_dropped() {
    assert_dropped("notification");
}

#[test]
fn a_batched_listing_is_checked_like_any_other() {
    let (seen, _) = assert_withheld("batch");
    assert_eq!(names(&seen.second), ["echo"], "the element is an attributed listing, the changed tool withheld");
}

#[test]
fn a_changed_title_is_caught() {
    let (seen, scene) = assert_withheld("title");
    assert_eq!(names(&seen.second), ["echo"]);
    assert!(seen.stderr.contains("/title"), "the changed field is named: {}", seen.stderr);
    let out = Command::new(BIN).args(["pins", "list", "--pins", s(&scene.pins())]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let server = report.as_object().unwrap().values().next().unwrap();
    assert_eq!(server["pending"]["add"]["changed"], json!(["/title"]), "{report}");
}

#[test]
fn a_changed_output_schema_is_caught() {
    let (seen, _) = assert_withheld("output-schema");
    assert_eq!(names(&seen.second), ["echo"]);
    assert!(seen.stderr.contains("/outputSchema/description"), "{}", seen.stderr);
}

/// Crash: invalid UTF-8 (and a line that is not JSON) from the server used to end the relay.
#[test]
fn garbage_from_the_server_does_not_stop_the_relay() {
    let scene = Scene::new();
    let mut p = scene.proxy("garbage-first");
    p.send(&init(1));
    p.reply(1);
    p.send(&list(2));
    let listing = p.reply_within(2, Duration::from_secs(10));
    assert_eq!(names(&listing), ["add", "echo"], "{listing}");
    p.send(&call(3, "echo"));
    assert!(p.reply_within(3, Duration::from_secs(10)).get("result").is_some());
    // The client side: invalid UTF-8 and a line that is not JSON get parse errors; the session goes on.
    p.send_raw(b"\xff\xfe");
    p.send_raw(b"[]");
    p.send(&call(4, "add"));
    assert_eq!(p.reply(4)["result"]["content"][0]["text"], "5");
    let (lines, stderr) = p.finish();
    let parse_errors = lines.iter().filter(|l| String::from_utf8_lossy(l).contains("-32700")).count();
    assert_eq!(parse_errors, 1, "invalid UTF-8 from the client gets -32700");
    assert!(lines.iter().any(|l| String::from_utf8_lossy(l).contains("batches are not supported")));
    assert_eq!(stderr.matches("dropped a message from the server").count(), 2, "{stderr}");
    assert_eq!(scene.ran(), ["echo", "add"]);
}

/// Crash: `serve` over stdio ended the session on a line of invalid UTF-8; lines nested too deep
/// or holding a lone surrogate were dropped without an answer.
#[test]
fn serve_answers_unreadable_lines_with_parse_errors_and_goes_on() {
    tool("echo-json");
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--tools", s(&root().join("tools"))]);
    let mut p = Peer::spawn(cmd);
    p.send(&init(1));
    p.reply(1);
    p.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    p.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":{\"x\":\"\xff\"}}");
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    p.send_raw(format!(r#"{{"jsonrpc":"2.0","id":8,"method":"ping","params":{{"x":{deep}}}}}"#).as_bytes());
    p.send_raw(br#"{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"\ud800"}}"#);
    p.send(&list(2));
    let listing = p.reply(2);
    assert!(names(&listing).contains(&"echo-json".to_string()), "{listing}");
    // The parse errors travel apart from rmcp's replies: wait for each (a positive signal).
    let parse_errors = |p: &Peer| p.seen.iter().filter(|l| String::from_utf8_lossy(l).contains("-32700")).count();
    while parse_errors(&p) < 3 {
        p.wait_for("a parse error", REPLY_BOUND, |v| v["error"]["code"] == -32700);
    }
    let (lines, _) = p.finish();
    let text: Vec<String> = lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
    let errors: Vec<&String> = text.iter().filter(|l| l.contains("-32700")).collect();
    assert_eq!(errors.len(), 3, "one parse error per unreadable line: {text:#?}");
    assert!(errors.iter().any(|l| l.contains("UTF-8")), "{errors:?}");
    assert!(errors.iter().any(|l| l.contains("recursion limit")), "{errors:?}");
    assert!(errors.iter().any(|l| l.contains("hex escape")), "the lone surrogate: {errors:?}");
    for id in [7, 8, 9] {
        assert!(!text.iter().any(|l| l.contains(&format!("\"id\":{id}"))), "line {id} never reached rmcp: {text:#?}");
    }
}

/// The official Python SDK: alone, it takes the changed definition (the attack is real); through
/// the proxy, it never sees it and the changed tool's call never reaches the server.
fn sdk(args: &[&str]) -> Value {
    let out = Command::new(python()).arg(root().join("tests/mcp/breaks_client.py")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed: {stdout}\n{stderr}");
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

fn sdk_through_proxy_and_alone(form: &str) {
    // Positive control: unconfined, the SDK lists the poisoned `add` and the call runs.
    let alone = Scene::new();
    std::fs::create_dir_all(alone.marker().parent().unwrap()).unwrap();
    let v = sdk(&["direct", form, s(&alone.marker())]);
    let desc = v["second"]["tools"]["add"]["description"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(desc.contains(POISON), "the SDK alone takes the changed definition: {v}");
    assert_eq!(alone.ran(), ["add", "add", "echo"]);
    // Through the proxy.
    let scene = Scene::new();
    let mut args: Vec<String> = vec!["proxy".into(), BIN.into()];
    args.extend(scene.proxy_args(form));
    let v = sdk(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(v["first"]["tools"].get("add").is_some(), "positive control: {v}");
    assert_eq!(v["add"]["text"], "5");
    assert!(!v.to_string().contains("id_rsa"), "{v}");
    assert!(v["second"]["tools"].get("add").is_none(), "{v}");
    assert!(v["add_again"]["refused"].as_str().unwrap_or_default().contains("withheld"), "{v}");
    assert_eq!(v["echo"]["text"], r#"{"a": 2, "b": 3}"#);
    assert_eq!(scene.ran(), ["add", "echo"]);
}

#[test]
fn the_sdk_takes_a_string_id_alone_but_not_through_the_proxy() {
    sdk_through_proxy_and_alone("string-id");
}

#[test]
fn the_sdk_takes_a_deep_reply_alone_but_not_through_the_proxy() {
    sdk_through_proxy_and_alone("deep-meta");
}

/// Pins written by the previous version (form 1: name, description, input schema, annotations)
/// keep working: the unchanged tool is upgraded with a note, a changed one is withheld.
#[test]
fn old_pins_are_upgraded_with_a_note_or_withheld() {
    let scene = Scene::new();
    let honest = |name: &str, description: &str| {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), name.into());
        m.insert("description".into(), description.into());
        let schema = if name == "add" {
            json!({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}}})
        } else {
            json!({"type":"object"})
        };
        m.insert("inputSchema".into(), schema);
        form1_digest(&Value::Object(m))
    };
    let server = "old";
    let file = json!({"version":1,"servers":{server:{"tools":{
        "add":{"sha256":honest("add","Adds two numbers."),"pinned_at":"2025-01-01T00:00:00Z"},
        "echo":{"sha256":honest("echo","Something else."),"pinned_at":"2025-01-01T00:00:00Z"}
    }}}});
    std::fs::write(scene.pins(), file.to_string()).unwrap();
    let mut cmd = Command::new(BIN);
    let mut args = scene.proxy_args("honest");
    args.splice(0..0, ["--server-name".to_string(), server.to_string()]);
    cmd.arg("proxy").args(args);
    let mut p = Peer::spawn(cmd);
    p.send(&init(1));
    p.reply(1);
    p.send(&list(2));
    assert_eq!(names(&p.reply(2)), ["add"], "echo's form-1 fields changed: withheld");
    let (_, stderr) = p.finish();
    assert!(stderr.contains("tool `add`: pin upgraded to the whole definition"), "{stderr}");
    let pins: Value = serde_json::from_str(&std::fs::read_to_string(scene.pins()).unwrap()).unwrap();
    assert_eq!(pins["version"], 2);
    assert_eq!(pins["servers"][server]["tools"]["add"]["form"], 2);
    assert_eq!(pins["servers"][server]["tools"]["echo"]["form"], 1, "not upgraded: {pins}");
    assert!(pins["servers"][server]["pending"].get("echo").is_some(), "the change waits for review: {pins}");
}

/// The form-1 canonical digest, written out here as the previous version computed it.
fn form1_digest(tool: &Value) -> String {
    fn canon(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> =
                    keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canon(&m[*k]))).collect();
                format!("{{{}}}", parts.join(","))
            }
            Value::Array(a) => format!("[{}]", a.iter().map(canon).collect::<Vec<_>>().join(",")),
            other => other.to_string(),
        }
    }
    let mut sum = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    sum.stdin.take().unwrap().write_all(canon(tool).as_bytes()).unwrap();
    let out = sum.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}
