//! The library API: build a sandbox once, then load tools and invoke them, each invocation
//! under a fresh grant. The CLI (and later `serve` and `proxy`) sit on this same API.
//!
//! ```no_run
//! # async fn demo() -> mcp_sandbox_runtime::Result<()> {
//! use mcp_sandbox_runtime::{Call, Policy, Sandbox, Stdin};
//! let sandbox = Sandbox::builder().build()?;
//! let tool = sandbox.load("echo-json.wasm".as_ref())?;
//! let policy = Policy::builder().build();
//! let call = Call { stdin: Stdin::Bytes(br#"{"hi":1}"#.to_vec()), ..Call::default() };
//! let outcome = sandbox.invoke(&tool, &policy, call).await?;
//! println!("{}", String::from_utf8_lossy(&outcome.stdout));
//! # Ok(()) }
//! ```

use crate::audit::EventKind;
use crate::audit::{AuditSink, NullSink};
use crate::egress::resolve::Resolve;
use crate::error::{Error, Result};
use crate::grant::{GrantBroker, GrantRequest, LiveGrant, ToolDigest};
use crate::invoke::{Call, Outcome, Status};
use crate::native::runtime_deps::RuntimeDep;
use crate::native::{self, NativeTool};
use crate::policy::{Access, PathRule, Policy};
use crate::wasm::{WasmEngine, WasmTool, default_cache_root};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A loaded tool: a WebAssembly component or a native program.
#[derive(Debug, Clone)]
pub struct Tool {
    inner: ToolKind,
}

#[derive(Debug, Clone)]
enum ToolKind {
    Wasm(Arc<WasmTool>),
    Native(Arc<NativeTool>),
}

impl Tool {
    pub fn digest(&self) -> &ToolDigest {
        match &self.inner {
            ToolKind::Wasm(t) => &t.digest,
            ToolKind::Native(t) => &t.digest,
        }
    }

    pub fn path(&self) -> &Path {
        match &self.inner {
            ToolKind::Wasm(t) => &t.path,
            ToolKind::Native(t) => &t.path,
        }
    }

    pub fn is_native(&self) -> bool {
        matches!(self.inner, ToolKind::Native(_))
    }

    /// What a native tool's own runtime adds to every grant (empty for components).
    pub fn runtime(&self) -> &[RuntimeDep] {
        match &self.inner {
            ToolKind::Native(t) => &t.runtime.deps,
            ToolKind::Wasm(_) => &[],
        }
    }
}

/// `policy` plus a native tool's runtime trees, read+exec and read-only, each with its reason:
/// the one place they enter a grant. A tree the policy already grants executable is left as
/// declared; one that cannot be opened as a grant (it changed since it was resolved) is left
/// out, and the tool fails visibly without it.
fn with_runtime(policy: &Policy, deps: &[RuntimeDep]) -> Policy {
    let mut policy = policy.clone();
    for d in deps {
        if policy.paths.iter().any(|p| p.exec && d.path.starts_with(&p.path)) {
            continue;
        }
        let Some(text) = d.path.to_str() else { continue };
        if let Ok((path, handle)) = crate::policy::path::open(Path::new("/"), text) {
            policy.paths.push(PathRule {
                path,
                access: Access::Read,
                exec: true,
                handle,
                reason: Some(format!("runtime: {}", d.why)),
            });
        }
    }
    policy
}

/// Where compiled components are cached on disk.
#[derive(Debug, Clone, Default)]
pub enum CacheSetting {
    /// `$MCP_SANDBOX_CACHE`, else the user's cache directory.
    #[default]
    Default,
    Dir(PathBuf),
    Disabled,
}

#[derive(Debug, Default)]
pub struct SandboxBuilder {
    audit: Option<Arc<dyn AuditSink>>,
    resolver: Option<Arc<dyn Resolve>>,
    cache: CacheSetting,
    pooling: Option<u32>,
}

impl SandboxBuilder {
    /// Pre-reserves instance slots for up to `concurrent` simultaneous invocations: faster
    /// instantiation for long-lived hosts (the library, `serve`). Off by default, which suits
    /// one-shot processes (`run`).
    pub fn pooling(mut self, concurrent: u32) -> Self {
        self.pooling = Some(concurrent.max(1));
        self
    }

    /// Where audit events go (default: nowhere).
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// Also sends every audit event to `sink` (on top of [`audit`](Self::audit)).
    pub fn also_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(match self.audit.take() {
            Some(first) => Arc::new(crate::audit::Fanout(vec![first, sink])),
            None => sink,
        });
        self
    }

    /// How declared names are resolved (default: the host's resolver).
    pub fn resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    pub fn cache(mut self, cache: CacheSetting) -> Self {
        self.cache = cache;
        self
    }

    pub fn build(self) -> Result<Sandbox> {
        let root = match self.cache {
            CacheSetting::Default => default_cache_root(),
            CacheSetting::Dir(d) => Some(d),
            CacheSetting::Disabled => None,
        };
        let mut broker = GrantBroker::new(self.audit.unwrap_or_else(|| Arc::new(NullSink)));
        if let Some(r) = self.resolver {
            broker = broker.with_resolver(r);
        }
        Ok(Sandbox { broker, wasm: OnceLock::new(), cache_root: root, pooling: self.pooling })
    }
}

