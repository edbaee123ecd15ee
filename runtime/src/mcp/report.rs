//! How a `tools/call` ended: [`CallError`] when it could not be made at all, else a
//! [`CallReport`] (its [`CallEnd`], output and denials) with one outcome word for metrics and
//! traces.

use super::bind::Refusal;
use crate::invoke::Status;
use serde_json::Value;

/// A call that could not be made at all: a protocol-level error for the client.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("unknown tool `{0}`; list the tools to see their names")]
    UnknownTool(String),
    /// The arguments do not match the tool's input schema; `field` is a JSON pointer.
    #[error("invalid arguments: {field}: {message}")]
    InvalidArguments { field: String, message: String },
    #[error("server busy: {running} calls running and {queued} waiting; retry later")]
    Busy { running: usize, queued: usize },
    /// The server is draining (SIGTERM): calls in flight finish, new ones are refused.
    #[error("server shutting down: new calls are refused; retry on another replica")]
    ShuttingDown,
}

/// How a call ended, from the client's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEnd {
    /// The tool ran under its grant; its status.
    Ran(Status),
    /// An argument asked for more than the manifest binds; nothing ran.
    Refused(Refusal),
    /// The sandbox could not run it (exit-125/126 class errors).
    Failed(String),
    /// Cancelled before it started.
    Cancelled,
    /// Refused, or its result withheld, by a data-flow guard (`guard`): the message.
    Guarded(String),
}

/// What one call produced.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// The `invocation` of the call's audit events: its grant id, or, when it was refused
    /// before a grant was issued, its own id (`call-…`, [`call_id`]).
    pub invocation: String,
    pub end: CallEnd,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Stdout parsed as JSON and checked against the output schema, when the tool has one.
    pub structured: Option<Value>,
    /// Why structured output was rejected, if it was.
    pub output_error: Option<String>,
    /// The denials and limits the call met, one line each (`denied: …; to allow: …`).
    pub denials: Vec<String>,
    /// The same, whole (capability, target, reason).
    pub refused: Vec<crate::audit::Refused>,
}

impl CallReport {
    /// How the call ended, in one low-cardinality word: the `outcome` label of
    /// `mcp_sandbox_calls_total` and the `mcp_sandbox.outcome` span attribute alike.
    pub fn outcome(&self) -> &'static str {
        match &self.end {
            CallEnd::Ran(Status::Exited(0)) if self.output_error.is_some() => "bad_output",
            CallEnd::Ran(Status::Exited(0)) => "ok",
            CallEnd::Ran(Status::Exited(_)) => "tool_error",
            CallEnd::Ran(Status::TimedOut(_)) => "timeout",
            CallEnd::Ran(Status::MemoryExceeded(_)) => "memory",
            CallEnd::Ran(Status::Trapped(_)) => "trapped",
            CallEnd::Ran(Status::Revoked) => "revoked",
            CallEnd::Refused(_) => "refused",
            CallEnd::Failed(_) => "failed",
            CallEnd::Cancelled => "cancelled",
            CallEnd::Guarded(_) => "guarded",
        }
    }

    pub fn is_error(&self) -> bool {
        !matches!(self.end, CallEnd::Ran(Status::Exited(0))) || self.output_error.is_some()
    }

    /// The text a client sees: stdout on success; otherwise what went wrong, the tool's
    /// stderr, and each denial with its fix.
    pub fn text(&self) -> String {
        if !self.is_error() {
            return String::from_utf8_lossy(&self.stdout).into_owned();
        }
        let mut s = match &self.end {
            CallEnd::Ran(Status::Exited(0)) => String::from("the tool's output was rejected"),
            CallEnd::Ran(Status::Exited(c)) => format!("the tool exited with status {c}"),
            CallEnd::Ran(Status::TimedOut(d)) => {
                format!("the tool ran out of time ({})", humantime::format_duration(*d))
            }
            CallEnd::Ran(Status::MemoryExceeded(m)) => format!("the tool was stopped: {m}"),
            CallEnd::Ran(Status::Trapped(m)) => format!("the tool crashed: {}", m.lines().next().unwrap_or("trap")),
            CallEnd::Ran(Status::Revoked) => "the call was cancelled and its grant revoked".into(),
            CallEnd::Refused(r) => {
                format!("denied: argument `{}` = {:?}: {}; {}", r.argument, r.value, r.reason, r.hint)
            }
            CallEnd::Failed(m) => format!("the sandbox could not run the tool: {m}"),
            CallEnd::Cancelled => "the call was cancelled before it started".into(),
            CallEnd::Guarded(m) => m.clone(),
        };
        if let Some(e) = &self.output_error {
            s.push_str(&format!(": {e}"));
        }
        for d in &self.denials {
            s.push_str(&format!("\nmcp-sandbox: {d}"));
        }
        for (name, bytes) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            let text = text.trim();
            if !text.is_empty() {
                let cut: String = text.chars().take(4096).collect();
                s.push_str(&format!("\n{name}:\n{cut}"));
            }
        }
        s
    }
}
