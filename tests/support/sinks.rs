//! Loopback listeners that record what reaches them, and settle before every read (see
//! `SETTLE`): the judges of every network test.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a listener may take to show that it has processed everything sent to it before a
/// control message of ours: far above what a loaded machine needs, and waited in full only
/// when something is broken (then the test fails, never passes).
const SETTLE: Duration = Duration::from_secs(20);

/// A fresh number for each control message (barrier) sent to a sink.
fn barrier_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A sink's state, shared by its threads and the test, with a signal on every change.
struct Shared<T> {
    state: Mutex<T>,
    changed: Condvar,
}

impl<T> Shared<T> {
    fn new(state: T) -> Arc<Self> {
        Arc::new(Shared { state: Mutex::new(state), changed: Condvar::new() })
    }

    fn update(&self, f: impl FnOnce(&mut T)) {
        f(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }

    /// Waits up to `within` for `ready`; `None` if it did not come.
    fn wait<R>(&self, within: Duration, ready: impl Fn(&T) -> Option<R>) -> Option<R> {
        let deadline = Instant::now() + within;
        let mut s = self.state.lock().unwrap();
        loop {
            if let Some(r) = ready(&s) {
                return Some(r);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = self.changed.wait_timeout(s, left).unwrap().0;
        }
    }

    /// Waits for `ready`, panicking (the test fails) if the sink does not get there in time.
    fn settle<R>(&self, what: &str, ready: impl Fn(&T) -> Option<R>) -> R {
        self.wait(SETTLE, ready).unwrap_or_else(|| panic!("the {what} did not settle within {SETTLE:?}"))
    }
}

/// A TCP listener that records what each connection sent and answers `pong` to each line.
///
/// Every read (`received`, `connections`) first settles: it opens a control connection of its
/// own and waits until the listener has accepted it and every connection accepted before it
/// has been read to its end. Connections are accepted in the order they were established, so
/// whatever a finished tool sent is in what it reads: "nothing arrived" is never a guess.
pub struct TcpSink {
    pub addr: SocketAddr,
    shared: Arc<Shared<TcpState>>,
}

#[derive(Default)]
struct TcpState {
    /// What the connections sent, in the order it was read.
    received: Vec<u8>,
    /// Each accepted connection, in order: its peer, and whether it has been read to its end.
    conns: Vec<(SocketAddr, bool)>,
    /// The peers of our own control connections.
    controls: Vec<SocketAddr>,
}

impl TcpSink {
    pub fn start(ip: &str) -> Self {
        Self::start_at(&format!("{}:0", if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() }))
    }

    pub fn start_at(addr: &str) -> Self {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared::new(TcpState::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                let peer = c.peer_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                let mut index = 0;
                s.update(|st| {
                    index = st.conns.len();
                    st.conns.push((peer, false));
                });
                let s = s.clone();
                std::thread::spawn(move || {
                    c.set_read_timeout(Some(Duration::from_millis(300))).ok();
                    let mut buf = [0u8; 4096];
                    loop {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                s.update(|st| st.received.extend_from_slice(&buf[..n]));
                                if buf[..n].contains(&b'\n') {
                                    let _ = c.write_all(b"pong\n");
                                }
                            }
                        }
                    }
                    s.update(|st| st.conns[index].1 = true);
                });
            }
        });
        TcpSink { addr, shared }
    }

    /// Settles (see the type), then reads the state.
    fn settled<R>(&self, read: impl Fn(&TcpState, usize) -> R) -> R {
        let control = TcpStream::connect(self.addr).expect("a control connection to the sink");
        let me = control.local_addr().unwrap();
        drop(control);
        self.shared.update(|st| st.controls.push(me));
        self.shared.settle("TCP sink", |st| {
            let k = st.conns.iter().rposition(|(peer, _)| *peer == me)?;
            st.conns[..=k].iter().all(|(_, done)| *done).then(|| read(st, k))
        })
    }

    /// What every connection sent, once settled.
    pub fn received(&self) -> String {
        self.settled(|st, _| String::from_utf8_lossy(&st.received).into_owned())
    }

    /// How many connections (other than our own control connections) were accepted, once settled.
    pub fn connections(&self) -> usize {
        self.settled(|st, k| st.conns[..k].iter().filter(|(peer, _)| !st.controls.contains(peer)).count())
    }
}

/// The payload of a control datagram: a prefix no test sends, then the barrier's number.
const UDP_CONTROL: &str = "\0sink-control:";

/// A UDP socket that records the datagrams it receives. Every read first settles: it sends a
/// control datagram of its own and waits until the sink has processed it (datagrams are
/// processed in the order they were queued).
pub struct UdpSink {
    pub addr: SocketAddr,
    shared: Arc<Shared<UdpState>>,
}

