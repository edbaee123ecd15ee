//! What `proxy` does with each message, in both directions (the I/O is in [`super::proxy`]).
//!
//! The proxy fails closed toward the client: it relays only messages it parsed strictly
//! ([`super::wire::parse`]) and re-serialised itself, and a server reply only if it answers, by
//! an id the proxy gave, a request the proxy made and has not seen answered.
//!
//! * Client requests get a proxy-assigned integer id on their way to the server (mapped back on
//!   the way out), so every reply is attributed exactly or not at all: `"3"`, `3.0`, an id never
//!   sent or a second reply to one request answers nothing and is dropped.
//! * A server line that is not strict JSON (invalid UTF-8, nesting past 128, a lone surrogate
//!   escape) or not a JSON-RPC 2.0 message is dropped, said on stderr and audited. If its `id`
//!   can still be read exactly, the client's request gets an error instead of no answer.
//! * A server batch (JSON array) is taken apart: each element goes through the same rules and
//!   is relayed as a message of its own. Client batches are refused (MCP 2025-06-18 removed
//!   batching; the Python SDK neither sends nor reads them).
//! * Only an attributed reply to the client's `tools/list` may carry tools; its definitions are
//!   checked against their pins ([`super::pins`]), changed ones withheld. Any other message
//!   with `result.tools` or `params.tools` is refused; the definitions a refused message carried
//!   are still compared with the pins, and a changed one is withheld too.
//! * Each `tools/call` relayed opens the grant's just-in-time network window until it ends
//!   ([`jit`]: its reply relayed, its cancellation, the server's end), with what `--bind` binds.
//! * With `--learn`/`--profile`, what the server did while a call was in flight is that call's
//!   observation, learned and judged ([`watch`]); a tool quarantined for it is withheld as a
//!   changed one is.

use super::lines::{Line, too_long_message};
use super::manifest::Derived;
use super::pins::PinStore;
use super::proxy::ProxyOptions;
use super::wire;
use crate::audit::{Auditor, Capability, EventKind};
use crate::grant::{BoundEndpoint, CallWindow};
use crate::vet::Capabilities;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Client requests awaiting the server's reply, at most. Beyond, a request is answered with an
/// error by the proxy (a server that never answers cannot make the proxy's table grow forever).
pub const MAX_IN_FLIGHT: usize = 4096;

/// Server messages dropped that are reported one by one (stderr and audit); beyond, they are
/// counted, and the count is audited when the session ends.
pub const MAX_DROPS_REPORTED: u64 = 64;

/// What one line asks the proxy to send.
#[derive(Debug, Default)]
pub struct Actions {
    pub to_server: Vec<Value>,
    pub to_client: Vec<Value>,
}

impl Actions {
    fn client(v: Value) -> Self {
        Actions { to_server: Vec::new(), to_client: vec![v] }
    }
    fn server(v: Value) -> Self {
        Actions { to_server: vec![v], to_client: Vec::new() }
    }
}

/// A client request the server has not answered.
#[derive(Debug)]
struct InFlight {
    client_id: Value,
    method: String,
    /// The tool a `tools/call` named.
    tool: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    /// Keyed by the id the proxy gave the request.
    in_flight: HashMap<u64, InFlight>,
    /// Tools listed and allowed.
    allowed: HashSet<String>,
    /// Tools withheld, with why.
    withheld: HashMap<String, String>,
    /// Server messages dropped so far.
    dropped: u64,
    /// Definitions (sha256) whose vetting was reported this session.
    vetted: HashSet<String>,
    /// The server ended: why (each request from now on is answered with it).
    ended: Option<(String, Value)>,
    /// Calls that ended, whose windows close at the next `close_ended`: (id, tool, why).
    ending: Vec<(u64, String, String)>,
    /// `--bind` was checked against a listing.
    binds_checked: bool,
    /// The definitions of the tools allowed, as the server listed them (what a quarantine
    /// holds for review).
    definitions: HashMap<String, Value>,
    /// Calls made before any listing, and the proxy's own listing for them ([`prelist`]).
    prelist: prelist::Prelist,
}

pub struct Relay {
    state: Mutex<State>,
    pins: Mutex<PinStore>,
    options: ProxyOptions,
    audit: Auditor,
    derived: Derived,
    /// What the server's policy grants, as vetting sees it.
    capabilities: Capabilities,
    /// The grant's just-in-time window, opened by calls in flight.
    window: Option<CallWindow>,
    /// Behaviour profiles: what the server did, attributed to its calls ([`watch`]).
    watch: Option<watch::ProxyWatch>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

mod drops;
mod ended;
mod jit;
mod prelist;
#[cfg(test)]
mod tests;
mod tools;
mod vetting;
mod watch;

use tools::carried_tools;

impl Relay {
    pub fn new(pins: PinStore, options: ProxyOptions, audit: Auditor, derived: Derived) -> Self {
        Relay {
            state: Mutex::default(),
            pins: Mutex::new(pins),
            options,
            audit,
            derived,
            capabilities: Capabilities::default(),
            window: None,
            watch: None,
        }
    }

