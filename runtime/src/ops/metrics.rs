//! `/metrics` of `serve --listen`: Prometheus families (the `prometheus-client` crate) fed by
//! three sources, so that the hooks in the call path stay small:
//!
//! * the call itself ([`super::CallTimer`], started and finished in `McpServer::call_tool`):
//!   calls by tool and outcome, their latency, calls in flight;
//! * the audit stream ([`MeteredSink`], one more sink of the sandbox's fan-out): denials and
//!   limits by capability, grants issued and live, vetting refusals; every event the audit log
//!   holds is counted the same way there, including those its throttle only counted
//!   (`suppressed` records carry their count);
//! * the [`ToolSet`] at scrape time ([`Metrics::refresh`]): queue depth, running calls, and the
//!   behaviour watch's counters (calls watched and anomalies per tool).
//!
//! Label values are bounded: `tool` is a loaded tool's name ([`UNKNOWN_TOOL`] for any other
//! name a client sends), `outcome`, `capability` and `stage` come from closed sets.

use crate::audit::{AuditEvent, AuditSink, EventKind};
use crate::mcp::{CallError, CallReport, ToolSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

/// The `tool` label of a call naming no loaded tool: a client cannot mint label values.
pub const UNKNOWN_TOOL: &str = "_unknown_";

/// Upper bounds (seconds) of the call latency histogram's buckets: 5 ms to 5 min.
pub const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0];

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Tool = [(&'static str, String); 1];
type Pair = [(&'static str, String); 2];

/// Where a vetting refusal happened (`stage` label): a reason per entry.
const VET_STAGES: &[(&str, &str)] = &[
    ("definition", "a tool not served: its vetting found something at or above --vet-deny"),
    ("arguments", "a call refused: a secret in the arguments of a tool that can reach the network"),
    ("result", "a result replaced by an error: it carried instructions aimed at the model"),
];

fn histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The registry of one `serve` process and its families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls: Family<Pair, Counter>,
    latency: Family<Tool, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    denials: Family<Tool, Counter>,
    limits: Family<Tool, Counter>,
    vet_refusals: Family<Pair, Counter>,
    grants_issued: Counter,
    grants_live: Gauge,
    running: Gauge,
    queued: Gauge,
    watched: Family<Tool, Counter>,
    anomalies: Family<Tool, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mcp_sandbox");
        let m = Metrics {
            calls: Family::default(),
            latency: Family::new_with_constructor(histogram),
            in_flight: Gauge::default(),
            denials: Family::default(),
            limits: Family::default(),
            vet_refusals: Family::default(),
            grants_issued: Counter::default(),
            grants_live: Gauge::default(),
            running: Gauge::default(),
            queued: Gauge::default(),
            watched: Family::default(),
            anomalies: Family::default(),
            registry: Registry::default(),
        };
        registry.register("calls", "tools/call requests by tool and outcome", m.calls.clone());
        registry.register_with_unit(
            "call_duration",
            "tools/call latency, from the request to its result, by tool",
            Unit::Seconds,
            m.latency.clone(),
        );
        registry.register("calls_in_flight", "tools/call requests being handled now", m.in_flight.clone());
        registry.register("calls_running", "calls holding a slot (--max-concurrent) now", m.running.clone());
        registry.register("queue_depth", "calls admitted and waiting for a slot (--queue) now", m.queued.clone());
        registry.register("denials", "audited denials by capability", m.denials.clone());
        registry.register("limits", "audited limits reached, by capability", m.limits.clone());
        registry.register("vet_refusals", "vetting refusals by tool and stage", m.vet_refusals.clone());
        registry.register("grants_issued", "grants issued", m.grants_issued.clone());
        registry.register("grants_live", "grants in force now (issued, not yet revoked)", m.grants_live.clone());
        registry.register("watch_calls", "calls judged or learned by the behaviour watch, by tool", m.watched.clone());
        registry.register("anomalies", "calls that deviated from their tool's profile, by tool", m.anomalies.clone());
        Metrics { registry, ..m }
    }

    /// Counts a finished call.
    pub fn call_done(&self, tool: &str, outcome: &'static str, seconds: f64) {
        self.calls.get_or_create(&[("tool", tool.to_string()), ("outcome", outcome.to_string())]).inc();
        self.latency.get_or_create(&[("tool", tool.to_string())]).observe(seconds);
    }

    pub(super) fn in_flight(&self, delta: i64) {
        self.in_flight.inc_by(delta);
    }

    /// Takes the values only the tool set knows (queue, watch counters) just before a scrape.
    pub fn refresh(&self, tools: &ToolSet) {
        let (running, queued) = tools.load();
        self.running.set(i64::try_from(running).unwrap_or(i64::MAX));
        self.queued.set(i64::try_from(queued).unwrap_or(i64::MAX));
        for (tool, c) in tools.watch_counters() {
            let label = [("tool", tool)];
            // The watch's counters only grow: the difference brings ours level.
            let calls = self.watched.get_or_create(&label);
            calls.inc_by(c.calls.saturating_sub(calls.get()));
            let anomalies = self.anomalies.get_or_create(&label);
            anomalies.inc_by(c.anomalies.saturating_sub(anomalies.get()));
        }
    }

    /// The OpenMetrics text exposition (Prometheus scrapes it; see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out = "# EOF\n".into();
        }
        out
    }

    /// Grants in force now.
    pub fn grants_live(&self) -> i64 {
        self.grants_live.get()
    }

    fn audited(&self, e: &AuditEvent) {
        let capability = || {
            let name = e.capability.and_then(|c| serde_json::to_value(c).ok());
            name.as_ref().and_then(|v| v.as_str()).unwrap_or("none").to_string()
        };
        let detail = e.detail.as_ref();
        match e.event {
            EventKind::Deny => {
                self.denials.get_or_create(&[("capability", capability())]).inc();
                if e.reason.as_deref().is_some_and(|r| r.starts_with(crate::mcp::SECRET_REFUSAL)) {
                    self.vet_refusal(e, "arguments");
                }
            }
            EventKind::Limit => {
                self.limits.get_or_create(&[("capability", capability())]).inc();
            }
            // What the audit throttle only counted is counted here too.
            EventKind::Suppressed => {
                let count = detail.and_then(|d| d["count"].as_u64()).unwrap_or(0);
                let family = match detail.and_then(|d| d["event"].as_str()) {
                    Some("deny") => &self.denials,
                    Some("limit") => &self.limits,
                    _ => return,
                };
                family.get_or_create(&[("capability", capability())]).inc_by(count);
            }
            EventKind::GrantIssued => {
                self.grants_issued.inc();
                self.grants_live.inc();
            }
            EventKind::GrantRevoked => {
                self.grants_live.dec();
            }
            EventKind::Vet => {
                let flag = |k: &str| detail.is_some_and(|d| d[k] == true);
                if flag("withdrawn") {
                    self.vet_refusal(e, "definition");
                } else if flag("blocked") {
                    self.vet_refusal(e, "result");
                }
            }
            _ => {}
        }
    }

    fn vet_refusal(&self, e: &AuditEvent, stage: &'static str) {
        debug_assert!(VET_STAGES.iter().any(|(s, _)| *s == stage));
        let tool = e.target.clone().unwrap_or_else(|| UNKNOWN_TOOL.to_string());
        self.vet_refusals.get_or_create(&[("tool", tool), ("stage", stage.to_string())]).inc();
    }
}

