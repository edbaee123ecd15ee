//! `tools/call` throughput of one `serve --listen` replica over streamable HTTP on loopback
//! (`cargo bench --bench serve_http`): the real binary, `echo-json`, N callers each on its own
//! kept-alive HTTP/1.1 connection in one MCP session, each call a POST answered by an SSE
//! stream (what the SDKs do). Reports calls/s and p50/p99 per number of callers. The client is
//! plain blocking sockets (one thread per caller) so that it costs the shared cores little.
//!
//! With `MCP_BENCH_IMAGE=localhost/mcp-sandbox:test` (the image `./dev image` builds), the same
//! replica also runs in that image under podman with the documented options, reached through a
//! published port (the engine's DNAT, as a Service address is reached through kube-proxy's),
//! with a bearer token; both are measured in the same run, interleaved, and the ratio printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One kept-alive connection speaking MCP over streamable HTTP.
struct Conn {
    addr: SocketAddr,
    r: BufReader<TcpStream>,
    session: Option<String>,
    token: Option<String>,
}

impl Conn {
    fn open(t: &Target, session: Option<String>) -> Conn {
        let s = TcpStream::connect(t.addr).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { addr: t.addr, r: BufReader::new(s), session, token: t.token.clone() }
    }

    /// POSTs `body`; the `data:` payload of the answer (if any), and the session id header.
    fn post(&mut self, body: &str) -> (Option<String>, Option<String>) {
        let mut req = format!(
            "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
             accept: application/json, text/event-stream\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(s) = &self.session {
            req.push_str(&format!("mcp-session-id: {s}\r\nmcp-protocol-version: 2025-06-18\r\n"));
        }
        if let Some(t) = &self.token {
            req.push_str(&format!("authorization: Bearer {t}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.r.get_mut().write_all(req.as_bytes()).unwrap();
        let (mut length, mut chunked, mut session) = (None, false, None);
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 2"), "{line}");
        loop {
            line.clear();
            self.r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            let (k, v) = (k.to_ascii_lowercase(), v.trim().to_string());
            match k.as_str() {
                "content-length" => length = Some(v.parse::<usize>().unwrap()),
                "transfer-encoding" => chunked = v.contains("chunked"),
                "mcp-session-id" => session = Some(v),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.r.read_line(&mut line).unwrap();
                let size = usize::from_str_radix(line.trim(), 16).unwrap();
                let mut chunk = vec![0u8; size + 2];
                self.r.read_exact(&mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.r.read_exact(&mut body).unwrap();
        }
        let text = String::from_utf8(body).unwrap();
        let data = text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).find(|d| !d.is_empty());
        (data.map(str::to_string), session)
    }
}

fn call_body(i: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo-json","arguments":{{"message":"call {i}"}}}}}}"#
    )
}

/// `total` calls spread over `callers` threads, each with its own connection.
fn burst(t: &Target, callers: usize, total: usize) -> (Vec<Duration>, Duration) {
    let start = Instant::now();
    let threads: Vec<_> = (0..callers)
        .map(|w| {
            let (t, session) = (t.clone(), t.session.clone());
            std::thread::spawn(move || {
                let mut c = Conn::open(&t, Some(session));
                let mut lat = Vec::new();
                for i in (w..total).step_by(callers) {
                    let t = Instant::now();
                    let (data, _) = c.post(&call_body(i + 10));
                    let data = data.unwrap();
                    assert!(data.contains(r#""isError":false"#), "{data}");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let lat = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    (lat, start.elapsed())
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A replica under test, with an open MCP session.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    token: Option<String>,
    session: String,
}

impl Target {
    fn new(addr: SocketAddr, token: Option<String>) -> Target {
        let mut t = Target { addr, token, session: String::new() };
        let mut c = Conn::open(&t, None);
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
        let (_, session) = c.post(init);
        t.session = session.expect("a session id");
        c.session = Some(t.session.clone());
        c.post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        // Warm-up: the compiled component cached, the instance pool touched.
        burst(&t, 16, 400);
        t
    }
}

/// Waits for serve's "serving" line on `stderr`; the rest is drained in a thread.
fn serving(stderr: impl Read + Send + 'static) -> SocketAddr {
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let l = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = l.strip_prefix("mcp-sandbox: serving MCP at http://") {
            break rest.trim_end_matches("/mcp").parse().unwrap();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    addr
}

/// The same replica in `image` (podman, the documented options), published on a loopback port.
fn in_container(image: &str) -> (std::process::Child, Target, String) {
    let dir = std::env::temp_dir().join(format!("mcp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = "bench-token-0123456789abcdef";
    std::fs::write(dir.join("token"), token).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let name = format!("mcp-sandbox-bench-{}", std::process::id());
    let mount = |host: PathBuf, at: &str| format!("{}:{at}:ro", host.display());
    let mut serve = Command::new("podman")
        .args(["run", "--rm", "--name", &name, "--runtime", "runc"])
        .args(["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"])
        .args(["--security-opt", &format!("seccomp={}", root().join("deploy/seccomp.json").display())])
        .args(["--security-opt", "systempaths=unconfined", "-p", &format!("127.0.0.1:{port}:8931")])
        .args(["-v", &mount(root().join("tools"), "/srv/mcp/tools")])
        .args(["-v", &mount(root().join("sample-tools"), "/srv/mcp/sample-tools")])
        .args(["-v", &mount(dir.join("token"), "/run/secrets/mcp-token"), image])
        .args(["serve", "--tools", "/srv/mcp/tools", "--listen", "0.0.0.0:8931"])
        .args(["--token-file", "/run/secrets/mcp-token", "--max-concurrent", "16"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    serving(serve.stderr.take().unwrap());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    (serve, Target::new(addr, Some(token.into())), name)
}

fn main() {
    let built = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(root().join("sample-tools"))
        .status()
        .unwrap();
    assert!(built.success());
    let mut serve = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["serve", "--tools"])
        .arg(root().join("tools"))
        .args(["--listen", "127.0.0.1:0", "--max-concurrent", "16"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = serving(serve.stderr.take().unwrap());
    let mut targets = vec![("host, loopback", Target::new(addr, None))];
    let image = std::env::var("MCP_BENCH_IMAGE").ok().filter(|i| !i.is_empty());
    let container = image.as_deref().map(in_container);
    if let Some((_, t, _)) = &container {
        targets.push(("image, published port", t.clone()));
    }
    let configs = [1usize, 4, 16];
    // (target, callers) -> latencies, wall time, calls; interleaved so load hits all alike.
    let mut results: Vec<(usize, usize, Vec<Duration>, Duration, usize)> = Vec::new();
    for t in 0..targets.len() {
        for &n in &configs {
            results.push((t, n, Vec::new(), Duration::ZERO, 0));
        }
    }
    let n = results.len();
    for round in 0..3 {
        for k in 0..n {
            let r = &mut results[(k + round) % n];
            let total = if r.1 == 1 { 300 } else { 1200 };
            let (lat, wall) = burst(&targets[r.0].1, r.1, total);
            r.2.extend(lat);
            r.3 += wall;
            r.4 += total;
        }
    }
    println!("\n| replica | callers (HTTP connections) | calls/s | p50 | p99 |\n|---|---|---|---|---|");
    let mut rates = Vec::new();
    for (t, callers, mut lat, wall, total) in results {
        lat.sort();
        let rate = total as f64 / wall.as_secs_f64();
        rates.push((t, callers, rate));
        let (p50, p99) = (ms(pct(&lat, 0.5)), ms(pct(&lat, 0.99)));
        println!("| {} | {callers} | {rate:.0} | {p50} | {p99} |", targets[t].0);
    }
    if targets.len() > 1 {
        for &n in &configs {
            let rate = |t| rates.iter().find(|r| r.0 == t && r.1 == n).map_or(0.0, |r| r.2);
            println!("{n} caller(s): image / host = {:.2}x", rate(1) / rate(0));
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    if let Some((mut child, _, name)) = container {
        let _ = Command::new("podman").args(["rm", "--force", "--time", "0", &name]).output();
        let _ = child.wait();
    }
}