#[derive(Default)]
struct UdpState {
    received: Vec<String>,
    controls: Vec<u64>,
}

impl UdpSink {
    pub fn start() -> Self {
        Self::start_at("127.0.0.1:0")
    }

    pub fn received(&self) -> Vec<String> {
        let id = barrier_id();
        let from = UdpSocket::bind(if self.addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }).unwrap();
        let deadline = Instant::now() + SETTLE;
        // Resent every second in the unlikely case a datagram is lost.
        while Instant::now() < deadline {
            from.send_to(format!("{UDP_CONTROL}{id}").as_bytes(), self.addr).unwrap();
            let seen =
                self.shared.wait(Duration::from_secs(1), |st| st.controls.contains(&id).then(|| st.received.clone()));
            if let Some(received) = seen {
                return received;
            }
        }
        panic!("the UDP sink did not settle within {SETTLE:?}");
    }
}

/// The domain of the names the DNS sink's control queries ask for (reserved: never a real name).
const DNS_CONTROL: &str = ".sink-control.invalid";

/// A DNS server on loopback that records every question and answers `answer` for every
/// name (or NXDOMAIN when `answer` is None). Every read first settles with a control query.
pub struct DnsSink {
    pub addr: SocketAddr,
    shared: Arc<Shared<Vec<String>>>,
}

impl DnsSink {
    pub fn start(answer: Option<std::net::IpAddr>) -> Self {
        use mcp_sandbox_runtime::egress::dns;
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let shared = Shared::new(Vec::new());
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                let Some(question) = dns::parse_question(&buf[..n]) else { continue };
                s.update(|q| q.push(question.name.clone()));
                let addrs: Vec<_> = answer.into_iter().collect();
                let rcode = if addrs.is_empty() { dns::RCODE_NXDOMAIN } else { dns::RCODE_NOERROR };
                if let Some(resp) = dns::encode_response(&question, rcode, &addrs) {
                    let _ = sock.send_to(&resp, from);
                }
            }
        });
        DnsSink { addr, shared }
    }

    /// The names asked for (other than our control queries), once settled.
    pub fn questions(&self) -> Vec<String> {
        use mcp_sandbox_runtime::egress::dns;
        let name = format!("barrier-{}{DNS_CONTROL}", barrier_id());
        let query = dns::encode_query(0x5151, &name, 1).unwrap();
        let from = UdpSocket::bind("127.0.0.1:0").unwrap();
        let deadline = Instant::now() + SETTLE;
        while Instant::now() < deadline {
            from.send_to(&query, self.addr).unwrap();
            let seen = self.shared.wait(Duration::from_secs(1), |q| {
                q.contains(&name).then(|| q.iter().filter(|n| !n.ends_with(DNS_CONTROL)).cloned().collect())
            });
            if let Some(questions) = seen {
                return questions;
            }
        }
        panic!("the DNS sink did not settle within {SETTLE:?}");
    }
}

/// The path of the HTTP sink's control requests.
const HTTP_CONTROL: &str = "/.sink-control-";

/// A minimal HTTP/1.1 server on loopback: records each request (head and body) and answers
/// `200 hello from <port>`, or a redirect to `redirect_to` for the path `/redirect`. It serves
/// one connection at a time, so every read first settles with a control request of its own:
/// once that is answered, every connection accepted before it has been recorded.
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

    /// The requests received (other than our control requests), once settled.
    pub fn requests(&self) -> Vec<String> {
        let path = format!("{HTTP_CONTROL}{}", barrier_id());
        let mut c = TcpStream::connect(self.addr).expect("a control connection to the HTTP sink");
        c.set_read_timeout(Some(SETTLE)).unwrap();
        write!(c, "GET {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: 0\r\n\r\n", self.addr).unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).expect("the HTTP sink answers its control request");
        assert!(answer.starts_with("HTTP/1.1 200"), "the HTTP sink did not settle: {answer}");
        let requests = self.requests.lock().unwrap();
        assert!(requests.iter().any(|r| r.starts_with(&format!("GET {path} "))), "the control request is recorded");
        requests.iter().filter(|r| !r.starts_with(&format!("GET {HTTP_CONTROL}"))).cloned().collect()
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
        let shared = Shared::new(UdpState::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some(id) = text.strip_prefix(UDP_CONTROL).and_then(|id| id.parse().ok()) {
                    s.update(|st| st.controls.push(id));
                    continue;
                }
                s.update(|st| st.received.push(text));
                if echo {
                    let _ = sock.send_to(&[b"echo:", &buf[..n]].concat(), from);
                }
            }
        });
        UdpSink { addr, shared }
    }
}
