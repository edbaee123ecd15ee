//! `mcp-sandbox serve` driven by a client we did not write: rmcp's, over stdio, against the
//! real binary, real sample tools and real listeners. Every denial has its positive control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rmcp::model::{CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest};
use rmcp::service::{PeerRequestOptions, RoleClient, RunningService, ServiceExt};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{HttpSink, root, s, tool};

type Client = RunningService<RoleClient, ()>;

async fn connect(tools: &Path, extra: &[&str]) -> Client {
    tool("echo-json");
    let (transport, _stderr) =
        TokioChildProcess::builder(tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
            c.arg("serve").arg("--tools").arg(tools).args(extra);
        }))
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

fn args(v: Value) -> CallToolRequestParams {
    CallToolRequestParams::new("x").with_arguments(v.as_object().unwrap().clone())
}

async fn call(c: &Client, name: &str, a: Value) -> Result<CallToolResult, rmcp::ServiceError> {
    let mut p = args(a);
    p.name = name.to_string().into();
    c.call_tool(p).await
}

fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("")
}

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A tools directory with one manifest, written from `body` (`@ROOT@` = the directory).
fn tools_dir(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root_dir = dir.path().join("root");
    std::fs::create_dir(&root_dir).unwrap();
    let body = body
        .replace("@ROOT@", s(&std::fs::canonicalize(&root_dir).unwrap()))
        .replace("@WASM@", s(&root().join("sample-tools/target/wasm32-wasip2/release")));
    std::fs::write(dir.path().join(format!("{name}.toml")), body).unwrap();
    (dir, std::fs::canonicalize(root_dir).unwrap())
}

#[tokio::test]
async fn lists_sample_tools_with_guaranteed_annotations_and_calls_them() {
    let c = connect(&root().join("tools"), &[]).await;
    let tools = c.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"echo-json") && names.contains(&"read-file") && names.contains(&"line-count"), "{names:?}");
    let ann = |n: &str| tools.iter().find(|t| t.name == n).unwrap().annotations.clone().unwrap();
    assert_eq!(ann("echo-json").read_only_hint, Some(true));
    assert_eq!(ann("echo-json").open_world_hint, Some(false));
    assert_eq!(ann("write-file").destructive_hint, Some(true));
    assert_eq!(ann("http-get").open_world_hint, Some(true));
    let r = call(&c, "echo-json", json!({ "message": "hi" })).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({ "echo": { "message": "hi" } })));
    let hello = root().join("sample-tools/data/hello.txt");
    let r = call(&c, "line-count", json!({ "path": s(&hello) })).await.unwrap();
    assert_eq!(text(&r).trim(), "1", "the native tool ran: {r:?}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn arguments_failing_the_schema_are_protocol_errors_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let c = connect(&root().join("tools"), &["--audit", s(&audit)]).await;
    let e = call(&c, "read-file", json!({ "path": 7 })).await.unwrap_err().to_string();
    assert!(e.contains("/path") && e.contains("string"), "{e}");
    let e = call(&c, "read-file", json!({})).await.unwrap_err().to_string();
    assert!(e.contains("path"), "{e}");
    let e = call(&c, "no-such-tool", json!({})).await.unwrap_err().to_string();
    assert!(e.contains("unknown tool"), "{e}");
    // The server is still there.
    assert!(call(&c, "echo-json", json!({})).await.is_ok());
    c.cancel().await.unwrap();
    let denied: Vec<Value> =
        audit_lines(&audit).into_iter().filter(|e| e["event"] == "deny" && e["target"] == "read-file").collect();
    assert_eq!(denied.len(), 2, "each rejected call is audited: {denied:?}");
    assert!(denied[0]["reason"].as_str().unwrap().contains("/path"));
}

/// `peek` reads `path` (bound) and then `probe` (never bound): its grant holds `path` only.
const PEEK: &str = r#"
name = "peek"
wasm = "@WASM@/read-file.wasm"
args = ["{path}", "{probe}"]
stdin = "none"
[input_schema]
type = "object"
required = ["path"]
properties = { path = { type = "string" }, probe = { type = "string" } }
[[bind]]
argument = "path"
access = "read"
within = ["@ROOT@"]
"#;

