//! The operational endpoints of `serve --listen`, beside MCP on the same listener.

use super::Ops;
use crate::mcp::ToolSet;
use serde_json::{Value, json};

/// One operational endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Ready,
    Metrics,
    Status,
}

/// `(path, endpoint, needs the bearer token when one is set, why)`.
const ENDPOINTS: &[(&str, Endpoint, bool, &str)] = &[
    (
        "/healthz",
        Endpoint::Health,
        false,
        "liveness probe: the kubelet sends no token; says only that the process answers",
    ),
    (
        "/readyz",
        Endpoint::Ready,
        false,
        "readiness probe: the kubelet sends no token; says only whether calls can be served and why not",
    ),
    (
        "/metrics",
        Endpoint::Metrics,
        true,
        "names the tools and what was denied; a scrape config sends the token (`authorization`)",
    ),
    ("/status", Endpoint::Status, true, "names the tools and their last anomalies"),
];

impl Endpoint {
    /// The endpoint at `path`, if it is one (anything else is MCP).
    pub fn at(path: &str) -> Option<Endpoint> {
        ENDPOINTS.iter().find(|(p, ..)| *p == path).map(|(_, e, ..)| *e)
    }

    /// Whether a request must carry the bearer token (when the server has one).
    pub fn needs_token(self) -> bool {
        ENDPOINTS.iter().any(|(_, e, token, _)| *e == self && *token)
    }

    /// `(status, content type, body)`.
    pub fn answer(self, ops: &Ops, tools: &ToolSet) -> (u16, &'static str, String) {
        const TEXT: &str = "text/plain; charset=utf-8";
        match self {
            Endpoint::Health => (200, TEXT, "ok\n".into()),
            Endpoint::Ready => match ops.readiness(tools) {
                Ok(()) => (200, TEXT, "ready\n".into()),
                Err(why) => (503, TEXT, format!("not ready: {why}\n")),
            },
            Endpoint::Metrics => {
                ops.metrics.refresh(tools);
                (200, super::metrics::CONTENT_TYPE, ops.metrics.encode())
            }
            Endpoint::Status => (200, "application/json", format!("{:#}\n", status(ops, tools))),
        }
    }
}

/// `/status`: readiness, load, live grants, and per tool the watch's calls, anomalies and last
/// anomalies (at most `mcp::watch::LAST_ANOMALIES` each).
pub fn status(ops: &Ops, tools: &ToolSet) -> Value {
    let (running, queued) = tools.load();
    let ready = ops.readiness(tools);
    let counters = tools.watch_counters();
    let per_tool: serde_json::Map<String, Value> = tools
        .specs()
        .map(|s| {
            let c = counters.get(&s.name).cloned().unwrap_or_default();
            let v = json!({
                "withheld": tools.withheld(&s.name),
                "watch_calls": c.calls,
                "anomalies": c.anomalies,
                "last_anomalies": c.last,
            });
            (s.name.clone(), v)
        })
        .collect();
    json!({
        "ready": ready.is_ok(),
        "not_ready": ready.err(),
        "draining": ops.draining(),
        "calls_running": running,
        "queue_depth": queued,
        "requests_in_flight": ops.requests(),
        "grants_live": ops.metrics.grants_live(),
        "tools": per_tool,
    })
}
