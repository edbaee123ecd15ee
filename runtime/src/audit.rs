//! The audit trail: one JSON object per event, tied to the invocation's grant id and the
//! tool's digest. Every grant, allowed network action, denial, limit, revocation and exit
//! is recorded. Nothing secret is written: env variables appear by name only, and file
//! contents and payloads never appear at all.

mod denial;
mod recorder;
mod throttle;

pub use denial::Denial;
pub mod window;

pub use recorder::{MAX_OBSERVED, PathUse, Recorder, Refused};

pub use throttle::{MAX_KINDS, MAX_NEW_TARGETS_BEYOND, MAX_RECORDS_PER_INVOCATION, MAX_RECORDS_PER_KIND};

use serde::Serialize;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EventKind {
    #[serde(rename = "grant.issued")]
    GrantIssued,
    #[serde(rename = "allow")]
    Allow,
    #[serde(rename = "deny")]
    Deny,
    #[serde(rename = "limit")]
    Limit,
    #[serde(rename = "grant.revoked")]
    GrantRevoked,
    #[serde(rename = "exit")]
    Exit,
    /// A confinement layer that could not be enforced, in a run allowed to be degraded.
    #[serde(rename = "sandbox.degraded")]
    Degraded,
    /// How many records of one kind an invocation's audit throttle only counted
    /// (see [`MAX_RECORDS_PER_KIND`]).
    #[serde(rename = "suppressed")]
    Suppressed,
    /// A tool definition or a tool result judged by the vetting engine (`crate::vet`): the
    /// verdict and findings, an approval over them.
    #[serde(rename = "vet")]
    Vet,
    /// A call that deviated from its tool's behaviour profile (`crate::profile`), or a tool
    /// quarantined for it.
    #[serde(rename = "anomaly")]
    Anomaly,
    /// A call started or ended under a just-in-time window (`proxy`): whether the window is
    /// open, the calls in flight, what the call bound (`detail`). See [`window`].
    #[serde(rename = "net.window")]
    NetWindow,
}

impl EventKind {
    /// The name used in the log (`grant.issued`, `deny`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::GrantIssued => "grant.issued",
            EventKind::Allow => "allow",
            EventKind::Deny => "deny",
            EventKind::Limit => "limit",
            EventKind::GrantRevoked => "grant.revoked",
            EventKind::Exit => "exit",
            EventKind::Degraded => "sandbox.degraded",
            EventKind::Suppressed => "suppressed",
            EventKind::Vet => "vet",
            EventKind::Anomaly => "anomaly",
            EventKind::NetWindow => "net.window",
        }
    }
}

/// The capability an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Capability {
    #[serde(rename = "fs.read")]
    FsRead,
    #[serde(rename = "fs.write")]
    FsWrite,
    #[serde(rename = "net.connect")]
    NetConnect,
    #[serde(rename = "net.bind")]
    NetBind,
    #[serde(rename = "net.dns")]
    NetDns,
    #[serde(rename = "net.http")]
    NetHttp,
    #[serde(rename = "env")]
    Env,
    #[serde(rename = "limit.time")]
    Time,
    #[serde(rename = "limit.memory")]
    Memory,
    #[serde(rename = "limit.output")]
    Output,
    /// What the supervisor holds for a call: UDP flows, relayed connections, sockets, look-ups
    /// (see `egress::quota`).
    #[serde(rename = "limit.resources")]
    Resources,
    /// An MCP tool call (`serve`'s argument bindings, `proxy`'s relayed calls and pins).
    #[serde(rename = "mcp.tool")]
    McpTool,
    /// A system call a native tool's seccomp filter refused.
    #[serde(rename = "syscall")]
    Syscall,
}