#[tokio::test]
async fn each_call_gets_only_the_paths_its_own_arguments_bind() {
    let (dir, rootd) = tools_dir("peek", PEEK);
    std::fs::write(rootd.join("a.txt"), "AAA-content").unwrap();
    std::fs::write(rootd.join("b.txt"), "BBB-content").unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "OUTSIDE-content").unwrap();
    let audit = dir.path().join("audit.jsonl");
    let c = connect(dir.path(), &["--audit", s(&audit)]).await;
    let (a, b) = (s(&rootd.join("a.txt")).to_string(), s(&rootd.join("b.txt")).to_string());
    // Positive control: the bound path is readable, and the tool really tries `probe` too
    // (probing its own path succeeds).
    let r = call(&c, "peek", json!({ "path": a, "probe": a })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(text(&r), "AAA-contentAAA-content");
    // Two calls at once, each probing the other's path, which the other call's grant holds.
    let (ra, rb) = tokio::join!(
        call(&c, "peek", json!({ "path": a, "probe": b })),
        call(&c, "peek", json!({ "path": b, "probe": a }))
    );
    let (ra, rb) = (text(&ra.unwrap()), text(&rb.unwrap()));
    assert!(ra.contains("AAA-content") && !ra.contains("BBB-content"), "{ra}");
    assert!(rb.contains("BBB-content") && !rb.contains("AAA-content"), "{rb}");
    // Outside the declared roots: refused before anything runs.
    let r = call(&c, "peek", json!({ "path": s(&outside) })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("outside the declared roots") && !text(&r).contains("OUTSIDE-content"), "{r:?}");
    c.cancel().await.unwrap();
    let events = audit_lines(&audit);
    let grants: Vec<&Value> = events.iter().filter(|e| e["event"] == "grant.issued").collect();
    assert_eq!(grants.len(), 3, "one grant per call that ran");
    assert!(
        events.iter().any(|e| e["event"] == "deny"
            && e["capability"] == "mcp.tool"
            && e["target"].as_str().unwrap().contains("outside.txt")),
        "the refused argument is audited"
    );
}

const FETCH: &str = r#"
name = "fetch"
wasm = "@WASM@/http-get.wasm"
args = ["--follow", "{url}"]
stdin = "none"
[input_schema]
type = "object"
required = ["url"]
properties = { url = { type = "string" } }
[[bind]]
argument = "url"
access = "connect"
allow = ["http://127.0.0.1:@PORT@"]
"#;