/// The sandbox: a grant broker and the executors. Share it (`Arc`) across concurrent calls.
#[derive(Debug)]
pub struct Sandbox {
    broker: GrantBroker,
    /// Built on the first WebAssembly tool: a native-only caller never pays for wasmtime.
    wasm: OnceLock<WasmEngine>,
    cache_root: Option<PathBuf>,
    pooling: Option<u32>,
}

impl Sandbox {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    fn wasm(&self) -> Result<&WasmEngine> {
        if let Some(w) = self.wasm.get() {
            return Ok(w);
        }
        let engine = WasmEngine::new(self.cache_root.as_deref(), self.pooling)?;
        Ok(self.wasm.get_or_init(|| engine))
    }

    /// Where this sandbox's audit events go.
    pub fn audit_sink(&self) -> &Arc<dyn AuditSink> {
        self.broker.audit_sink()
    }

    /// Reads, digests and compiles (or fetches from cache) a tool. ELF executables and `#!`
    /// scripts are native tools; `force_native` treats any file as one.
    pub fn load_as(&self, path: &Path, force_native: bool) -> Result<Tool> {
        self.load_command(path, &[], force_native)
    }

    /// [`load_as`](Self::load_as) for a command line: a native tool's runtime (its interpreter,
    /// virtual environment, package tree: `native::runtime_deps`) is resolved from the program
    /// and, for `node SCRIPT`, from its arguments, and granted with every call.
    pub fn load_command(&self, path: &Path, args: &[String], force_native: bool) -> Result<Tool> {
        let bytes = std::fs::read(path).map_err(|source| Error::ReadTool { path: path.into(), source })?;
        let digest = ToolDigest::of(&bytes);
        if force_native || native::is_native(&bytes) {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o111 == 0 {
                let reason = "a native tool must be executable".to_string();
                return Err(Error::LoadTool { path: path.into(), reason, hint: "chmod +x it" });
            }
            return Ok(Tool { inner: ToolKind::Native(Arc::new(NativeTool::new(path, digest, args))) });
        }
        Ok(Tool { inner: ToolKind::Wasm(self.wasm()?.load(path, &bytes, digest)?) })
    }

    /// [`load_as`](Self::load_as) with detection by content.
    pub fn load(&self, path: &Path) -> Result<Tool> {
        self.load_as(path, false)
    }

    /// Issues a fresh grant for one invocation of `tool` under `policy`. Hold on to its
    /// [`revocation_handle`](LiveGrant::revocation_handle) to cancel the call from outside.
    pub fn issue(&self, tool: &Tool, policy: &Policy, ttl: Option<Duration>) -> LiveGrant {
        self.issue_windowed(tool, policy, ttl, None)
    }

    /// [`issue`](Self::issue), with a just-in-time window: the grant's network is open only
    /// while calls are in flight ([`crate::grant::window`]; `proxy`).
    pub fn issue_windowed(
        &self,
        tool: &Tool,
        policy: &Policy,
        ttl: Option<Duration>,
        window: Option<crate::grant::WindowSpec>,
    ) -> LiveGrant {
        if let ToolKind::Native(t) = &tool.inner
            && !t.runtime.deps.is_empty()
        {
            let policy = with_runtime(policy, &t.runtime.deps);
            return self.broker.issue(GrantRequest { tool: tool.digest().clone(), policy: &policy, ttl, window });
        }
        self.broker.issue(GrantRequest { tool: tool.digest().clone(), policy, ttl, window })
    }

    /// Runs `tool` under an issued grant; the grant is revoked when this returns.
    pub async fn run(&self, tool: &Tool, grant: LiveGrant, call: Call) -> Result<Outcome> {
        let result = match &tool.inner {
            ToolKind::Wasm(t) => match self.wasm() {
                Ok(w) => w.run(t, &grant, call).await,
                Err(e) => Err(e),
            },
            ToolKind::Native(t) => native::run(t, &grant, call).await,
        };
        finish(&grant, &result);
        result
    }

    /// Issues a grant and runs the tool under it.
    pub async fn invoke(&self, tool: &Tool, policy: &Policy, call: Call) -> Result<Outcome> {
        let grant = self.issue(tool, policy, None);
        self.run(tool, grant, call).await
    }
}

/// Ends an invocation, for every executor alike: revokes the grant, then audits how it ended,
/// with the error's one line when the sandbox refused or failed (exit status 125/126).
fn finish(grant: &LiveGrant, result: &Result<Outcome>) {
    grant.revoke(match result {
        Ok(Outcome { status: Status::TimedOut(_), .. }) => "timeout",
        Ok(Outcome { status: Status::Revoked, .. }) => "revoked",
        Ok(_) => "invocation ended",
        Err(_) => "invocation failed",
    });
    if !grant.audit().enabled() {
        return;
    }
    let detail = match result {
        Ok(o) => serde_json::json!({ "status": o.status.exit_code(), "outcome": format!("{:?}", o.status) }),
        Err(e) => serde_json::json!({ "status": e.exit_code(), "error": e.to_string() }),
    };
    grant.audit().emit(EventKind::Exit, None, None, None, Some(detail));
}
