//! Issue 9, breaks 3, 4 and 8, and the notes found with them: what the supervisor holds on a
//! tool's behalf (descriptors, memory, audit records) is bounded per call, whatever the tool
//! does. Judged from outside the product: the server's descriptor count (`/proc/<pid>/fd`), its
//! resident memory (`/proc/<pid>/status`), the audit file's size, and what real loopback
//! listeners received. Every bound has its positive control: under the bound (or with a
//! generous limit) the same tool is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mcp_sandbox_runtime::audit::{MAX_NEW_TARGETS_BEYOND, MAX_RECORDS_PER_KIND};
use mcp_sandbox_runtime::egress::quota::{MAX_HTTP_REQUESTS, MAX_RELAYED_CONNECTIONS, MAX_UDP_FLOWS, MAX_WASM_SOCKETS};
use mcp_sandbox_runtime::policy::endpoint::Endpoint;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use support::{DnsSink, HttpSink, UdpSink, root, s, tool};

type Client = RunningService<RoleClient, ()>;

/// Open descriptors of process `pid`.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Samples `pid`'s descriptor count until `stop`; returns the largest seen.
fn watch_fds(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut max = 0;
        while !stop.load(Ordering::SeqCst) {
            max = max.max(fds(pid));
            std::thread::sleep(Duration::from_millis(5));
        }
        max.max(fds(pid))
    })
}

/// Every fix-it hint in `audit` must work when followed: it parses with the policy parser.
fn assert_hints_parse(audit: &[Value]) {
    for e in audit {
        let Some(hint) = e["hint"].as_str() else { continue };
        if let Some(ep) = hint.strip_prefix("--allow-net ") {
            assert!(ep.parse::<Endpoint>().is_ok(), "hint is not a valid endpoint: {hint} ({e})");
        } else if let Some(pin) = hint.strip_prefix("--resolve ") {
            assert!(mcp_sandbox_runtime::Policy::builder().resolve(pin).is_ok(), "hint does not parse: {hint}");
        } else {
            assert!(hint.starts_with("--allow-listen "), "unknown hint: {hint}");
        }
    }
}

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `mcp-sandbox serve` over `tools`, under `prlimit` when `nofile` is given; returns the client
/// and the server's pid.
async fn serve(tools: &Path, extra: &[&str], nofile: Option<u32>) -> (Client, u32) {
    tool("hog");
    let bin = env!("CARGO_BIN_EXE_mcp-sandbox");
    let cmd = match nofile {
        Some(n) => {
            let mut c = tokio::process::Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg("--").arg(bin);
            c
        }
        None => tokio::process::Command::new(bin),
    };
    let (transport, _stderr) = TokioChildProcess::builder(cmd.configure(|c| {
        c.arg("serve").arg("--tools").arg(tools).args(extra);
        c.env("MCP_SANDBOX_CACHE", root().join("target/test-component-cache"));
    }))
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let pid = transport.id().unwrap();
    (().serve(transport).await.unwrap(), pid)
}

fn params(name: &str, a: Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new("x").with_arguments(a.as_object().unwrap().clone());
    p.name = name.to_string().into();
    p
}

fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("")
}

/// A tools directory holding `manifests` (name, TOML body; `@HOG@` = the hog component).
fn tools_dir(manifests: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hog = root().join("sample-tools/target/wasm32-wasip2/release/hog.wasm");
    for (name, body) in manifests {
        std::fs::write(dir.path().join(format!("{name}.toml")), body.replace("@HOG@", s(&hog))).unwrap();
    }
    dir
}

/// A native tool running Python code `code` with `argv`, granted `net`.
fn python_manifest(name: &str, code: &str, argv: &[&str], net: &[String]) -> String {
    let mut args = vec!["-c".to_string(), code.to_string()];
    args.extend(argv.iter().map(ToString::to_string));
    format!(
        "name = \"{name}\"\ncommand = \"/usr/bin/python3\"\nargs = {}\nstdin = \"none\"\n[input_schema]\ntype = \"object\"\n[policy.network]\nallow = {}\n[policy.limits]\ntimeout = \"120s\"\n",
        serde_json::to_string(&args).unwrap(),
        serde_json::to_string(net).unwrap()
    )
}

