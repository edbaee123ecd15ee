//! MCP on top of the sandbox: tool manifests, per-call grants bound to arguments, the
//! `serve` server, the `proxy` that wraps an existing MCP server, and tool pinning.
//!
//! [`ToolSet`] is the library API for MCP servers written in Rust: load manifests (or add
//! [`ToolSpec`]s), then [`call`](ToolSet::call) a tool with JSON arguments. Every call gets
//! its own grant, holding exactly the paths and endpoints its arguments earned, revoked when
//! the call ends or is cancelled. `serve` is a thin rmcp layer over it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_sandbox_runtime::mcp::ToolSet;
//! use mcp_sandbox_runtime::Sandbox;
//! let mut tools = ToolSet::new(Sandbox::builder(), Default::default())?;
//! let skipped = tools.load_dir("tools".as_ref());
//! let args = serde_json::json!({ "message": "hi" });
//! let report = tools.call("echo-json", args.as_object().cloned().unwrap_or_default(), Default::default()).await?;
//! println!("{} {}", report.is_error(), report.text());
//! # Ok(()) }
//! ```

pub mod approved;
pub mod arg_paths;
pub mod bind;
pub mod ended;
pub mod guard;
pub mod lines;
pub mod list;
pub mod manifest;
pub mod not_started;
pub mod pins;
pub mod proxy;
mod relay;
mod report;
pub mod server;
mod vetting;
pub mod watch;
pub mod wire;
pub use report::{CallEnd, CallError, CallReport};
pub use vetting::{SECRET_REFUSAL, Vetted};

use crate::audit::{Auditor, Capability, EventKind};
use crate::error::{Error, Result};
use crate::grant::GrantId;
use crate::invoke::{Call, Output, Status, Stdin};
use crate::policy::Policy;
use crate::sandbox::{Sandbox, SandboxBuilder, Tool};
pub use bind::{Binding, Bound, Refusal};
pub use manifest::{Artifact, ToolSpec};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;
pub use tokio_util::sync::CancellationToken;

/// How many calls run at once, and how many may wait.
#[derive(Debug, Clone, Copy)]
pub struct Concurrency {
    /// Calls running at once (default 16; also the WebAssembly instance pool size).
    pub running: usize,
    /// Calls waiting for a slot beyond that (default 256); more are refused as busy.
    pub queued: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency { running: 16, queued: 256 }
    }
}

/// A loaded tool: its manifest, its artifact, its schema validators.
#[derive(Debug)]
struct Entry {
    spec: ToolSpec,
    tool: Tool,
    input: jsonschema::Validator,
    output: Option<jsonschema::Validator>,
}

/// The tools a server exposes, and the one way to call them.
#[derive(Debug)]
pub struct ToolSet {
    sandbox: Sandbox,
    tools: BTreeMap<String, Entry>,
    slots: Semaphore,
    admitted: AtomicUsize,
    limits: Concurrency,
    /// What happens to a result carrying instructions aimed at the model.
    on_injected_result: guard::ResultMode,
    /// Behaviour profiles: learning, monitoring, quarantine.
    watch: watch::Watch,
    /// Set when the server shuts down: calls cancelled from then on were revoked by it.
    stopping: std::sync::atomic::AtomicBool,
    /// Set when the drain starts: new calls are refused, calls in flight go on.
    draining: std::sync::atomic::AtomicBool,
    /// `serve --approved-pins`: only approved tools are served.
    approval: approved::Approval,
}

fn validator(schema: &Map<String, Value>) -> Result<jsonschema::Validator> {
    jsonschema::validator_for(&Value::Object(schema.clone())).map_err(|e| Error::InvalidSchema(e.to_string()))
}

impl ToolSet {
    /// Builds the sandbox the tools run in (pooled for `limits.running` WebAssembly
    /// instances) and an empty tool set.
    pub fn new(sandbox: SandboxBuilder, limits: Concurrency) -> Result<ToolSet> {
        let running = limits.running.max(1);
        let sandbox = sandbox.pooling(u32::try_from(running).unwrap_or(u32::MAX)).build()?;
        Ok(ToolSet {
            sandbox,
            tools: BTreeMap::new(),
            slots: Semaphore::new(running),
            admitted: AtomicUsize::new(0),
            limits: Concurrency { running, queued: limits.queued },
            on_injected_result: guard::ResultMode::default(),
            watch: watch::Watch::default(),
            stopping: Default::default(),
            draining: Default::default(),
            approval: Default::default(),
        })
    }

    /// Learns and judges every call (see [`watch`]).
    pub fn watch(&mut self, w: watch::Watch) {
        self.watch = w;
    }

    /// Calls and anomalies per watched tool this session.
    pub fn watch_counters(&self) -> std::collections::BTreeMap<String, watch::Counters> {
        self.watch.counters()
    }

