//! What `serve --listen` gives a cluster besides MCP: liveness and readiness probes, Prometheus
//! metrics, a JSON status, and the bookkeeping of a graceful shutdown (requests in flight,
//! the drain). The HTTP front door (`mcp::server::serve_http`) routes to [`endpoints`].

pub mod endpoints;
pub mod metrics;

pub use metrics::{MeteredSink, Metrics};

use crate::mcp::ToolSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a shutdown waits for calls in flight before revoking them (`serve --grace`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// After the grace period, how long revoked calls get to answer their clients (revocation
/// stops a tool at once; this bounds the wait for a client that does not read its answer).
pub const REVOKE_WAIT: Duration = Duration::from_secs(10);

/// The operational state of one `serve` process.
#[derive(Debug, Default)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    draining: AtomicBool,
    /// MCP requests whose answer is not yet written (see [`Ops::request`]).
    requests: AtomicUsize,
    idle: Notify,
}

impl Ops {
    pub fn new(metrics: Arc<Metrics>) -> Arc<Ops> {
        Arc::new(Ops { metrics, ..Ops::default() })
    }

    /// Starts timing a `tools/call` of `tool` (already mapped to a loaded tool's name or
    /// [`metrics::UNKNOWN_TOOL`]); [`CallTimer::finish`] counts it.
    pub fn call(&self, tool: &str) -> CallTimer {
        self.metrics.in_flight(1);
        CallTimer { metrics: self.metrics.clone(), tool: tool.to_string(), start: Instant::now(), done: false }
    }

    /// Why the server cannot serve calls now, if it cannot: shutting down, no tool loaded, or a
    /// native tool loaded and a confinement layer missing (probed now: a process out of
    /// descriptors is not ready either).
    pub fn readiness(&self, tools: &ToolSet) -> Result<(), String> {
        if self.draining() {
            return Err("shutting down".into());
        }
        if tools.specs().next().is_none() {
            return Err("no tool loaded; check the --tools directory and the lines `skipped` on stderr".into());
        }
        if tools.specs().any(|s| matches!(s.artifact, crate::mcp::Artifact::Native(_))) {
            use crate::native::layers::{HostFacts, missing};
            if let Some(m) = missing(&HostFacts::probe()).first() {
                return Err(format!("native tools cannot be confined: {m}"));
            }
        }
        Ok(())
    }

    /// Starts the drain: `/readyz` answers 503 and new MCP requests are refused.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Counts one MCP request until the guard is dropped (when its answer is written).
    pub fn request(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::SeqCst);
        RequestGuard(self.clone())
    }

    /// MCP requests whose answer is not yet written.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Resolves when no MCP request is in progress.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.requests() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One MCP request in progress (see [`Ops::request`]).
#[derive(Debug)]
pub struct RequestGuard(Arc<Ops>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.0.requests.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// One `tools/call` being handled; counted with its outcome and latency when finished, or as
/// `dropped` if its handler was dropped first.
#[derive(Debug)]
pub struct CallTimer {
    metrics: Arc<Metrics>,
    tool: String,
    start: Instant,
    done: bool,
}

impl CallTimer {
    pub fn finish(mut self, outcome: &'static str) {
        self.done = true;
        self.metrics.call_done(&self.tool, outcome, self.start.elapsed().as_secs_f64());
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        if !self.done {
            self.metrics.call_done(&self.tool, "dropped", self.start.elapsed().as_secs_f64());
        }
        self.metrics.in_flight(-1);
    }
}
