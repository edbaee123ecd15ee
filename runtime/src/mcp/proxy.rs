//! `mcp-sandbox proxy`: runs an existing stdio MCP server in the sandbox and relays MCP
//! messages (newline-delimited JSON-RPC) between the client and it.
//!
//! The relay is transparent except for tools:
//! * every tool in a `tools/list` result is checked against its pin ([`super::pins`]); a tool
//!   whose definition changed since it was pinned is withheld from the list;
//! * a `tools/call` for a withheld tool, or one never listed, is answered with an error by
//!   the proxy and never reaches the server;
//! * advertised annotations are replaced by what the sandbox's policy guarantees (a server
//!   cannot claim `readOnlyHint` while its grant allows writes);
//! * every relayed and refused call is audited.
//!
//! The server runs natively (or as a component) under one grant for the whole session:
//! its files, env and egress are what the policy declares, nothing else.

use super::lines::{Line, Lines};
use super::manifest::{Derived, derive};
use super::pins::{PinStore, Verdict};
use crate::audit::{Auditor, Capability, EventKind};
use crate::error::{Error, Result};
use crate::invoke::{Call, Outcome, Output, Stdin};
use crate::policy::Policy;
use crate::sandbox::{Sandbox, Tool};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// How long a server may take to exit after the client closed its input.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Names this server in the pins file (default: its command line).
    pub server: String,
    pub pins: PathBuf,
    pub allow_degraded: bool,
}

/// What the relay knows about the server's tools.
#[derive(Debug, Default)]
struct ToolsState {
    /// Ids of the client's `tools/list` requests in flight.
    listing: HashSet<String>,
    /// Tools listed and allowed.
    allowed: HashSet<String>,
    /// Tools withheld, with why.
    withheld: HashMap<String, String>,
}

struct Relay {
    state: Mutex<ToolsState>,
    pins: Mutex<PinStore>,
    options: ProxyOptions,
    audit: Auditor,
    derived: Derived,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
) -> Result<Outcome> {
    let pins = PinStore::open(&options.pins)?;
    let (to_server_r, to_server_w) = pipe()?;
    let (from_server_r, from_server_w) = pipe()?;
    let grant = sandbox.issue(tool, policy, None);
    let relay = Relay {
        state: Mutex::default(),
        pins: Mutex::new(pins),
        options,
        audit: grant.audit().clone(),
        derived: derive(policy, &[]),
    };
    let handle = grant.revocation_handle();
    let call = Call {
        args,
        stdin: Stdin::Stream(Arc::new(to_server_r)),
        output: Output::Stream(Arc::new(from_server_w)),
        allow_degraded: relay.options.allow_degraded,
    };
    let done = CancellationToken::new();
    let server_in = tokio::net::unix::pipe::Sender::from_owned_fd(to_server_w)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let server_out = tokio::net::unix::pipe::Receiver::from_owned_fd(from_server_r)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let out = tokio::sync::Mutex::new(client_out);
    let running = async {
        let r = sandbox.run(tool, grant, call).await;
        done.cancel();
        r
    };
    let upstream = async {
        relay.client_to_server(client_in, server_in, &out, &done).await;
        // The client is gone: the server gets a moment to exit on its own, then is stopped.
        tokio::select! {
            () = done.cancelled() => {}
            () = tokio::time::sleep(EXIT_GRACE) => handle.revoke("client disconnected"),
        }
    };
    let downstream = relay.server_to_client(server_out, &out);
    let (outcome, (), ()) = tokio::join!(running, upstream, downstream);
    outcome
}

fn request_id(msg: &Value) -> Option<String> {
    msg.get("id").filter(|_| msg.get("method").is_some()).map(Value::to_string)
}

fn error_reply(id: &Value, message: String) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32602, "message": message } })
}

