//! `mcp-sandbox proxy`: runs an existing stdio MCP server in the sandbox and relays MCP
//! messages (newline-delimited JSON-RPC) between the client and it.
//!
//! The relay is transparent except for what [`super::relay`] decides:
//! * every tool in a `tools/list` result is checked against its pin ([`super::pins`]); a tool
//!   whose definition changed since it was pinned is withheld from the list;
//! * a `tools/call` for a withheld tool, or one never listed, is answered with an error by
//!   the proxy and never reaches the server (a call made before any listing waits for the
//!   proxy's own listing, judged alike: [`super::relay`]'s `prelist`);
//! * advertised annotations are replaced by what the sandbox's policy guarantees (a server
//!   cannot claim `readOnlyHint` while its grant allows writes);
//! * what the proxy cannot parse or attribute is dropped and audited, never relayed raw;
//! * every relayed and refused call is audited.
//!
//! The server runs natively (or as a component) under one grant for the whole session: its
//! files, env and egress are what the policy declares, nothing else. Its network is open only
//! while a `tools/call` is in flight (just-in-time egress, [`crate::grant::window`]; `jit:
//! false` opens it for the whole session), and what a call's arguments bind (`binds`) is granted
//! to that call while it is in flight.
//!
//! With `--learn`/`--profile`, what the server does while a call is in flight is that call's
//! observation (the union, when calls overlap), and what it does outside every call is learned
//! and judged as one more entry, `(between calls)` ([`super::relay`]'s `watch`).

use super::bind::ToolBinding;
use super::ended::{self, Tail};
use super::guard::{ResultMode, VetMode};
use super::lines::{Line, Lines};
use super::manifest::derive;
use super::pins::PinStore;
use super::relay::Relay;
use super::watch::Watch;
use crate::error::{Error, Result};
use crate::grant::window::{Bindable, WindowSpec};
use crate::invoke::{Call, Outcome, Output, Stdin};
use crate::policy::Policy;
use crate::sandbox::{Sandbox, Tool};
use crate::vet::Capabilities;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// How long a server may take to exit after the client closed its input.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// How long, once the server's sandbox ended, its last output and stderr lines are waited for
/// before its pending requests are answered for it.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Lines queued for the server's input. The client's messages wait for room (backpressure); the
/// proxy's own answers to the server (refusing a request of its) are dropped when it is full,
/// since a server that does not read its input must not make the proxy buffer without bound.
const SERVER_QUEUE: usize = 64;

/// Proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Names this server in the pins file (default: its command line).
    pub server: String,
    pub pins: PathBuf,
    pub allow_degraded: bool,
    /// What vetting does with a poisoned tool (default: withhold it).
    pub vet: VetMode,
    /// Tools that may receive secrets in their arguments (the argument guard lets them through).
    pub allow_secrets_to: Vec<String>,
    /// What happens to a result carrying instructions aimed at the model.
    pub on_injected_result: ResultMode,
    /// Just-in-time egress: the server's network open only while a `tools/call` is in flight
    /// (default); `false`: for the whole session.
    pub jit: bool,
    /// `--bind`: endpoints a call's arguments name, granted to that call while it is in flight.
    pub binds: Vec<ToolBinding>,
    /// `--learn`/`--profile`/`--quarantine`: what the server did during each call, learned and
    /// judged (see [`super::watch`]).
    pub watch: Option<Arc<Watch>>,
}

impl ProxyOptions {
    /// Options with the defaults: vetting withholds, no tool receives secrets, injected results
    /// are reported.
    pub fn new(server: String, pins: PathBuf, allow_degraded: bool) -> Self {
        ProxyOptions {
            server,
            pins,
            allow_degraded,
            vet: VetMode::default(),
            allow_secrets_to: Vec::new(),
            on_injected_result: ResultMode::default(),
            jit: true,
            binds: Vec::new(),
            watch: None,
        }
    }
}

/// The server's own program and runtime: its program, its runtime's trees, what the policy
/// grants to execute (not judged as its behaviour: see [`super::relay`]'s `watch`).
fn own(tool: &Tool, policy: &Policy) -> Vec<PathBuf> {
    let mut own = vec![tool.path().to_path_buf()];
    own.extend(tool.runtime().iter().map(|d| d.path.clone()));
    own.extend(policy.paths.iter().filter(|r| r.exec).map(|r| r.path.clone()));
    own
}

fn pipe() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))
}