    /// Calls holding a slot now, and calls admitted and waiting for one.
    pub fn load(&self) -> (usize, usize) {
        let running = self.limits.running.saturating_sub(self.slots.available_permits());
        (running, self.admitted.load(Ordering::SeqCst).saturating_sub(running))
    }

    /// The drain has started: calls from now on are refused ([`CallError::ShuttingDown`]);
    /// calls already admitted go on.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The server is shutting down: calls cancelled from now on are revoked with that reason.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Why `name` is withheld from listing and calls (not approved, or quarantined), if it is.
    pub fn withheld(&self, name: &str) -> Option<String> {
        self.approval.withheld(name).or_else(|| self.watch.withheld(name))
    }

    /// What happens to a result carrying instructions aimed at the model.
    pub fn on_injected_result(&mut self, mode: guard::ResultMode) {
        self.on_injected_result = mode;
    }

    /// Loads every manifest in `dir` (see [`manifest::manifest_paths`]). A manifest that
    /// fails to load is skipped and returned with its error; the others still load.
    pub fn load_dir(&mut self, dir: &Path) -> Vec<(PathBuf, Error)> {
        let paths = match manifest::manifest_paths(dir) {
            Ok(p) => p,
            Err(e) => return vec![(dir.into(), e)],
        };
        let mut skipped = Vec::new();
        for p in paths {
            if let Err(e) = ToolSpec::load(&p).and_then(|spec| self.add(spec)) {
                skipped.push((p, e));
            }
        }
        skipped
    }

    /// Adds one tool: loads (compiles) its artifact and its schemas.
    pub fn add(&mut self, spec: ToolSpec) -> Result<()> {
        if self.tools.contains_key(&spec.name) {
            return Err(Error::DuplicateTool(spec.name.clone()));
        }
        let tool = match &spec.artifact {
            Artifact::Wasm(p) => self.sandbox.load_as(p, false)?,
            Artifact::Native(p) => self.sandbox.load_as(p, true)?,
        };
        let input = validator(&spec.input_schema)?;
        let output = spec.output_schema.as_deref().map(validator).transpose()?;
        self.tools.insert(spec.name.clone(), Entry { spec, tool, input, output });
        Ok(())
    }

    pub fn specs(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.values().map(|e| &e.spec)
    }

