//! A client that calls a tool before it listed any: hosts list first, but a script written
//! against an SDK (`session.initialize()`, then `session.call_tool(...)`) often does not, and
//! the server itself would answer it. The proxy cannot relay such a call unchecked (the tool's
//! definition has not been compared with its pin, nor vetted), so it holds the call, asks the
//! server for `tools/list` itself (under an id of its own; the reply never reaches the client),
//! judges that listing exactly as a client's ([`Relay::listing`]: pins, vetting, withheld
//! tools), then takes the held calls up again as if they had just arrived: a tool allowed is
//! relayed, one withheld or still not listed (a later page) is refused as before. Once per
//! session: after a listing, by the client or the proxy, an unlisted tool is refused at once.

use super::{Actions, Relay, State, lock};
use crate::audit::{Capability, EventKind};
use crate::mcp::wire;
use serde_json::{Map, Value, json};

/// Calls held while the proxy's own listing is in flight, at most (beyond, a call is refused
/// as never listed).
pub const MAX_HELD: usize = 64;

/// What the proxy's own listing is doing.
#[derive(Debug, Default)]
pub(super) struct Prelist {
    /// A listing (the client's or the proxy's) was judged this session.
    pub(super) listed: bool,
    /// The proxy's `tools/list` in flight: its id.
    pub(super) asked: Option<u64>,
    /// Calls waiting for it, as the client sent them.
    pub(super) held: Vec<Map<String, Value>>,
}

impl Relay {
    /// Holds a `tools/call` for a tool the client has not listed, before any listing; the first
    /// one held asks the server for its tools. `None`: not held (judged as usual).
    pub(super) fn hold_unlisted(&self, method: &str, m: &Map<String, Value>) -> Option<Actions> {
        if method != "tools/call" {
            return None;
        }
        let name = m.get("params").and_then(|p| p.get("name")).and_then(Value::as_str)?;
        let mut state = lock(&self.state);
        let State { prelist, allowed, withheld, .. } = &mut *state;
        if prelist.listed || allowed.contains(name) || withheld.contains_key(name) || prelist.held.len() >= MAX_HELD {
            return None;
        }
        prelist.held.push(m.clone());
        if prelist.asked.is_some() {
            return Some(Actions::default());
        }
        state.next_id += 1;
        let pid = state.next_id;
        state.prelist.asked = Some(pid);
        drop(state);
        self.audit.emit(
            EventKind::Allow,
            Some(Capability::McpTool),
            Some(name.to_string()),
            Some("called before the client listed the tools: the proxy lists them to judge the call".into()),
            None,
        );
        Some(Actions::server(json!({"jsonrpc": "2.0", "id": pid, "method": "tools/list"})))
    }

    /// Marks a listing judged (the client's).
    pub(super) fn listed(&self) {
        lock(&self.state).prelist.listed = true;
    }

    /// The server's reply to the proxy's own listing, if `pid` is its id: the listing judged,
    /// then the held calls taken up again.
    pub(super) fn prelisted(&self, pid: Option<u64>, m: &mut Map<String, Value>) -> Option<Actions> {
        let mut state = lock(&self.state);
        if pid.is_none() || state.prelist.asked != pid {
            return None;
        }
        state.prelist.asked = None;
        state.prelist.listed = true;
        let held = std::mem::take(&mut state.prelist.held);
        drop(state);
        let failed = match m.remove("result") {
            Some(result) => self.listing(result).err(),
            None => Some(format!(
                "the server answered the proxy's `tools/list` with an error: {}",
                m.get("error").map_or_else(|| "none".into(), Value::to_string)
            )),
        };
        let mut all = Actions::default();
        for call in held {
            let a = match &failed {
                // The tools could not be judged: the held calls are refused, not relayed.
                Some(why) => {
                    self.dropped(why);
                    let id = call.get("id").cloned().unwrap_or(Value::Null);
                    Actions::client(wire::error(
                        id,
                        wire::INTERNAL_ERROR,
                        format!("refused by mcp-sandbox proxy: {why}"),
                    ))
                }
                None => self.client_message(call),
            };
            all.to_server.extend(a.to_server);
            all.to_client.extend(a.to_client);
        }
        Some(all)
    }

    /// The client cancelled a held call: it is not relayed.
    pub(super) fn drop_held(&self, client_id: &Value) {
        lock(&self.state).prelist.held.retain(|m| m.get("id") != Some(client_id));
    }

    /// The server ended with calls held: their client ids, to answer with why.
    pub(super) fn held_ids(&self) -> Vec<Value> {
        let held = std::mem::take(&mut lock(&self.state).prelist.held);
        held.into_iter().filter_map(|m| m.get("id").cloned()).collect()
    }
}
