//! Shared test support: the real binary, the real sample tools, real loopback listeners.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

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
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out: Output = child.wait_with_output().unwrap();
    let audit = std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        audit,
    }
}

pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, b"")
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A TCP listener on loopback that records what each connection sent and answers `pong`.
pub struct TcpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<u8>>>,
}

impl TcpSink {
    pub fn start(ip: &str) -> Self {
        Self::start_at(&format!("{}:0", if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() }))
    }

    pub fn start_at(addr: &str) -> Self {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                let r = r.clone();
                std::thread::spawn(move || {
                    c.set_read_timeout(Some(Duration::from_millis(300))).ok();
                    let mut buf = [0u8; 4096];
                    loop {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                r.lock().unwrap().extend_from_slice(&buf[..n]);
                                if buf[..n].contains(&b'\n') {
                                    let _ = c.write_all(b"pong\n");
                                }
                            }
                        }
                    }
                });
            }
        });
        TcpSink { addr, received }
    }

    pub fn received(&self) -> String {
        // Give connection threads a moment to record the last bytes.
        std::thread::sleep(Duration::from_millis(50));
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

/// A UDP socket on loopback that records the datagrams it receives.
pub struct UdpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<String>>>,
}

impl UdpSink {
    pub fn start() -> Self {
        Self::start_at("127.0.0.1:0")
    }

    pub fn received(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(50));
        self.received.lock().unwrap().clone()
    }
}

/// A DNS server on loopback that records every question and answers `answer` for every
/// name (or NXDOMAIN when `answer` is None).
pub struct DnsSink {
    pub addr: SocketAddr,
    questions: Arc<Mutex<Vec<String>>>,
}

impl DnsSink {
    pub fn start(answer: Option<std::net::IpAddr>) -> Self {
        use mcp_sandbox_runtime::egress::dns;
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let questions = Arc::new(Mutex::new(Vec::new()));
        let q = questions.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                let Some(question) = dns::parse_question(&buf[..n]) else { continue };
                q.lock().unwrap().push(question.name.clone());
                let addrs: Vec<_> = answer.into_iter().collect();
                let rcode = if addrs.is_empty() { dns::RCODE_NXDOMAIN } else { dns::RCODE_NOERROR };
                if let Some(resp) = dns::encode_response(&question, rcode, &addrs) {
                    let _ = sock.send_to(&resp, from);
                }
            }
        });
        DnsSink { addr, questions }
    }

    pub fn questions(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(50));
        self.questions.lock().unwrap().clone()
    }
}

/// A minimal HTTP/1.1 server on loopback: records each request (head and body) and answers
/// `200 hello from <port>`, or a redirect to `redirect_to` for the path `/redirect`.
pub struct HttpSink {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HttpSink {
    pub fn start(redirect_to: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let r = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                c.set_read_timeout(Some(Duration::from_millis(500))).ok();
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                loop {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if data.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&data).to_string();
                r.lock().unwrap().push(text.clone());
                let resp = match (&redirect_to, text.starts_with("GET /redirect ")) {
                    (Some(to), true) => format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    ),
                    _ => {
                        let body = format!("hello from {}", addr.port());
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                    }
                };
                let _ = c.write_all(resp.as_bytes());
            }
        });
        HttpSink { addr, requests }
    }

    pub fn requests(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(50));
        self.requests.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl UdpSink {
    /// A UDP sink bound at `addr` (`ip:0` for any free port).
    pub fn start_at(addr: &str) -> Self {
        Self::bind(addr, false)
    }

    /// A UDP sink on 127.0.0.1 that also answers each datagram with `echo:` and its payload.
    pub fn echoing() -> Self {
        Self::bind("127.0.0.1:0", true)
    }

    fn bind(addr: &str, echo: bool) -> Self {
        let sock = UdpSocket::bind(addr).unwrap();
        let addr = sock.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                r.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
                if echo {
                    let _ = sock.send_to(&[b"echo:", &buf[..n]].concat(), from);
                }
            }
        });
        UdpSink { addr, received }
    }
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