#[tokio::test]
async fn urls_bind_one_origin_and_denials_come_back_as_tool_errors() {
    let other = HttpSink::start(None);
    let allowed = HttpSink::start(Some(other.url("/stolen")));
    let (dir, _) = tools_dir("fetch", &FETCH.replace("@PORT@", &allowed.addr.port().to_string()));
    let c = connect(dir.path(), &[]).await;
    // Positive control: the declared origin is reached.
    let r = call(&c, "fetch", json!({ "url": allowed.url("/ok") })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert!(text(&r).contains(&format!("hello from {}", allowed.addr.port())));
    assert_eq!(allowed.requests().len(), 1);
    // Another origin as the argument: refused by the binding, no request leaves.
    let r = call(&c, "fetch", json!({ "url": other.url("/direct") })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("matches no declared pattern"), "{}", text(&r));
    // A redirect from the granted origin to another: the sandbox denies the hop.
    let r = call(&c, "fetch", json!({ "url": allowed.url("/redirect") })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("denied: http request to"), "{}", text(&r));
    assert!(allowed.requests().last().unwrap().starts_with("GET /redirect "), "the redirect was served");
    assert!(other.requests().is_empty(), "nothing reached the undeclared origin");
    c.cancel().await.unwrap();
}

/// Polls `check` (without blocking the runtime) until it holds or `within` has passed.
async fn until(within: Duration, check: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !check() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// A native tool that says it started, waits, then writes a marker into the directory it is
/// given.
fn slow_writer() -> (tempfile::TempDir, PathBuf) {
    let (dir, rootd) = tools_dir(
        "slow",
        r#"
name = "slow-write"
command = "@ROOT@/../slow.sh"
args = ["{dir}"]
stdin = "none"
[input_schema]
type = "object"
required = ["dir"]
properties = { dir = { type = "string" } }
[[bind]]
argument = "dir"
access = "write"
within = ["@ROOT@"]
"#,
    );
    let script = dir.path().join("slow.sh");
    std::fs::write(&script, "#!/bin/sh\necho > \"$1/started\"\nsleep 1.5\necho done > \"$1/marker\"\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (dir, rootd)
}

/// The host processes running the slow writer of `dir` (found by its script's path).
fn slow_writers(dir: &Path) -> Vec<u32> {
    let script = s(&std::fs::canonicalize(dir).unwrap().join("slow.sh")).to_string();
    support::host_processes(|args| args.contains(&script.as_str()))
}

/// Waits until the slow writer of `dir` runs: its `started` file is there, and its process
/// is seen from the host (so that its absence later means something).
async fn slow_writer_started(dir: &Path, rootd: &Path) {
    assert!(until(Duration::from_secs(20), || rootd.join("started").exists()).await, "the tool never started");
    assert!(!slow_writers(dir).is_empty(), "the tool's process is not found on the host");
}

/// After the slow writer was stopped: once no process of it is left (waiting longer than it
/// would take to finish on its own), its marker can never come.
async fn slow_writer_stopped(dir: &Path, rootd: &Path, what: &str) {
    assert!(until(Duration::from_secs(10), || slow_writers(dir).is_empty()).await, "{what}: the tool runs on");
    assert!(!rootd.join("marker").exists(), "{what}: the tool ran to its end");
}

#[tokio::test]
async fn cancelling_a_call_revokes_its_grant_and_stops_the_tool() {
    let (dir, rootd) = slow_writer();
    let audit = dir.path().join("audit.jsonl");
    let c = connect(dir.path(), &["--audit", s(&audit)]).await;
    // Positive control: left alone, the tool writes its marker.
    let r = call(&c, "slow-write", json!({ "dir": s(&rootd) })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert!(rootd.join("marker").exists());
    std::fs::remove_file(rootd.join("marker")).unwrap();
    std::fs::remove_file(rootd.join("started")).unwrap();
    // Cancelled once it runs: the tool dies with its grant and never writes.
    let mut p = args(json!({ "dir": s(&rootd) }));
    p.name = "slow-write".into();
    let req = ClientRequest::CallToolRequest(CallToolRequest::new(p));
    let handle = c.send_cancellable_request(req, PeerRequestOptions::no_options()).await.unwrap();
    slow_writer_started(dir.path(), &rootd).await;
    handle.cancel(Some("test".into())).await.unwrap();
    slow_writer_stopped(dir.path(), &rootd, "a cancelled call").await;
    c.cancel().await.unwrap();
    let events = audit_lines(&audit);
    assert!(
        events.iter().any(|e| e["event"] == "grant.revoked" && e["reason"] == "call cancelled by the client"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_takes_its_running_calls_with_it() {
    let (dir, rootd) = slow_writer();
    let c = connect(dir.path(), &[]).await;
    let peer = c.peer().clone();
    let mut p = args(json!({ "dir": s(&rootd) }));
    p.name = "slow-write".into();
    let pending = tokio::spawn(async move { peer.call_tool(p).await });
    slow_writer_started(dir.path(), &rootd).await;
    c.cancel().await.unwrap();
    let _ = pending.await;
    slow_writer_stopped(dir.path(), &rootd, "a call of a client that went away").await;
}

/// A native tool that marks its arrival, waits for a second call to arrive (both must run at
/// once for either to get past), then for the test to release it.
const RENDEZVOUS: &str = r#"
name = "rendezvous"
command = "@ROOT@/../rendezvous.sh"
args = ["{dir}", "{tag}"]
stdin = "none"
[input_schema]
type = "object"
required = ["dir", "tag"]
properties = { dir = { type = "string" }, tag = { type = "string" } }
[[bind]]
argument = "dir"
access = "write"
within = ["@ROOT@"]
"#;

const RENDEZVOUS_SH: &str = r#"#!/bin/sh
touch "$1/arrived-$2"
n=0
until [ "$(ls "$1" | grep -c '^arrived-')" -ge 2 ]; do
    n=$((n + 1)); [ $n -gt 2000 ] && { echo alone; exit 3; }; sleep 0.01
done
until [ -e "$1/release" ]; do
    n=$((n + 1)); [ $n -gt 4000 ] && { echo never released; exit 4; }; sleep 0.01
done
echo together
"#;

#[tokio::test]
async fn calls_run_concurrently_up_to_a_bound_and_beyond_the_queue_are_refused() {
    let c = connect(&root().join("tools"), &[]).await;
    // 16 callers at once, each with its own grant and its own answer.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let peer = c.peer().clone();
        set.spawn(async move {
            let mut p = args(json!({ "message": i.to_string() }));
            p.name = "echo-json".into();
            (i, peer.call_tool(p).await)
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        let (i, r) = r.unwrap();
        assert_eq!(r.unwrap().structured_content, Some(json!({ "echo": { "message": i.to_string() } })));
        ok += 1;
    }
    assert_eq!(ok, 16);
    c.cancel().await.unwrap();

    let (dir, rootd) = tools_dir("rendezvous", RENDEZVOUS);
    let script = dir.path().join("rendezvous.sh");
    std::fs::write(&script, RENDEZVOUS_SH).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let c = connect(dir.path(), &["--max-concurrent", "2", "--queue", "0"]).await;
    let start = |tag: &str| {
        let peer = c.peer().clone();
        let mut p = args(json!({ "dir": s(&rootd), "tag": tag }));
        p.name = "rendezvous".into();
        tokio::spawn(async move { peer.call_tool(p).await })
    };
    let (a, b) = (start("a"), start("b"));
    // Both arrived while neither has returned: the two calls run at the same time.
    let both = until(Duration::from_secs(30), || rootd.join("arrived-a").exists() && rootd.join("arrived-b").exists());
    assert!(both.await, "the two calls never ran at once");
    assert!(!a.is_finished() && !b.is_finished());
    // A third, beyond the bound and the (empty) queue, is refused without running.
    let e = call(&c, "rendezvous", json!({ "dir": s(&rootd), "tag": "c" })).await.unwrap_err().to_string();
    assert!(e.contains("busy"), "{e}");
    assert!(!rootd.join("arrived-c").exists());
    // Released, the two running calls are unaffected.
    std::fs::write(rootd.join("release"), "").unwrap();
    for call in [a, b] {
        let r = call.await.unwrap().unwrap();
        assert_eq!((r.is_error, text(&r).trim()), (Some(false), "together"), "{r:?}");
    }
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_broken_manifest_is_skipped_and_named() {
    let (dir, _) = tools_dir("good", "name = \"good\"\nwasm = \"@WASM@/echo-json.wasm\"\n");
    std::fs::write(dir.path().join("bad.toml"), "name = \"bad\"\nwasm = 5\n").unwrap();
    std::fs::write(dir.path().join("missing.toml"), "name = \"missing\"\nwasm = \"nope.wasm\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["serve", "--tools", s(dir.path())])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:2:8"), "{err}");
    assert!(err.contains("missing.toml") && err.contains("nope.wasm"), "{err}");
    assert!(err.contains("1 tools: good"), "{err}");
    let c = connect(dir.path(), &[]).await;
    assert_eq!(c.list_all_tools().await.unwrap().len(), 1);
    c.cancel().await.unwrap();
}

#[test]
fn malformed_json_rpc_does_not_take_the_server_down() {
    use std::io::Write;
    tool("echo-json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["serve", "--tools", s(&root().join("tools"))])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    writeln!(stdin, "{init}").unwrap();
    writeln!(stdin, "{{not json").unwrap();
    // A message over the 16 MiB bound is skipped to its end and refused, not held in memory.
    let huge = format!(r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(17 << 20));
    writeln!(stdin, "{huge}").unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":5}}}}"#).unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":3,"method":"tools/list"}}"#).unwrap();
    // Read until every answer expected has come (the positive signal), then close stdin and
    // read the rest: nothing else may be there.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let expected = [r#""id":3"#, r#""code":-32700"#, r#""id":2,"error""#, "refused: the limit is 16 MiB"];
    let mut text = String::new();
    while !expected.iter().all(|e| text.contains(e)) {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
            break;
        }
        text.push_str(&line);
    }
    drop(stdin);
    std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
    child.wait().unwrap();
    assert!(text.contains(r#""id":3"#) && text.contains("echo-json"), "still serving after bad input: {text}");
    assert!(text.contains(r#""code":-32700"#), "a line that is not JSON gets a parse error: {text}");
    assert!(text.contains(r#""id":2,"error""#), "a malformed call gets an error: {text}");
    assert!(text.contains("refused: the limit is 16 MiB"), "an oversized message is refused: {text}");
    assert!(!text.contains(r#""id":9"#), "and never reaches the server: {text}");
}