    pub fn spec(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.get(name).map(|e| &e.spec)
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Checks the arguments, issues the call's grant (the declared policy plus what the
    /// arguments bind), runs the tool, and revokes the grant. `cancel` revokes it early.
    pub async fn call(
        &self,
        name: &str,
        args: Map<String, Value>,
        cancel: CancellationToken,
    ) -> Result<CallReport, CallError> {
        let entry = self.tools.get(name).ok_or_else(|| CallError::UnknownTool(name.into()))?;
        if self.draining.load(Ordering::SeqCst) {
            self.audit_refusal(entry, &CallError::ShuttingDown);
            return Err(CallError::ShuttingDown);
        }
        if let Some(why) = self.unapproved(entry) {
            let id = self.audit_deny(entry, name.to_string(), why.clone());
            return Ok(self.report(id, CallEnd::Guarded(why)));
        }
        let value = Value::Object(args);
        if let Some(e) = entry.input.iter_errors(&value).next() {
            let field = e.instance_path().to_string();
            let field = if field.is_empty() { "/".to_string() } else { field };
            let refused = CallError::InvalidArguments { field, message: e.to_string() };
            self.audit_refusal(entry, &refused);
            return Err(refused);
        }
        if let Some(why) = self.watch.withheld(name) {
            let id = self.audit_deny(entry, name.to_string(), why.clone());
            return Ok(self.report(id, CallEnd::Guarded(why)));
        }
        if let Some(refused) = self.guard_arguments(entry, &value) {
            return Ok(refused);
        }
        let args = match value {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        // Admission: a bounded queue in front of a bounded number of running calls.
        let admitted = self.admitted.fetch_add(1, Ordering::SeqCst);
        let _admission = Admission(&self.admitted);
        if admitted >= self.limits.running + self.limits.queued {
            let refused = CallError::Busy { running: self.limits.running, queued: self.limits.queued };
            self.audit_refusal(entry, &refused);
            return Err(refused);
        }
        let permit = tokio::select! {
            p = self.slots.acquire() => p.ok(),
            () = cancel.cancelled() => None,
        };
        if permit.is_none() {
            return Ok(self.report(call_id(), CallEnd::Cancelled));
        }
        let policy = match self.policy_for(entry, &args) {
            Ok(p) => p,
            Err(refusal) => {
                let audit = self.call_auditor(entry);
                let id = audit.invocation().to_string();
                let target = format!("{name}({}={:?})", refusal.argument, refusal.value);
                audit.emit(
                    EventKind::Deny,
                    Some(Capability::McpTool),
                    Some(target),
                    Some(refusal.reason.clone()),
                    None,
                );
                return Ok(self.report(id, CallEnd::Refused(refusal)));
            }
        };
        let mut report = self.run(entry, &policy, &args, cancel).await;
        self.guard_output(entry, &mut report);
        Ok(report)
    }

    /// Audits a call refused before any grant was issued, under the call's own id
    /// ([`call_id`]); returns it.
    fn audit_deny(&self, entry: &Entry, target: String, reason: String) -> String {
        let audit = self.call_auditor(entry);
        audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(target), Some(reason), None);
        audit.invocation().to_string()
    }

    /// The auditor of a call that has no grant (refused before one was issued): its events'
    /// `invocation` is the call's own id ([`call_id`]), never a grant id.
    fn call_auditor(&self, entry: &Entry) -> Auditor {
        Auditor::new(self.sandbox.audit_sink().clone(), call_id(), entry.tool.digest().to_string())
    }

    fn audit_refusal(&self, entry: &Entry, refused: &CallError) {
        self.audit_deny(entry, entry.spec.name.clone(), refused.to_string());
    }

    fn policy_for(&self, entry: &Entry, args: &Map<String, Value>) -> Result<Policy, Refusal> {
        let mut builder = entry.spec.policy.clone();
        for b in &entry.spec.bindings {
            for bound in b.bind(args)? {
                match bound {
                    Bound::Path { path, handle, access, exec } => {
                        builder.bound_path(path, handle, access, exec);
                    }
                    Bound::Endpoint(ep) => {
                        builder.endpoint(ep);
                    }
                }
            }
        }
        Ok(builder.build())
    }

    async fn run(
        &self,
        entry: &Entry,
        policy: &Policy,
        args: &Map<String, Value>,
        cancel: CancellationToken,
    ) -> CallReport {
        let grant = self.sandbox.issue(&entry.tool, policy, None);
        let id = grant.id().to_string();
        let handle = grant.revocation_handle();
        let stdin = if entry.spec.stdin_arguments {
            Stdin::Bytes(serde_json::to_vec(args).unwrap_or_default())
        } else {
            Stdin::Empty
        };
        let call = Call {
            args: bind::expand_args(&entry.spec.args, args),
            stdin,
            output: Output::Capture,
            allow_degraded: false,
            observe: self.watch.observes(),
        };
        let audit = grant.audit().clone();
        let run = self.sandbox.run(&entry.tool, grant, call);
        tokio::pin!(run);
        let result = tokio::select! {
            r = &mut run => r,
            () = cancel.cancelled() => {
                handle.revoke(if self.stopping.load(Ordering::SeqCst) {
                    "server shutting down: the grace period is over"
                } else {
                    "call cancelled by the client"
                });
                run.await
            }
        };
        let mut report = match result {
            Ok(o) => {
                if o.status != Status::Revoked {
                    let definition = serde_json::to_value(server::definition(&entry.spec)).unwrap_or_default();
                    self.watch.after_call(&entry.spec.name, &definition, &o.observed, &audit);
                }
                let mut r = self.report(id.clone(), CallEnd::Ran(o.status));
                r.stdout = o.stdout;
                r.stderr = o.stderr;
                r.denials = o.refusals;
                r.refused = o.refused;
                r
            }
            Err(e) => self.report(id.clone(), CallEnd::Failed(e.to_string())),
        };
        if let (Some(v), CallEnd::Ran(Status::Exited(0))) = (&entry.output, &report.end) {
            match serde_json::from_slice::<Value>(&report.stdout) {
                Ok(json) => {
                    let problem = v
                        .iter_errors(&json)
                        .next()
                        .map(|e| format!("output does not match the output schema at {}: {e}", e.instance_path()));
                    match problem {
                        None => report.structured = Some(json),
                        Some(p) => report.output_error = Some(p),
                    }
                }
                Err(e) => report.output_error = Some(format!("output is not JSON: {e}")),
            }
        }
        report
    }

    fn report(&self, invocation: String, end: CallEnd) -> CallReport {
        CallReport {
            invocation,
            end,
            stdout: Vec::new(),
            stderr: Vec::new(),
            structured: None,
            output_error: None,
            denials: Vec::new(),
            refused: Vec::new(),
        }
    }
}

/// The prefix of a call's own id: the `invocation` of the audit events of a call refused
/// before any grant was issued (no `grant.issued`, `grant.revoked` or `exit` follows).
pub const CALL_ID_PREFIX: &str = "call-";

/// A fresh id for a call that has no grant: `call-` and 32 hex digits, told apart from a grant
/// id (32 hex digits alone) at a glance, so that no event claims a grant that was never issued.
pub fn call_id() -> String {
    // The same 128 random bits a grant id has (`GrantId::random`), under the call's prefix.
    format!("{CALL_ID_PREFIX}{}", GrantId::random())
}

/// Releases a call's place in the admission count when it ends, however it ends.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
