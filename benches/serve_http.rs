//! `tools/call` throughput of one `serve --listen` replica over streamable HTTP on loopback
//! (`cargo bench --bench serve_http`): the real binary, `echo-json`, N callers each on its own
//! kept-alive HTTP/1.1 connection in one MCP session, each call a POST answered by an SSE
//! stream (what the SDKs do). Reports calls/s and p50/p99 per number of callers. The client is
//! plain blocking sockets (one thread per caller) so that it costs the shared cores little.
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
}

impl Conn {
    fn open(addr: SocketAddr, session: Option<String>) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { addr, r: BufReader::new(s), session }
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
fn burst(addr: SocketAddr, session: &str, callers: usize, total: usize) -> (Vec<Duration>, Duration) {
    let start = Instant::now();
    let threads: Vec<_> = (0..callers)
        .map(|w| {
            let session = session.to_string();
            std::thread::spawn(move || {
                let mut c = Conn::open(addr, Some(session));
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
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let l = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = l.strip_prefix("mcp-sandbox: serving MCP at http://") {
            break rest.trim_end_matches("/mcp").parse().unwrap();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let mut c = Conn::open(addr, None);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
    let (_, session) = c.post(init);
    let session = session.expect("a session id");
    c.session = Some(session.clone());
    c.post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // Warm-up: the compiled component cached, the instance pool touched.
    burst(addr, &session, 16, 400);
    let configs = [1usize, 4, 16];
    let mut results: Vec<(usize, Vec<Duration>, Duration, usize)> =
        configs.iter().map(|&n| (n, Vec::new(), Duration::ZERO, 0)).collect();
    for round in 0..3 {
        for k in 0..configs.len() {
            let r = &mut results[(k + round) % configs.len()];
            let total = if r.0 == 1 { 300 } else { 1200 };
            let (lat, wall) = burst(addr, &session, r.0, total);
            r.1.extend(lat);
            r.2 += wall;
            r.3 += total;
        }
    }
    println!("\n| callers (HTTP connections) | calls/s | p50 | p99 |\n|---|---|---|---|");
    for (callers, mut lat, wall, total) in results {
        lat.sort();
        let rate = total as f64 / wall.as_secs_f64();
        println!("| {callers} | {rate:.0} | {} | {} |", ms(pct(&lat, 0.5)), ms(pct(&lat, 0.99)));
    }
    let _ = serve.kill();
    let _ = serve.wait();
}
