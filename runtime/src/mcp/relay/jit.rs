//! The just-in-time part of [`Relay`]: each `tools/call` relayed to the server opens the grant's
//! network window ([`crate::grant::window`]) with what its arguments bind (`--bind`), and its
//! end (the reply relayed, a cancellation, the server's end) closes it. The relay knows both,
//! since every request goes to the server under an id of the proxy's own. A call's end is noted
//! as the line is read and carried out by [`Relay::close_ended`] before what the line led to is
//! sent on, once the broker has relayed what the server did before it.

use super::{Relay, lock};
use crate::audit::{Capability, EventKind};
use crate::grant::BoundEndpoint;
use crate::mcp::bind::Bound;
use crate::mcp::guard;
use serde_json::{Map, Value, json};

impl Relay {
    /// What `--bind` grants a call to `name`, from its arguments; an argument outside its
    /// patterns gets the call a tool error (audited), and the call never reaches the server.
    pub(super) fn bind_call(
        &self,
        name: &str,
        params: Option<&Value>,
        id: &Value,
    ) -> Result<Vec<BoundEndpoint>, Value> {
        let empty = Map::new();
        let args = params.and_then(|p| p.get("arguments")).and_then(Value::as_object).unwrap_or(&empty);
        let mut out = Vec::new();
        for b in self.options.binds.iter().filter(|b| b.tool == name) {
            match b.binding.bind(args) {
                Ok(bound) => out.extend(bound.into_iter().filter_map(|x| match x {
                    Bound::Endpoint(endpoint) => {
                        Some(BoundEndpoint { argument: b.binding.argument().to_string(), endpoint })
                    }
                    Bound::Path { .. } => None,
                })),
                Err(r) => {
                    let message = format!(
                        "refused by mcp-sandbox proxy: argument `{}` ({:?}): {}; {} (the patterns of --bind {name}.{})",
                        r.argument, r.value, r.reason, r.hint, r.argument
                    );
                    eprintln!("mcp-sandbox: proxy: {message}");
                    let target = format!("{name}({}={:?})", r.argument, r.value);
                    self.audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(target), Some(r.reason), None);
                    return Err(json!({"jsonrpc": "2.0", "id": id, "result": guard::tool_error(&message)}));
                }
            }
        }
        Ok(out)
    }

    /// Says, once a session, which `--bind` names a tool the server does not list, or an
    /// argument its input schema does not have (such a binding never grants anything).
    pub(super) fn check_binds(&self, tools: &[Value]) {
        if self.options.binds.is_empty() || std::mem::replace(&mut lock(&self.state).binds_checked, true) {
            return;
        }
        for b in &self.options.binds {
            let arg = b.binding.argument();
            let tool = tools.iter().find(|t| t.get("name").and_then(Value::as_str) == Some(b.tool.as_str()));
            let problem = match tool {
                None => format!("the server lists no tool `{}`", b.tool),
                Some(t) if t.pointer("/inputSchema/properties").and_then(|p| p.get(arg)).is_none() => {
                    format!("tool `{}` has no argument `{arg}` in its inputSchema", b.tool)
                }
                Some(_) => continue,
            };
            eprintln!("mcp-sandbox: proxy: warning: --bind {}.{arg}: {problem}; it grants nothing", b.tool);
        }
    }

    /// A call was relayed: its window opens.
    pub(super) fn call_started(&self, pid: u64, tool: &str, client_id: &Value, bound: Vec<BoundEndpoint>) {
        self.watch_started(pid, tool, client_id);
        if let Some(w) = &self.window {
            w.start(pid, tool, client_id, bound);
        }
    }

    /// A request ended; if it was a call, its window closes at the next
    /// [`close_ended`](Self::close_ended).
    pub(super) fn call_ended(&self, pid: u64, tool: Option<&str>, why: &str) {
        if let (Some(_), Some(tool)) = (&self.window, tool) {
            lock(&self.state).ending.push((pid, tool.to_string(), why.to_string()));
        }
    }

    /// Ends the calls whose end was read (before the lines that led to it are sent on): waits
    /// (bounded) for what the server did before to be relayed, then closes their windows.
    pub async fn close_ended(&self) {
        let ending = std::mem::take(&mut lock(&self.state).ending);
        let Some(w) = &self.window else { return };
        if ending.is_empty() {
            return;
        }
        let calls: Vec<u64> = ending.iter().map(|(pid, _, _)| *pid).collect();
        if !self.has_ended() {
            // (A server that ended has nothing left to relay.)
            w.settle_before_ending(&calls).await;
        }
        self.watch_ended(&calls);
        for (pid, tool, why) in ending {
            w.end(pid, &tool, &why);
        }
    }
}