/// A listener that keeps every connection it accepts, and tells the test each line it reads.
struct Holder {
    port: u16,
    lines: mpsc::Receiver<String>,
    accepted: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Holder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, lines) = mpsc::channel();
        let accepted = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (n, h) = (accepted.clone(), held.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(c) = conn else { continue };
                n.fetch_add(1, Ordering::SeqCst);
                h.lock().unwrap().push(c.try_clone().unwrap());
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(c).lines() {
                        let Ok(line) = line else { break };
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Holder { port, lines, accepted, held }
    }

    /// Waits (at most `max`) for a line matching `want`.
    fn wait_for(&self, want: &str, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l == want => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Waits (at most `max`) until every line of `want` has been read, in any order; returns
    /// those that were not.
    fn wait_all(&self, want: &[String], max: Duration) -> Vec<String> {
        let mut missing: std::collections::HashSet<String> = want.iter().cloned().collect();
        let deadline = Instant::now() + max;
        while !missing.is_empty() {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    missing.remove(&l);
                }
                Err(_) => break,
            }
        }
        missing.into_iter().collect()
    }

    /// Connections accepted, once every connection made before this call has been (a marker
    /// connection of our own is accepted last).
    fn accepted_so_far(&self) -> usize {
        let mut marker = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        marker.write_all(b"marker\n").unwrap();
        assert!(self.wait_for("marker", Duration::from_secs(30)));
        self.accepted.load(Ordering::SeqCst) - 1
    }

    /// Ends every connection it holds.
    fn release(&self) {
        for c in self.held.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A UDP sink that tells the test each datagram as it arrives.
fn udp_sink() -> (u16, mpsc::Receiver<String>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            if tx.send(String::from_utf8_lossy(&buf[..n]).into_owned()).is_err() {
                break;
            }
        }
    });
    (port, rx)
}

/// Sends one datagram from each of `n` source ports of 127.0.0.2 (keeping the first flow busy),
/// then `last` from the first (whose flow is open; repeated, as UDP may drop one), then says `flooded` over TCP and holds until
/// that connection ends.
const UDP_FLOOD: &str = r#"
import socket, sys, time
sink, tcp, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first.bind(("127.0.0.2", 30000))
first.sendto(b"flow-0", ("127.0.0.1", sink))
for i in range(1, n):
    if i % 50 == 0:
        first.sendto(b"keep", ("127.0.0.1", sink))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.2", 30000 + i))
    s.sendto(b"flow-%d" % i, ("127.0.0.1", sink))
    s.close()
# UDP may drop a datagram under load; the flow is open if any of these arrives.
for _ in range(20):
    first.sendto(b"last", ("127.0.0.1", sink))
    time.sleep(0.05)
c = socket.create_connection(("127.0.0.1", tcp))
c.sendall(b"flooded\n")
c.recv(1)
"#;

const OK: &str = "print('ok')";