/// Counts audit events into [`Metrics`]; add it to the sandbox's audit fan-out.
#[derive(Debug, Clone)]
pub struct MeteredSink(pub Arc<Metrics>);

impl AuditSink for MeteredSink {
    fn record(&self, event: &AuditEvent) {
        self.0.audited(event);
    }
}

/// The `outcome` label of a finished call.
pub fn outcome(result: &Result<CallReport, CallError>) -> &'static str {
    let report = match result {
        Ok(r) => r,
        Err(CallError::UnknownTool(_)) => return "unknown_tool",
        Err(CallError::InvalidArguments { .. }) => return "invalid_arguments",
        Err(CallError::Busy { .. }) => return "busy",
        Err(CallError::ShuttingDown) => return "shutting_down",
    };
    report.outcome()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Capability;
    use serde_json::json;

    fn event(event: EventKind, capability: Option<Capability>, detail: Option<serde_json::Value>) -> AuditEvent {
        AuditEvent {
            ts: String::new(),
            invocation: "g".into(),
            tool: "sha256:0".into(),
            event,
            capability,
            target: Some("docs".into()),
            reason: None,
            hint: None,
            detail,
        }
    }

    #[test]
    fn audit_events_become_counters() {
        let m = Arc::new(Metrics::new());
        let sink = MeteredSink(m.clone());
        sink.record(&event(EventKind::GrantIssued, None, None));
        sink.record(&event(EventKind::GrantIssued, None, None));
        sink.record(&event(EventKind::GrantRevoked, None, None));
        sink.record(&event(EventKind::Deny, Some(Capability::NetConnect), None));
        let suppressed = json!({"event": "deny", "count": 41});
        sink.record(&event(EventKind::Suppressed, Some(Capability::NetConnect), Some(suppressed)));
        sink.record(&event(EventKind::Vet, Some(Capability::McpTool), Some(json!({"withdrawn": true}))));
        let text = m.encode();
        assert!(text.contains("mcp_sandbox_grants_issued_total 2"), "{text}");
        assert!(text.contains("mcp_sandbox_grants_live 1"), "{text}");
        assert!(text.contains("mcp_sandbox_denials_total{capability=\"net.connect\"} 42"), "{text}");
        assert!(text.contains("mcp_sandbox_vet_refusals_total{tool=\"docs\",stage=\"definition\"} 1"), "{text}");
    }
}
