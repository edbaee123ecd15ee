//! What `serve --listen` gives a cluster besides MCP: liveness and readiness probes, Prometheus
//! metrics, a JSON status, and the bookkeeping of a graceful shutdown (requests in flight,
//! the drain). The HTTP front door (`mcp::server::serve_http`) routes to [`endpoints`].

pub mod endpoints;
pub mod metrics;

pub use metrics::{MeteredSink, Metrics};

use crate::mcp::ToolSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a shutdown waits for calls in flight before revoking them (`serve --grace`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// After the grace period, how long revoked calls get to answer their clients (revocation
/// stops a tool at once; this bounds the wait for a client that does not read its answer).
pub const REVOKE_WAIT: Duration = Duration::from_secs(10);

/// In a drain, once no request is in flight, how long without a new one before the server
/// ends: a session's follow-ups to a call that just answered (the Python SDK lists the tools
/// after a call, then ends its session) still get their answers. Bounded by the grace period.
pub const DRAIN_QUIET: Duration = Duration::from_secs(1);

/// The operational state of one `serve` process.
#[derive(Debug)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    draining: AtomicBool,
    /// MCP requests whose answer is not yet written (see [`Ops::request`]).
    requests: AtomicUsize,
    idle: Notify,
    /// When a request last started or answered, in milliseconds since `epoch`.
    last_active: AtomicU64,
    epoch: Instant,
}

impl Default for Ops {
    fn default() -> Self {
        Ops {
            metrics: Arc::default(),
            draining: AtomicBool::default(),
            requests: AtomicUsize::default(),
            idle: Notify::default(),
            last_active: AtomicU64::default(),
            epoch: Instant::now(),
        }
    }
}

impl Ops {
    pub fn new(metrics: Arc<Metrics>) -> Arc<Ops> {
        Arc::new(Ops { metrics, ..Ops::default() })
    }

    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active.store(now, Ordering::SeqCst);
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
        self.touch();
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

    /// Resolves when no MCP request has been in progress for `quiet`.
    pub async fn quiet(&self, quiet: Duration) {
        loop {
            self.idle().await;
            let last = Duration::from_millis(self.last_active.load(Ordering::SeqCst));
            let since = self.epoch.elapsed().saturating_sub(last);
            if since >= quiet && self.requests() == 0 {
                return;
            }
            tokio::time::sleep(quiet.saturating_sub(since).max(Duration::from_millis(10))).await;
        }
    }
}

/// One MCP request in progress (see [`Ops::request`]).
#[derive(Debug)]
pub struct RequestGuard(Arc<Ops>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quiet_waits_for_a_pause_after_the_last_request() {
        let ops = Ops::new(Arc::default());
        let first = ops.request();
        let (o, start) = (ops.clone(), Instant::now());
        let waiter = tokio::spawn(async move { o.quiet(Duration::from_millis(200)).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(first);
        // A follow-up 100 ms after the first answered: the quiet period starts again after it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(ops.request());
        waiter.await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(400), "{:?}", start.elapsed());
    }
}