/// Break 3: one call floods UDP flows from distinct source ports (each was a host socket kept
/// 60 s, unbounded) while the server has 1024 descriptors. The server's descriptor count stays
/// bounded while the flood runs, flows under the bound are served (the sink receives them), and
/// a concurrent native call succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn break3_a_udp_flood_cannot_exhaust_the_servers_descriptors() {
    let (sink, datagrams) = udp_sink();
    let holder = Holder::start();
    let flows = 1500;
    let net = vec![format!("udp://127.0.0.1:{sink}"), format!("tcp://127.0.0.1:{}", holder.port)];
    let (sink_s, tcp_s, n_s) = (sink.to_string(), holder.port.to_string(), flows.to_string());
    let dir = tools_dir(&[
        ("flood", python_manifest("flood", UDP_FLOOD, &[&sink_s, &tcp_s, &n_s], &net)),
        ("ok", python_manifest("ok", OK, &[], &[])),
    ]);
    let audit = dir.path().join("audit.jsonl");
    let (c, pid) = serve(dir.path(), &["--audit", s(&audit)], Some(1024)).await;
    let warm = c.call_tool(params("ok", json!({}))).await.unwrap();
    assert_eq!(text(&warm).trim(), "ok", "{warm:?}");
    let baseline = fds(pid);

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_fds(pid, stop.clone());
    let peer = c.peer().clone();
    let flood = tokio::spawn(async move { peer.call_tool(params("flood", json!({}))).await });
    let flooded = tokio::task::spawn_blocking(move || {
        let done = holder.wait_for("flooded", Duration::from_secs(120));
        (holder, done)
    });
    let (holder, done) = flooded.await.unwrap();
    assert!(done, "the flood never finished");
    // Everything sent before `last` on the first flow has been forwarded or dropped by then.
    let mut received = Vec::new();
    while let Ok(d) = datagrams.recv_timeout(Duration::from_secs(30)) {
        let last = d == "last";
        received.push(d);
        if last {
            break;
        }
    }
    assert_eq!(received.last().map(String::as_str), Some("last"), "the open flow still works");
    // A concurrent call, while the flood's call holds what it got.
    let other = c.call_tool(params("ok", json!({}))).await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let max = watcher.join().unwrap();
    holder.release();
    let flood = flood.await.unwrap().unwrap();

    assert_eq!((other.is_error, text(&other).trim()), (Some(false), "ok"), "a concurrent call is served: {other:?}");
    let served = received.iter().filter(|d| d.starts_with("flow-")).count();
    assert!(received.contains(&"flow-0".to_string()), "flows under the bound are served");
    assert!(served >= MAX_UDP_FLOWS, "the bound's worth of flows is served: {served}");
    assert!(served < flows / 2, "the flood is not: {served} of {flows} flows reached the sink");
    assert!(max <= baseline + MAX_UDP_FLOWS + 48, "descriptors: {max} at most, {baseline} before the flood");
    assert_eq!(flood.is_error, Some(false), "{flood:?}");
    c.cancel().await.unwrap();
    let log = audit_lines(&audit);
    let limits: Vec<&Value> =
        log.iter().filter(|e| e["event"] == "limit" && e["capability"] == "limit.resources").collect();
    let most = MAX_RECORDS_PER_KIND + MAX_NEW_TARGETS_BEYOND;
    assert!(!limits.is_empty() && limits.len() <= most, "refusals are audited, aggregated: {}", limits.len());
    assert!(limits[0]["reason"].as_str().unwrap().contains("MAX_UDP_FLOWS"), "{}", limits[0]);
    assert!(log.iter().any(|e| e["event"] == "suppressed" && e["capability"] == "limit.resources"));
    assert_hints_parse(&log);
}

/// Opens `n` TCP connections to the declared port, each saying `conn <i>`, and holds them
/// all; says `held` on stdout, then waits for stdin to end.
const TCP_HOLD: &str = r#"
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(n):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"conn %d\n" % i)
        held.append(c)
    except OSError as e:
        print("refused", i, e, flush=True)
print("held", len(held), flush=True)
sys.stdin.read()
"#;