/// Relays `client_in`/`client_out` to `tool` running under `policy` until either side ends.
pub async fn run(
    sandbox: &Sandbox,
    tool: &Tool,
    policy: &Policy,
    args: Vec<String>,
    options: ProxyOptions,
    client_in: impl AsyncRead + Unpin,
    client_out: impl AsyncWrite + Unpin,
) -> Result<ProxyOutcome> {
    let pins = PinStore::open(&options.pins)?;
    let (to_server_r, to_server_w) = pipe()?;
    let (from_server_r, from_server_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let bindable = options
        .binds
        .iter()
        .map(|b| Bindable {
            tool: b.tool.clone(),
            argument: b.binding.argument().to_string(),
            patterns: b.patterns().to_vec(),
        })
        .collect();
    let window = WindowSpec { jit: options.jit, bindable };
    let grant = sandbox.issue_windowed(tool, policy, None, Some(window));
    let granted = grant.grant().paths.iter().map(|p| p.path.clone()).chain([tool.path().to_path_buf()]);
    let outside = super::arg_paths::outside_grant(&args, granted);
    for o in &outside {
        eprintln!("mcp-sandbox: proxy: note: {}", o.notice());
    }
    let allow_degraded = options.allow_degraded;
    let bindings: Vec<_> = options.binds.iter().map(|b| b.binding.clone()).collect();
    let mut capabilities = super::guard::capabilities(policy);
    capabilities.network.extend(options.binds.iter().flat_map(|b| b.patterns().iter().map(ToString::to_string)));
    let observe = options.watch.as_ref().is_some_and(|w| w.observes());
    let watch = options.watch.clone();
    let relay = Relay::new(pins, options, grant.audit().clone(), derive(policy, &bindings))
        .with_capabilities(Capabilities { shared: true, ..capabilities })
        .with_window(grant.call_window())
        .with_watch(watch, grant.grant().paths.iter().map(|p| p.path.clone()).collect(), own(tool, policy));
    let handle = grant.revocation_handle();
    let call = Call {
        args,
        stdin: Stdin::Stream(Arc::new(to_server_r)),
        output: Output::Streams { stdout: Arc::new(from_server_w), stderr: Arc::new(err_w) },
        allow_degraded,
        observe,
    };
    let done = CancellationToken::new();
    let drained = CancellationToken::new();
    let server_in = tokio::net::unix::pipe::Sender::from_owned_fd(to_server_w)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let server_out = tokio::net::unix::pipe::Receiver::from_owned_fd(from_server_r)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let server_err = tokio::net::unix::pipe::Receiver::from_owned_fd(err_r)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let out = tokio::sync::Mutex::new(client_out);
    let (to_server, queued) = tokio::sync::mpsc::channel(SERVER_QUEUE);
    let client_gone = CancellationToken::new();
    let tail = std::sync::Mutex::new(Tail::default());
    let stderr_done = CancellationToken::new();
    let ended_early = std::sync::atomic::AtomicBool::new(false);
    let running = async {
        let r = sandbox.run(tool, grant, call).await;
        // What the server wrote last, and its last replies, before its pending requests are
        // answered for it (both end at once with the sandbox: wait for those signals, bounded).
        let _ = tokio::time::timeout(DRAIN_WAIT, async {
            tokio::join!(stderr_done.cancelled(), drained.cancelled());
        })
        .await;
        if !client_gone.is_cancelled() {
            ended_early.store(true, std::sync::atomic::Ordering::SeqCst);
            let lines = tail.lock().map(|t| t.lines()).unwrap_or_default();
            let (why, data) = match &r {
                Ok(o) => {
                    let fix = ended::likely_fix(&o.status, &lines, &outside);
                    eprintln!(
                        "mcp-sandbox: proxy: the server ended ({}); likely fix: {fix}",
                        ended::describe(&o.status)
                    );
                    let why = format!(
                        "the MCP server run by mcp-sandbox proxy ended ({}); likely fix: {fix}; its last stderr lines: {}",
                        ended::describe(&o.status),
                        if lines.is_empty() { "(none)".to_string() } else { lines.join(" | ") }
                    );
                    (why, serde_json::json!({ "exit_status": o.status.exit_code(), "stderr": lines }))
                }
                Err(e) => {
                    eprintln!("mcp-sandbox: proxy: the server could not start: {e}");
                    let why = format!("the MCP server run by mcp-sandbox proxy could not start: {e}");
                    (why, serde_json::json!({ "exit_status": e.exit_code(), "stderr": lines }))
                }
            };
            let answers = relay.server_ended(why, data);
            relay.close_ended().await;
            send(&out, answers).await;
        }
        done.cancel();
        r
    };
    let stderr = async {
        let mut lines = Lines::new(server_err);
        while let Ok(Some(line)) = lines.next().await {
            let text = match line {
                Line::Text(t) => t,
                Line::NotUtf8(b) => String::from_utf8_lossy(&b).into_owned(),
                Line::TooLong(n) => format!("(a line of {n} bytes)"),
            };
            eprintln!("{text}");
            if let Ok(mut t) = tail.lock() {
                t.push(&text);
            }
        }
        stderr_done.cancel();
    };
    let writer = write_server(server_in, queued, &client_gone);
    let client_tx = to_server.clone();
    let upstream = async {
        client_to_server(&relay, client_in, client_tx, &out, &done).await;
        client_gone.cancel();
        // The client is gone: the server gets a moment to exit on its own, then is stopped.
        tokio::select! {
            () = done.cancelled() => {}
            () = tokio::time::sleep(EXIT_GRACE) => handle.revoke("client disconnected"),
        }
    };
    let downstream = async {
        server_to_client(&relay, server_out, to_server, &out).await;
        drained.cancel();
    };
    let (outcome, (), (), (), ()) = tokio::join!(running, upstream, downstream, writer, stderr);
    relay.finish();
    Ok(ProxyOutcome { outcome: outcome?, ended_early: ended_early.load(std::sync::atomic::Ordering::SeqCst) })
}

/// How a proxy session ended.
#[derive(Debug)]
pub struct ProxyOutcome {
    /// The server's.
    pub outcome: Outcome,
    /// The server ended (or never started) while the client was still connected; the client's
    /// requests were answered with why.
    pub ended_early: bool,
}

/// Writes what is queued to the server's input until the client is gone (then what is queued
/// already is written and the input closed, so that the server sees its end) or the server is.
async fn write_server(
    mut server_in: impl AsyncWrite + Unpin,
    mut queued: tokio::sync::mpsc::Receiver<Vec<Value>>,
    client_gone: &CancellationToken,
) {
    loop {
        let batch = tokio::select! {
            biased;
            b = queued.recv() => match b {
                Some(b) => b,
                None => break,
            },
            () = client_gone.cancelled() => match queued.try_recv() {
                Ok(b) => b,
                Err(_) => break,
            },
        };
        if write_lines(&mut server_in, batch).await.is_err() {
            // The server is gone: senders see the channel closed.
            return;
        }
    }
    let _ = server_in.shutdown().await;
}

/// Writes messages, one per line, and flushes.
async fn write_lines(to: &mut (impl AsyncWrite + Unpin), messages: Vec<Value>) -> std::io::Result<()> {
    let mut text = String::new();
    for m in messages {
        text.push_str(&m.to_string());
        text.push('\n');
    }
    to.write_all(text.as_bytes()).await?;
    to.flush().await
}

/// Writes messages to the client; false once it is gone.
async fn send(to: &tokio::sync::Mutex<impl AsyncWrite + Unpin>, messages: Vec<Value>) -> bool {
    messages.is_empty() || write_lines(&mut *to.lock().await, messages).await.is_ok()
}

async fn client_to_server(
    relay: &Relay,
    client_in: impl AsyncRead + Unpin,
    to_server: tokio::sync::mpsc::Sender<Vec<Value>>,
    out: &tokio::sync::Mutex<impl AsyncWrite + Unpin>,
    done: &CancellationToken,
) {
    let mut lines = Lines::new(client_in);
    loop {
        let line = tokio::select! {
            l = lines.next() => match l {
                Ok(Some(l)) => l,
                _ => break,
            },
            // A server that ended by itself leaves the relay answering each request with why,
            // until the client closes its input.
            () = done.cancelled(), if !relay.has_ended() => {
                if relay.has_ended() {
                    continue;
                }
                break;
            }
        };
        let actions = relay.on_client_line(line);
        relay.close_ended().await;
        // Replies to the client failing means it is gone; its input's end will follow.
        send(out, actions.to_client).await;
        if !actions.to_server.is_empty() && to_server.send(actions.to_server).await.is_err() {
            break;
        }
    }
}

async fn server_to_client(
    relay: &Relay,
    server_out: impl AsyncRead + Unpin,
    to_server: tokio::sync::mpsc::Sender<Vec<Value>>,
    out: &tokio::sync::Mutex<impl AsyncWrite + Unpin>,
) {
    let mut lines = Lines::new(server_out);
    while let Ok(Some(line)) = lines.next().await {
        let actions = relay.on_server_line(line);
        // A call's end closes its window before its reply reaches the client.
        relay.close_ended().await;
        if !actions.to_server.is_empty()
            && let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = to_server.try_send(actions.to_server)
        {
            relay.server_not_reading();
        }
        if !send(out, actions.to_client).await {
            break;
        }
    }
}