impl Relay {
    async fn client_to_server(
        &self,
        client_in: impl AsyncRead + Unpin,
        mut server_in: impl AsyncWrite + Unpin,
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
                () = done.cancelled() => break,
            };
            let (forward, replies) = match line {
                Line::Text(line) => self.on_client_line(&line),
                Line::TooLong(len) => {
                    self.refuse_message("from the client", len);
                    (None, vec![Line::too_long_reply(len)])
                }
            };
            for r in replies {
                let mut o = out.lock().await;
                let _ = o.write_all(format!("{r}\n").as_bytes()).await;
                let _ = o.flush().await;
            }
            if let Some(f) = forward
                && (server_in.write_all(f.as_bytes()).await.is_err() || server_in.write_all(b"\n").await.is_err())
            {
                break;
            }
        }
        let _ = server_in.shutdown().await;
    }

    async fn server_to_client(
        &self,
        server_out: impl AsyncRead + Unpin,
        out: &tokio::sync::Mutex<impl AsyncWrite + Unpin>,
    ) {
        let mut lines = Lines::new(server_out);
        while let Ok(Some(line)) = lines.next().await {
            let line = match line {
                Line::Text(line) => self.on_server_line(line),
                Line::TooLong(len) => {
                    // The client cannot be told which request it answered: dropped, and said.
                    self.refuse_message("from the server", len);
                    continue;
                }
            };
            let mut o = out.lock().await;
            if o.write_all(line.as_bytes()).await.is_err() || o.write_all(b"\n").await.is_err() {
                break;
            }
            let _ = o.flush().await;
        }
    }

    /// A message over the bound, dropped: on stderr and in the audit log.
    fn refuse_message(&self, from: &str, len: usize) {
        let why = super::lines::too_long_message(len);
        eprintln!("mcp-sandbox: proxy: {why} ({from})");
        self.audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(format!("message {from}")), Some(why), None);
    }

    /// A client message: what to forward (if anything) and what to answer directly.
    fn on_client_line(&self, line: &str) -> (Option<String>, Vec<Value>) {
        let Ok(parsed) = serde_json::from_str::<Value>(line) else {
            // Not ours to judge: the server answers malformed input itself.
            return (Some(line.to_string()), Vec::new());
        };
        let batch = parsed.is_array();
        let messages = match parsed {
            Value::Array(items) => items,
            single => vec![single],
        };
        let (mut forward, mut replies) = (Vec::new(), Vec::new());
        for m in messages {
            match self.check_request(&m) {
                Ok(()) => forward.push(m),
                Err(reply) => replies.push(reply),
            }
        }
        let forward = match (batch, forward.len()) {
            (_, 0) => None,
            (false, _) => forward.pop().map(|m| m.to_string()),
            (true, _) => Some(Value::Array(forward).to_string()),
        };
        (forward, replies)
    }

    fn check_request(&self, m: &Value) -> Result<(), Value> {
        let method = m.get("method").and_then(Value::as_str).unwrap_or("");
        let mut state = lock(&self.state);
        if method == "tools/list"
            && let Some(id) = request_id(m)
        {
            state.listing.insert(id);
        }
        if method != "tools/call" {
            return Ok(());
        }
        let name = m.pointer("/params/name").and_then(Value::as_str).unwrap_or("").to_string();
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        let refusal = if let Some(why) = state.withheld.get(&name) {
            Some(format!(
                "tool `{name}` is withheld: {why}; review it, then `mcp-sandbox pins approve --pins {} --server {:?} {name}`",
                self.options.pins.display(),
                self.options.server
            ))
        } else if !state.allowed.contains(&name) {
            Some(format!("tool `{name}` has not been listed (and pinned); list the tools first"))
        } else {
            None
        };
        match refusal {
            Some(message) => {
                self.audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(name), Some(message.clone()), None);
                Err(error_reply(&id, message))
            }
            None => {
                self.audit.allow(Capability::McpTool, name, "relayed to the sandboxed server");
                Ok(())
            }
        }
    }

    /// A server message, rewritten if it answers one of the client's `tools/list` requests.
    fn on_server_line(&self, line: String) -> String {
        let Ok(mut msg) = serde_json::from_str::<Value>(&line) else { return line };
        let is_listing = msg.get("method").is_none()
            && msg.get("id").is_some_and(|id| lock(&self.state).listing.remove(&id.to_string()));
        let Some(tools) = msg.pointer_mut("/result/tools").and_then(Value::as_array_mut).filter(|_| is_listing) else {
            return line;
        };
        let mut pins = lock(&self.pins);
        let _file_lock = PinStore::lock(&self.options.pins).map_err(|e| eprintln!("mcp-sandbox: warning: {e}"));
        // Approvals (and other proxies' pins) written since we last looked take effect now.
        if let Ok(fresh) = PinStore::open(&self.options.pins) {
            *pins = fresh;
        }
        let mut state = lock(&self.state);
        tools.retain_mut(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            match pins.check(&self.options.server, tool) {
                Verdict::Changed { pinned, now } => {
                    let why = format!("its definition changed since it was pinned (sha256 {pinned} -> {now})");
                    eprintln!("mcp-sandbox: withheld tool `{name}`: {why}");
                    self.audit.emit(
                        EventKind::Deny,
                        Some(Capability::McpTool),
                        Some(name.clone()),
                        Some(why.clone()),
                        None,
                    );
                    state.allowed.remove(&name);
                    state.withheld.insert(name, why);
                    false
                }
                verdict => {
                    if verdict == Verdict::FirstSeen {
                        self.audit.allow(Capability::McpTool, name.clone(), "pinned on first sight");
                    }
                    state.withheld.remove(&name);
                    state.allowed.insert(name);
                    self.annotate(tool);
                    true
                }
            }
        });
        if let Err(e) = pins.save() {
            eprintln!("mcp-sandbox: warning: {e}");
        }
        msg.to_string()
    }

    /// Replaces a tool's safety annotations by what the sandbox guarantees.
    fn annotate(&self, tool: &mut Value) {
        let d = self.derived;
        let Some(obj) = tool.as_object_mut() else { return };
        let mut a = obj.get("annotations").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        a["readOnlyHint"] = json!(d.read_only);
        a["destructiveHint"] = json!(d.destructive);
        a["openWorldHint"] = json!(d.open_world);
        if !d.read_only
            && let Some(m) = a.as_object_mut()
        {
            m.remove("idempotentHint");
        }
        obj.insert("annotations".into(), a);
    }
}