/// Runs `mcp-sandbox run` with stdin and stdout piped; returns the child and its stdout lines.
fn spawn_run(args: &[&str], audit: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .arg("run")
        .arg("--audit")
        .arg(audit)
        .args(args)
        .env("MCP_SANDBOX_CACHE", root().join("target/test-component-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_line(rx: &mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = rx.recv_timeout(Duration::from_secs(120)).expect("the tool said nothing");
        if line.starts_with(prefix) {
            return line;
        }
    }
}

/// Break 3: held relayed TCP connections cost the server two descriptors each. A tool holding
/// 300 connections to a declared endpoint gets the bound's worth served (the listener accepts
/// them) and no more; the server's descriptor count stays bounded.
#[test]
fn break3_held_tcp_relays_are_bounded() {
    let holder = Holder::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let ep = format!("tcp://127.0.0.1:{}", holder.port);
    let (port, n) = (holder.port.to_string(), "300".to_string());
    let args = ["--allow-net", &ep, "--timeout", "120s", "/usr/bin/python3", "--", "-c", TCP_HOLD, &port, &n];
    let (mut child, lines) = spawn_run(&args, &audit);
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_fds(pid, stop.clone());
    let held = wait_line(&lines, "held");
    // The bound's worth arrives while the tool holds them all.
    let deadline = Instant::now() + Duration::from_secs(60);
    while holder.accepted.load(Ordering::SeqCst) < MAX_RELAYED_CONNECTIONS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let during = fds(pid);
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    stop.store(true, Ordering::SeqCst);
    let max = watcher.join().unwrap();
    // Once the run has ended every relay has been dialled or refused; the listener has taken
    // every connection made before the marker.
    let served = holder.accepted_so_far();
    assert_eq!(served, MAX_RELAYED_CONNECTIONS, "{held}: the bound's worth is served, no more");
    assert!(max <= 2 * MAX_RELAYED_CONNECTIONS + 96, "descriptors: {max} at most ({during} while held)");
    let log = audit_lines(&audit);
    let limit = log.iter().find(|e| e["event"] == "limit" && e["capability"] == "limit.resources").unwrap();
    assert!(limit["reason"].as_str().unwrap().contains("MAX_RELAYED_CONNECTIONS"), "{limit}");
    assert_hints_parse(&log);
}

/// Break 3: a WebAssembly component with no grant at all created `wasi:sockets` sockets
/// freely. It gets the bound's worth (each a host descriptor) and then `new-socket-limit`;
/// the server's descriptor count stays bounded. Positive control: connections under the bound
/// to a declared endpoint are served.
#[test]
fn break3_a_wasm_component_cannot_open_sockets_without_bound() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let hog = tool("hog");
    let (mut child, lines) = spawn_run(&[s(&hog), "--", "sockets", "1000", "--hold"], &audit);
    let made = wait_line(&lines, "sockets: ");
    let held = fds(child.id());
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(held < MAX_WASM_SOCKETS + 64, "the server held {held} descriptors ({made})");
    assert_eq!(made, format!("sockets: {MAX_WASM_SOCKETS}"));
    let refused: Vec<String> = lines.iter().collect();
    assert!(refused.iter().any(|l| l.contains("new-socket-limit")), "{refused:?}");
    assert_eq!(status.code(), Some(1));
    let log = audit_lines(&audit);
    assert!(log.iter().any(|e| e["event"] == "limit" && e["capability"] == "limit.resources"));

    // Positive control: under the bound, to a declared endpoint, every connection arrives.
    let holder = Holder::start();
    let to = format!("127.0.0.1:{}", holder.port);
    let (mut child, lines) =
        spawn_run(&["--allow-net", &format!("tcp://{to}"), s(&hog), "--", "connect", &to, "20", "--hold"], &audit);
    assert_eq!(wait_line(&lines, "connections: "), "connections: 20");
    let sent: Vec<String> = (0..20).map(|i| format!("hog {i}")).collect();
    let missing = holder.wait_all(&sent, Duration::from_secs(30));
    assert!(missing.is_empty(), "not served: {missing:?}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

/// Break 3, `wasi:http`: each request in flight is a host connection until its response is
/// read. A component hands the host 100 requests to a server that never answers: the server
/// sees the bound's worth of connections and no more, and the run's descriptors stay bounded.
/// Positive control: the bound's worth is served (the server accepts them).
#[test]
fn break3_wasm_http_requests_in_flight_are_bounded() {
    let holder = Holder::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let to = format!("127.0.0.1:{}", holder.port);
    let origin = format!("http://{to}");
    let hog = tool("hog");
    let (mut child, lines) =
        spawn_run(&["--allow-net", &origin, s(&hog), "--", "requests", &to, "100", "--hold"], &audit);
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_fds(pid, stop.clone());
    assert_eq!(wait_line(&lines, "requests: "), "requests: 100", "handed over; the host decides");
    let deadline = Instant::now() + Duration::from_secs(60);
    while holder.accepted.load(Ordering::SeqCst) < MAX_HTTP_REQUESTS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(child.stdin.take());
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    let max = watcher.join().unwrap();
    // The run has ended: every request was sent or refused.
    let served = holder.accepted_so_far();
    assert_eq!(served, MAX_HTTP_REQUESTS, "the bound's worth is served, no more");
    assert!(max <= MAX_HTTP_REQUESTS + 64, "descriptors: {max} at most");
    let log = audit_lines(&audit);
    let limit = log.iter().find(|e| e["event"] == "limit" && e["capability"] == "limit.resources").unwrap();
    assert!(limit["reason"].as_str().unwrap().contains("MAX_HTTP_REQUESTS"), "{limit}");
    assert_eq!(limit["target"], origin.as_str(), "the origin only");
}

fn hog_manifest(name: &str, memory: &str) -> String {
    format!(
        r#"name = "{name}"
wasm = "@HOG@"
args = ["{{mode}}", "{{count}}", "{{kib}}"]
stdin = "none"
[input_schema]
type = "object"
required = ["mode", "count"]
properties = {{ mode = {{ type = "string" }}, count = {{ type = "integer" }}, kib = {{ type = "integer" }} }}
[policy.limits]
memory = "{memory}"
timeout = "120s"
"#
    )
}

/// Break 4: a component makes the host hold 2,000 header-field collections of 100 KiB (200 MB)
/// under `--memory 32MiB`. Its call ends as a memory limit and the server's resident memory
/// (its high-water mark) stays near where it was. Positive control: the same component under
/// a generous limit completes, and then the server's memory does grow by what it held.
#[tokio::test(flavor = "multi_thread")]
async fn break4_host_side_memory_of_a_wasm_tool_counts_against_its_limit() {
    let dir =
        tools_dir(&[("hog-small", hog_manifest("hog-small", "32MiB")), ("hog-big", hog_manifest("hog-big", "1GiB"))]);
    let audit = dir.path().join("audit.jsonl");
    let (c, pid) = serve(dir.path(), &["--audit", s(&audit)], None).await;
    let call = |name: &str, a: Value| c.call_tool(params(name, a));
    let warm = call("hog-small", json!({"mode": "fields", "count": 10, "kib": 100})).await.unwrap();
    assert_eq!(text(&warm).trim(), "fields: 10", "{warm:?}");
    let before = status_kib(pid, "VmHWM");

    let r = call("hog-small", json!({"mode": "fields", "count": 2000, "kib": 100})).await.unwrap();
    let peak = status_kib(pid, "VmHWM");
    assert!(peak < before + 96 * 1024, "the server grew from {before} KiB to {peak} KiB: {}", text(&r));
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("memory"), "{}", text(&r));
    // Handles alone: the resource table is bounded too.
    let r = call("hog-small", json!({"mode": "handles", "count": 20000})).await.unwrap();
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let r = call("hog-small", json!({"mode": "handles", "count": 1000})).await.unwrap();
    assert_eq!((r.is_error, text(&r).trim()), (Some(false), "handles: 1000"), "{r:?}");

    // Positive control: a generous limit lets it hold them all, and the server shows it.
    let r = call("hog-big", json!({"mode": "fields", "count": 2000, "kib": 100})).await.unwrap();
    assert_eq!((r.is_error, text(&r).trim()), (Some(false), "fields: 2000"), "{r:?}");
    let grown = status_kib(pid, "VmHWM");
    assert!(grown > peak + 150 * 1024, "the measurement sees host memory: {peak} KiB then {grown} KiB");
    c.cancel().await.unwrap();
    let log = audit_lines(&audit);
    let limits: Vec<&Value> =
        log.iter().filter(|e| e["event"] == "limit" && e["capability"] == "limit.memory").collect();
    assert!(limits.iter().any(|e| e["reason"].as_str().unwrap().contains("held by the host")), "{limits:?}");
    assert!(limits.iter().any(|e| e["reason"].as_str().unwrap().contains("MAX_RESOURCES")), "{limits:?}");
}

/// Asks the DNS stub `n` questions for undeclared names (`q<i>.exfil.example`), one TXT
/// question for a name under the declared suffix and one A question for another, then tries an
/// undeclared TCP address; prints what each got.
const DNS_FLOOD: &str = r#"
import socket, struct, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
def ask(name, qtype=1):
    q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s.sendto(q, ("127.0.0.1", 53))
    return s.recv(1500)[3] & 0x0F
for i in range(n):
    ask("q%d.exfil.example" % i)
print("txt", ask("secret-data.sub.declared.example", 16))
print("a", ask("host.sub.declared.example", 1))
try:
    socket.create_connection(("10.9.8.7", 4444), timeout=2)
except OSError:
    print("connect refused")
"#;

/// Break 8: one call's flood of DNS denials wrote 141,400 records. The audit file stays small,
/// yet the first denial of each kind is there (the first name, the refused TXT question, the
/// connect that came after the flood), with a count of what was only counted. Positive
/// control: the flood did reach the broker (the count), and a declared A question goes
/// upstream while the TXT question for a name under the same suffix never does.
#[test]
fn break8_a_flood_of_denials_cannot_fill_the_audit_log() {
    let dns = DnsSink::start(Some("203.0.113.9".parse().unwrap()));
    let resolver = dns.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let n = 5000;
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--audit", s(&audit), "--resolver", &resolver, "--allow-net", "*.declared.example:443"])
        .args(["--timeout", "120s", "/usr/bin/python3", "--", "-c", DNS_FLOOD, &n.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("txt 5") && stdout.contains("a 0"), "TXT refused, A answered: {stdout}");
    assert!(stdout.contains("connect refused"), "{stdout}");
    let questions = dns.questions();
    assert_eq!(questions, vec!["host.sub.declared.example"; questions.len()], "only the A question left");
    assert!(!questions.is_empty());

    let size = std::fs::metadata(&audit).unwrap().len();
    assert!(size < 64 * 1024, "the audit file is {size} bytes after {n} denials");
    assert!(out.stderr.len() < 32 * 1024, "stderr is {} bytes", out.stderr.len());
    let log = audit_lines(&audit);
    let dns_denials: Vec<&Value> =
        log.iter().filter(|e| e["event"] == "deny" && e["capability"] == "net.dns").collect();
    assert_eq!(dns_denials[0]["target"], "q0.exfil.example", "the first denial is there");
    assert!(dns_denials.iter().any(|e| e["reason"].as_str().unwrap().contains("TXT")), "{dns_denials:?}");
    assert!(
        log.iter().any(|e| e["event"] == "deny" && e["target"].as_str().unwrap_or("").ends_with("10.9.8.7:4444")),
        "a later denial is not buried"
    );
    let counted: u64 = log
        .iter()
        .filter(|e| e["event"] == "suppressed" && e["capability"] == "net.dns")
        .map(|e| e["detail"]["count"].as_u64().unwrap())
        .sum();
    assert!(counted as usize + dns_denials.len() > n, "every question was decided: {counted} counted");
    assert!(log.iter().any(|e| e["event"] == "exit"), "the end is recorded");
    assert_hints_parse(&log);
}

/// Speaks to the broker's HTTP proxy from inside: each argument is a request head to send
/// (`|` for a line break), then with `+N` N more bytes at once (a body, a pipelined TLS hello);
/// prints the status line and the `x-proxy-error` and `x-mcp-sandbox-reason` headers of each
/// answer (or the error).
const PROXY_CLIENT: &str = r#"
import os, socket, sys
host, port = os.environ["HTTP_PROXY"].rsplit("/", 1)[-1].rsplit(":", 1)
for arg in sys.argv[1:]:
    head, _, extra = arg.partition("+")
    c = socket.create_connection((host, int(port)))
    data = b""
    try:
        c.sendall(head.replace("|", "\r\n").encode() + b"\r\n\r\n" + b"x" * int(extra or 0))
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        print("error", e)
        continue
    lines = data.decode(errors="replace").split("\r\n")
    keep = [l for l in lines if l.lower().startswith(("x-proxy-error", "x-mcp-sandbox-reason"))]
    print(lines[0], "|", " | ".join(keep))
"#;

/// Also found: the proxy refused `HTTP://` (uppercase scheme); a denied CONNECT reset the
/// connection instead of answering 403 with the reason (here: the client sent on, a TLS hello
/// after CONNECT or a body after a request, and the proxy closed with it unread); a request with
/// user info gave a hint that is not an endpoint. Judged by what the HTTP listener received and
/// what the client read.
#[test]
fn proxy_answers_refusals_and_accepts_any_case_scheme() {
    let sink = HttpSink::start(None);
    let origin = format!("http://{}", sink.addr);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let heads = [
        format!("GET HTTP://{}/upper HTTP/1.1|Host: {}", sink.addr, sink.addr),
        format!("GET http://declared.test@{}/userinfo HTTP/1.1|Host: {}", sink.addr, sink.addr),
        "CONNECT 10.9.8.7:443 HTTP/1.1|Host: 10.9.8.7:443".to_string(),
        "GET http://undeclared.example:7081/x HTTP/1.1|Host: undeclared.example:7081".to_string(),
        "CONNECT 10.9.8.7:443 HTTP/1.1|Host: 10.9.8.7:443+262144".to_string(),
        "POST http://10.9.8.7/x HTTP/1.1|Host: 10.9.8.7|Content-Length: 262144+262144".to_string(),
    ];
    let mut args =
        vec!["run", "--audit", s(&audit), "--allow-net", &origin, "/usr/bin/python3", "--", "-c", PROXY_CLIENT];
    args.extend(heads.iter().map(String::as_str));
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(lines[0].starts_with("HTTP/1.1 200"), "uppercase scheme is proxied: {}", lines[0]);
    assert!(lines[1].starts_with("HTTP/1.1 200"), "user info is not the host: {}", lines[1]);
    for denied in &lines[2..] {
        assert!(denied.starts_with("HTTP/1.1 403"), "a refusal is an answer: {denied}");
        assert!(denied.contains("x-proxy-error: blocked-by-allowlist"), "{denied}");
        assert!(denied.contains("x-mcp-sandbox-reason: blocked by mcp-sandbox: denied:"), "{denied}");
    }
    assert!(lines[2].contains("--allow-net 10.9.8.7:443"), "the reason carries the fix: {}", lines[2]);
    let got = sink.requests();
    assert!(got.iter().any(|r| r.starts_with("GET /upper ")), "{got:?}");
    assert!(got.iter().any(|r| r.starts_with("GET /userinfo ")), "{got:?}");
    assert_eq!(got.len(), 2, "nothing else arrived: {got:?}");
    assert_hints_parse(&audit_lines(&audit));

    // The user info of a denied request is not in its hint either.
    let other = HttpSink::start(None);
    let head = format!("GET http://declared.test@{}/x HTTP/1.1|Host: x", other.addr);
    let args =
        ["run", "--audit", s(&audit), "--allow-net", &origin, "/usr/bin/python3", "--", "-c", PROXY_CLIENT, &head];
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).args(args).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("403"));
    let log = audit_lines(&audit);
    let hint = format!("--allow-net http://{}", other.addr);
    assert!(log.iter().any(|e| e["hint"] == hint.as_str()), "{log:?}");
    assert!(other.requests().is_empty());
    assert_hints_parse(&log);
}