    /// The window the server's calls open (`proxy`'s just-in-time egress).
    #[must_use]
    pub fn with_window(mut self, window: Option<CallWindow>) -> Self {
        self.window = window;
        self
    }

    /// What the server's policy grants: the context tools are vetted in.
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    // ---- from the client ----

    /// One line from the client.
    pub fn on_client_line(&self, line: Line) -> Actions {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong(len) => {
                let why = too_long_message(len);
                eprintln!("mcp-sandbox: proxy: {why} (from the client)");
                self.audit.emit(
                    EventKind::Deny,
                    Some(Capability::McpTool),
                    Some("message from the client".into()),
                    Some(why),
                    None,
                );
                return Actions::client(Line::too_long_reply(len));
            }
            Line::NotUtf8(_) => return Actions::client(wire::not_utf8_error()),
        };
        if text.trim().is_empty() {
            return Actions::default();
        }
        match wire::parse(&text) {
            Err(why) => Actions::client(wire::parse_error(&why)),
            Ok(Value::Array(items)) => Self::client_batch(&items),
            Ok(Value::Object(m)) => self.client_message(m),
            Ok(_) => {
                Actions::client(wire::error(Value::Null, wire::INVALID_REQUEST, "a JSON-RPC message is an object"))
            }
        }
    }

    /// Batches are refused: each request in it gets an error naming its id.
    fn client_batch(items: &[Value]) -> Actions {
        let why = "batches are not supported (MCP 2025-06-18 removed them): send each message on a line of its own";
        let mut replies: Vec<Value> = items
            .iter()
            .filter(|m| m.get("method").is_some())
            .filter_map(|m| m.get("id").filter(|id| wire::valid_id(id)))
            .map(|id| wire::error(id.clone(), wire::INVALID_REQUEST, why))
            .collect();
        if replies.is_empty() {
            replies.push(wire::error(Value::Null, wire::INVALID_REQUEST, why));
        }
        Actions { to_server: Vec::new(), to_client: replies }
    }

    fn client_message(&self, mut m: Map<String, Value>) -> Actions {
        let invalid = |why: &str| Actions::client(wire::error(Value::Null, wire::INVALID_REQUEST, why));
        match (m.get("method"), m.get("id")) {
            (Some(Value::String(method)), Some(id)) => {
                if !wire::valid_id(id) {
                    return invalid(
                        "invalid request: the id must be a string or an integer (MCP: not null, not fractional)",
                    );
                }
                let (method, id) = (method.clone(), id.clone());
                if let Some((why, data)) = lock(&self.state).ended.clone() {
                    return Actions::client(ended::ended_error(id, &why, data));
                }
                // The bound first: a call refused here must not be audited as relayed.
                if lock(&self.state).in_flight.len() >= MAX_IN_FLIGHT {
                    let why = format!(
                        "{MAX_IN_FLIGHT} requests are awaiting the server's reply: the proxy's limit; wait for replies (or cancel requests) first"
                    );
                    self.audit.emit(EventKind::Limit, Some(Capability::McpTool), Some(method), Some(why.clone()), None);
                    return Actions::client(wire::error(id, wire::INTERNAL_ERROR, why));
                }
                if let Some(held) = self.hold_unlisted(&method, &m) {
                    return held;
                }
                let bound = match self.check_request(&method, &m, &id) {
                    Ok(bound) => bound,
                    Err(reply) => return Actions::client(reply),
                };
                let call = method == "tools/call";
                let tool = call
                    .then(|| m.get("params").and_then(|p| p.get("name")).and_then(Value::as_str).map(str::to_string))
                    .flatten();
                let mut state = lock(&self.state);
                state.next_id += 1;
                let proxy_id = state.next_id;
                state.in_flight.insert(proxy_id, InFlight { client_id: id.clone(), method, tool: tool.clone() });
                drop(state);
                if call {
                    // Before the call reaches the server: its window is open when it starts.
                    self.call_started(proxy_id, tool.as_deref().unwrap_or(""), &id, bound);
                }
                m.insert("id".into(), proxy_id.into());
                Actions::server(Value::Object(m))
            }
            (Some(Value::String(method)), None) => {
                if method != "notifications/cancelled" {
                    return Actions::server(Value::Object(m));
                }
                // The id it names is the client's: cancel what the server knows under the
                // proxy's id (nothing if that request is no longer in flight).
                let named = m.get("params").and_then(|p| p.get("requestId")).cloned().unwrap_or(Value::Null);
                self.drop_held(&named);
                let state = lock(&self.state);
                let ours: Vec<(u64, Option<String>)> = state
                    .in_flight
                    .iter()
                    .filter(|(_, f)| f.client_id == named)
                    .map(|(k, f)| (*k, f.tool.clone()))
                    .collect();
                drop(state);
                let to_server = ours
                    .into_iter()
                    .map(|(pid, tool)| {
                        self.call_ended(pid, tool.as_deref(), "cancelled by the client");
                        let mut n = m.clone();
                        if let Some(p) = n.get_mut("params").and_then(Value::as_object_mut) {
                            p.insert("requestId".into(), pid.into());
                        }
                        Value::Object(n)
                    })
                    .collect();
                Actions { to_server, to_client: Vec::new() }
            }
            (Some(_), _) => invalid("invalid request: the method must be a string"),
            // A reply to a request the server sent: its id is the server's own.
            (None, Some(_)) if m.contains_key("result") != m.contains_key("error") => Actions::server(Value::Object(m)),
            (None, _) => {
                eprintln!(
                    "mcp-sandbox: proxy: dropped a message from the client that is neither a request, a notification nor a reply"
                );
                Actions::default()
            }
        }
    }