impl Capability {
    /// The verb used in one-line messages: `denied: connect 10.0.0.5:443 ...`.
    pub fn verb(self) -> &'static str {
        match self {
            Capability::FsRead => "read",
            Capability::FsWrite => "write",
            Capability::NetConnect => "connect",
            Capability::NetBind => "bind",
            Capability::NetDns => "lookup",
            Capability::NetHttp => "http request to",
            Capability::Env => "env",
            Capability::Time => "time",
            Capability::Memory => "memory",
            Capability::Output => "output",
            Capability::Resources => "hold",
            Capability::McpTool => "call",
            Capability::Syscall => "syscall",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// RFC 3339, UTC, milliseconds.
    pub ts: String,
    /// The grant id of the invocation.
    pub invocation: String,
    /// `sha256:<hex>` of the tool.
    pub tool: String,
    pub event: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capability: Option<Capability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For denials: the flag that would allow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Event-specific data (the grant's capabilities, an exit status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Where audit events go.
pub trait AuditSink: Send + Sync + fmt::Debug {
    fn record(&self, event: &AuditEvent);

    /// Whether events are wanted at all; `false` lets callers skip building them.
    fn enabled(&self) -> bool {
        true
    }

    /// Pushes out what was written so far (at shutdown); a no-op for unbuffered sinks.
    fn flush(&self) {}
}

/// Discards events.
#[derive(Debug, Default)]
pub struct NullSink;

impl AuditSink for NullSink {
    fn record(&self, _: &AuditEvent) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// Appends JSON lines to a file, or writes them to stdout (`--audit -`, for log collectors).
/// Each event is written whole with one `write` (on an `O_APPEND` file, or through stdout's
/// line buffer under its lock), so concurrent invocations (and processes) never interleave lines.
#[derive(Debug)]
pub struct JsonLinesSink {
    out: Mutex<JsonLinesOut>,
}

#[derive(Debug)]
enum JsonLinesOut {
    File(File),
    Stdout(std::io::Stdout),
}

impl JsonLinesSink {
    pub fn open(path: &Path) -> crate::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| crate::Error::OpenAudit { path: path.into(), source })?;
        Ok(JsonLinesSink { out: Mutex::new(JsonLinesOut::File(file)) })
    }

    /// JSON lines on stdout: for a process whose stdout carries nothing else.
    pub fn stdout() -> Self {
        JsonLinesSink { out: Mutex::new(JsonLinesOut::Stdout(std::io::stdout())) }
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, event: &AuditEvent) {
        let Ok(mut line) = serde_json::to_vec(event) else {
            return;
        };
        line.push(b'\n');
        if let Ok(mut out) = self.out.lock() {
            let written = match &mut *out {
                JsonLinesOut::File(f) => f.write_all(&line),
                JsonLinesOut::Stdout(s) => s.lock().write_all(&line),
            };
            // An audit write failure must not go unnoticed, but must not crash the tool run.
            if let Err(e) = written {
                eprintln!("mcp-sandbox: warning: audit log write failed: {e}");
            }
        }
    }

    fn flush(&self) {
        if let Ok(mut out) = self.out.lock() {
            let flushed = match &mut *out {
                JsonLinesOut::File(f) => f.sync_data(),
                JsonLinesOut::Stdout(s) => s.lock().flush(),
            };
            if let Err(e) = flushed {
                eprintln!("mcp-sandbox: warning: audit log flush failed: {e}");
            }
        }
    }
}

/// Keeps events in memory (library callers, tests).
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Removes and returns the events of one invocation.
    pub fn take(&self, invocation: &str) -> Vec<AuditEvent> {
        let Ok(mut all) = self.events.lock() else {
            return Vec::new();
        };
        let (mine, rest) = std::mem::take(&mut *all).into_iter().partition(|e| e.invocation == invocation);
        *all = rest;
        mine
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
}

/// Sends every event to each of several sinks.
#[derive(Debug, Default)]
pub struct Fanout(pub Vec<Arc<dyn AuditSink>>);

impl AuditSink for Fanout {
    fn record(&self, event: &AuditEvent) {
        for s in &self.0 {
            s.record(event);
        }
    }

    fn enabled(&self) -> bool {
        self.0.iter().any(|s| s.enabled())
    }

    fn flush(&self) {
        for s in &self.0 {
            s.flush();
        }
    }
}

/// Prints each denial and limit as one line on stderr, with its fix-it hint (the CLI's view).
/// It sees what the audit throttle lets through, so a flood costs a few lines and a count.
#[derive(Debug, Default)]
pub struct StderrDenials;

impl AuditSink for StderrDenials {
    fn record(&self, e: &AuditEvent) {
        if matches!(e.event, EventKind::Deny | EventKind::Limit | EventKind::Degraded | EventKind::Suppressed) {
            // One write for the whole line: stderr is unbuffered, and `eprintln!` writes each
            // piece of its format apart, so a tool writing to the same stderr could split the
            // line (and its hint) in two.
            let line = format!("mcp-sandbox: {}\n", one_line(e));
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// Whether an event refuses something (or says a layer is missing): kept for the call's outcome.
fn is_refusal(event: EventKind) -> bool {
    matches!(event, EventKind::Deny | EventKind::Limit | EventKind::Degraded)
}

/// `denied: connect 10.0.0.5:443 (not declared); to allow: --allow-net 10.0.0.5:443`
pub fn one_line(e: &AuditEvent) -> String {
    let verb = e.capability.map_or("", Capability::verb);
    if e.event == EventKind::Suppressed {
        let d = e.detail.as_ref();
        let count = d.and_then(|d| d["count"].as_u64()).unwrap_or(0);
        let of = d.and_then(|d| d["event"].as_str()).unwrap_or("");
        let reason = e.reason.as_deref().unwrap_or("");
        return format!("suppressed: {count} more `{of}` records of {verb} ({reason}) were only counted");
    }
    let target = e.target.as_deref().unwrap_or("");
    let head = match e.event {
        EventKind::Limit => "limit",
        EventKind::Degraded => "degraded",
        _ => "denied",
    };
    let mut s = format!("{head}: {verb} {target}");
    if let Some(r) = &e.reason {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(h) = &e.hint {
        s.push_str(&format!("; to allow: {h}"));
    }
    s
}

/// The audit handle of one invocation: stamps every event with its grant and tool, and bounds
/// what the invocation can write (see [`MAX_RECORDS_PER_KIND`]: repeated and excess `allow`/`deny`/`limit`
/// records are counted, and summed up in `suppressed` records when the invocation ends).
#[derive(Debug, Clone)]
pub struct Auditor {
    sink: Arc<dyn AuditSink>,
    throttle: Arc<throttle::Throttle>,
    /// What the invocation did, unthrottled, for profiles (see [`Recorder`]).
    recorder: Arc<Recorder>,
    invocation: String,
    tool: String,
}

impl Auditor {
    pub fn new(sink: Arc<dyn AuditSink>, invocation: String, tool: String) -> Self {
        let throttle = Arc::new(throttle::Throttle::new(sink.clone(), invocation.clone(), tool.clone()));
        Auditor { sink, throttle, recorder: Arc::default(), invocation, tool }
    }

    /// What the invocation did so far (recorded whether or not anyone listens to the log).
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn invocation(&self) -> &str {
        &self.invocation
    }

    /// Whether anyone listens (building an event's detail can be skipped otherwise).
    pub fn enabled(&self) -> bool {
        self.sink.enabled()
    }

    fn event(&self, event: EventKind, capability: Option<Capability>) -> AuditEvent {
        AuditEvent {
            ts: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            invocation: self.invocation.clone(),
            tool: self.tool.clone(),
            event,
            capability,
            target: None,
            reason: None,
            hint: None,
            detail: None,
        }
    }

    pub fn emit(
        &self,
        event: EventKind,
        capability: Option<Capability>,
        target: Option<String>,
        reason: Option<String>,
        detail: Option<serde_json::Value>,
    ) {
        if !self.sink.enabled() && !is_refusal(event) {
            return;
        }
        let mut e = self.event(event, capability);
        e.target = target;
        e.reason = reason;
        e.detail = detail;
        self.record(&e);
    }

    /// Keeps a refusal's line for the invocation's outcome, then writes the event (throttled).
    fn record(&self, e: &AuditEvent) {
        if is_refusal(e.event) {
            self.recorder.refusal(e);
        }
        if self.sink.enabled() {
            self.throttle.record(e);
        }
    }

    pub fn allow(&self, capability: Capability, target: impl Into<String>, reason: impl Into<String>) {
        self.emit(EventKind::Allow, Some(capability), Some(target.into()), Some(reason.into()), None);
    }

    pub fn deny(&self, d: &Denial) {
        self.recorder.refused(d.capability.verb(), &d.target);
        let mut e = self.event(EventKind::Deny, Some(d.capability));
        e.target = Some(d.target.clone());
        e.reason = Some(d.reason.clone());
        e.hint = d.hint.clone();
        self.record(&e);
    }

    pub fn limit(&self, capability: Capability, target: impl Into<String>, reason: impl Into<String>) {
        let target = target.into();
        self.recorder.refused(capability.verb(), &target);
        self.emit(EventKind::Limit, Some(capability), Some(target), Some(reason.into()), None);
    }
}