/// Also found: a WebAssembly UDP send to an undeclared address reported success (nothing was
/// sent); an HTTP request to `[::ffff:127.0.0.1]` gave the hint `http://[[::ffff:127.0.0.1]]`.
#[test]
fn wasm_denials_reach_the_guest_and_hints_are_endpoints() {
    let declared = UdpSink::start();
    let other = UdpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let ep = format!("udp://{}", declared.addr);
    let hog = tool("hog");
    let run = |to: &str| {
        Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
            .args(["run", "--audit", s(&audit), "--allow-net", &ep, s(&hog), "--", "udp", to])
            .output()
            .unwrap()
    };
    let denied = run(&other.addr.to_string());
    assert_eq!(denied.status.code(), Some(1), "{}", String::from_utf8_lossy(&denied.stdout));
    assert!(String::from_utf8_lossy(&denied.stdout).contains("udp: refused"));
    // Positive control: the declared address gets the datagram.
    let sent = run(&declared.addr.to_string());
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stdout));
    assert_eq!(declared.received(), vec!["hog:udp"]);
    assert!(other.received().is_empty());

    let http = HttpSink::start(None);
    let url = format!("http://[::ffff:127.0.0.1]:{}/x", http.addr.port());
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--audit", s(&audit), s(&tool("http-get")), "--", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = audit_lines(&audit);
    let hint = format!("--allow-net http://127.0.0.1:{}", http.addr.port());
    assert!(log.iter().any(|e| e["hint"] == hint.as_str()), "{log:?}");
    assert_hints_parse(&log);
    // Following the hint works.
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--allow-net", &hint["--allow-net ".len()..], s(&tool("http-get")), "--", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!http.requests().is_empty());
}