    /// Refuses calls to tools withheld or never listed; what a call's arguments bind.
    fn check_request(&self, method: &str, m: &Map<String, Value>, id: &Value) -> Result<Vec<BoundEndpoint>, Value> {
        if method != "tools/call" {
            return Ok(Vec::new());
        }
        let name = m.get("params").and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or("").to_string();
        let state = lock(&self.state);
        let refusal = if let Some(why) = state.withheld.get(&name) {
            Some(format!(
                "tool `{name}` is withheld: {why}; review it (`mcp-sandbox pins list --pins {0}`), then `mcp-sandbox pins approve --pins {0} --server {1:?} {name}`",
                self.options.pins.display(),
                self.options.server
            ))
        } else if !state.allowed.contains(&name) {
            Some(if state.prelist.listed {
                format!("tool `{name}` is not among the tools the server listed: no such tool")
            } else {
                format!("tool `{name}` has not been listed (and pinned); list the tools first")
            })
        } else {
            None
        };
        drop(state);
        let mut bound = Vec::new();
        if refusal.is_none() {
            self.guard_call(&name, m.get("params"), id)?;
            bound = self.bind_call(&name, m.get("params"), id)?;
        }
        match refusal {
            Some(message) => {
                self.audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(name), Some(message.clone()), None);
                Err(wire::error(id.clone(), wire::INVALID_PARAMS, message))
            }
            None => {
                self.audit.allow(Capability::McpTool, name, "relayed to the sandboxed server");
                Ok(bound)
            }
        }
    }

    // ---- from the server ----

    /// One line from the server.
    pub fn on_server_line(&self, line: Line) -> Actions {
        let text = match line {
            Line::Text(t) => t,
            // Skipped unread: neither attributable nor inspectable.
            Line::TooLong(len) => {
                self.dropped(&too_long_message(len));
                return Actions::default();
            }
            Line::NotUtf8(bytes) => return self.unreadable(&bytes, "the line is not valid UTF-8"),
        };
        if text.trim().is_empty() {
            return Actions::default();
        }
        match wire::parse(&text) {
            Err(why) => self.unreadable(text.as_bytes(), &format!("the line is not strict JSON: {why}")),
            Ok(Value::Array(items)) => {
                if items.is_empty() {
                    self.dropped("an empty batch");
                }
                let mut all = Actions::default();
                for item in items {
                    let a = self.server_message(item);
                    all.to_client.extend(a.to_client);
                    all.to_server.extend(a.to_server);
                }
                all
            }
            Ok(m) => self.server_message(m),
        }
    }

    /// A line that failed the strict parse: dropped; what it carried is still compared with
    /// the pins, and the request it answers (if its id reads exactly) gets an error.
    fn unreadable(&self, bytes: &[u8], why: &str) -> Actions {
        self.dropped(why);
        if let Some(v) = wire::lenient(bytes) {
            let items = match v {
                Value::Array(items) => items,
                one => vec![one],
            };
            for m in items.iter().filter_map(Value::as_object) {
                self.inspect(m, why);
            }
        }
        match wire::probe_id(bytes) {
            Some(pid) => self.refuse_reply(pid, why),
            None => Actions::default(),
        }
    }

    /// Answers the client's request `pid` with an error instead of the server's reply.
    fn refuse_reply(&self, pid: u64, why: &str) -> Actions {
        let Some(f) = lock(&self.state).in_flight.remove(&pid) else { return Actions::default() };
        self.call_ended(pid, f.tool.as_deref(), "the server replied; the proxy refused the reply");
        Actions::client(wire::error(
            f.client_id,
            wire::INTERNAL_ERROR,
            format!("the server's reply to `{}` was refused by the proxy: {why}", f.method),
        ))
    }

    fn server_message(&self, msg: Value) -> Actions {
        let Value::Object(mut m) = msg else {
            self.dropped("a message that is not a JSON object");
            return Actions::default();
        };
        if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            let why = "not a JSON-RPC 2.0 message (no \"jsonrpc\": \"2.0\")";
            self.dropped(why);
            self.inspect(&m, why);
            return match wire::integer_id(&m).filter(|_| !m.contains_key("method")) {
                Some(pid) => self.refuse_reply(pid, why),
                None => Actions::default(),
            };
        }
        if let Some(method) = m.get("method") {
            let Some(method) = method.as_str().map(str::to_string) else {
                self.dropped("a request whose method is not a string");
                return Actions::default();
            };
            let id = m.get("id").cloned();
            if id.as_ref().is_some_and(|id| !wire::valid_id(id)) {
                self.dropped(&format!("a `{method}` request whose id is not a string or an integer"));
                return Actions::default();
            }
            if carried_tools(&m).is_some() {
                let why =
                    format!("a `{method}` message from the server carries tools (only a reply to `tools/list` may)");
                self.dropped(&why);
                self.inspect(&m, &why);
                // The server's request is answered, so that it does not wait.
                return match id {
                    Some(id) => Actions::server(wire::error(
                        id,
                        wire::INVALID_REQUEST,
                        format!("refused by mcp-sandbox proxy: {why}"),
                    )),
                    None => Actions::default(),
                };
            }
            // Requests (sampling, elicitation, …) and notifications, rebuilt from what was read.
            let mut out = Map::new();
            out.insert("jsonrpc".into(), "2.0".into());
            if let Some(id) = id {
                out.insert("id".into(), id);
            }
            out.insert("method".into(), method.into());
            if let Some(p) = m.remove("params") {
                out.insert("params".into(), p);
            }
            return Actions::client(Value::Object(out));
        }
        // A reply: to a request in flight, by the proxy's id exactly.
        let pid = wire::integer_id(&m);
        if let Some(actions) = self.prelisted(pid, &mut m) {
            return actions;
        }
        let Some(f) = pid.and_then(|pid| lock(&self.state).in_flight.remove(&pid)) else {
            let why = format!(
                "a reply whose id ({}) answers no request in flight (the proxy's ids are integers; each is answered once)",
                m.get("id").map_or_else(|| "missing".to_string(), Value::to_string)
            );
            self.dropped(&why);
            self.inspect(&m, &why);
            return Actions::default();
        };
        if let Some(pid) = pid {
            // Before the reply reaches the client: once it has it, the window is closed.
            self.call_ended(pid, f.tool.as_deref(), "the server replied");
            self.watch_reply(pid, &m);
        }
        let refuse = |why: String| {
            self.dropped(&why);
            wire::error(
                f.client_id.clone(),
                wire::INTERNAL_ERROR,
                format!("the server's reply to `{}` was refused by the proxy: {why}", f.method),
            )
        };
        let body = match (m.remove("result"), m.remove("error")) {
            (Some(result), None) => {
                if f.method == "tools/list" {
                    self.listed();
                    match self.listing(result) {
                        Ok(r) => ("result", r),
                        Err(why) => return Actions::client(refuse(why)),
                    }
                } else if result.get("tools").is_some() {
                    let why = format!("the reply to `{}` carries tools (only a reply to `tools/list` may)", f.method);
                    let mut carrier = Map::new();
                    carrier.insert("result".into(), result);
                    self.inspect(&carrier, &why);
                    return Actions::client(refuse(why));
                } else if f.method == "tools/call" {
                    ("result", self.guard_result(f.tool.as_deref(), result))
                } else {
                    ("result", result)
                }
            }
            (None, Some(error)) => ("error", error),
            _ => return Actions::client(refuse("a reply needs exactly one of `result` and `error`".into())),
        };
        let mut out = Map::new();
        out.insert("jsonrpc".into(), "2.0".into());
        out.insert("id".into(), f.client_id);
        out.insert(body.0.into(), body.1);
        Actions::client(Value::Object(out))
    }
}
