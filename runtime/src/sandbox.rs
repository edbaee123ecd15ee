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
use crate::native::runtime_deps::{self, Resolution, RuntimeDep};
use crate::native::{self, NativeTool};
use crate::policy::{Access, EnvRule, PathRule, Policy};
use crate::wasm::{WasmEngine, WasmTool, default_cache_root};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A loaded tool: a WebAssembly component or a native program.
#[derive(Debug, Clone)]
pub struct Tool {
    inner: ToolKind,
    /// The caller's working directory, where the tool starts when its grant shows it
    /// (`crate::workdir`); `None`: where it always starts.
    workdir: Option<PathBuf>,
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

    /// Starts a native tool in `dir` (the caller's working directory) whenever its grant
    /// shows that directory: granted, or below a granted directory. `run` and `proxy` pass
    /// theirs, so that relative paths in the tool's arguments work; `serve` does not (its
    /// directory means nothing to a client). A component starts at `/` whatever this says:
    /// WASI's libc resolves relative paths from there and never asks the host for a directory.
    pub fn in_dir(mut self, dir: PathBuf) -> Tool {
        self.workdir = Some(dir);
        self
    }

    /// Where this tool will start under `policy`, if in the caller's directory (see
    /// [`in_dir`](Self::in_dir)); always `None` for a component.
    pub fn starts_in(&self, policy: &Policy) -> Option<PathBuf> {
        if !self.is_native() {
            return None;
        }
        let granted = policy.paths.iter().map(|p| p.path.as_path());
        crate::workdir::tool_dir(
            self.workdir.as_deref(),
            granted.chain(self.runtime().iter().map(|d| d.path.as_path())),
        )
    }

    /// The trees a native tool's own runtime adds to every grant (empty for components).
    pub fn runtime(&self) -> &[RuntimeDep] {
        self.resolution().map_or(&[], |r| &r.deps)
    }

    /// All a native tool's own runtime adds: its trees, the variables it needs, the program run
    /// instead of the one given (`None` for components).
    pub fn resolution(&self) -> Option<&Resolution> {
        match &self.inner {
            ToolKind::Native(t) => Some(&t.runtime),
            ToolKind::Wasm(_) => None,
        }
    }
}

/// `policy` plus a native tool's runtime trees, each with its reason, and the variables it
/// needs: the one place they enter a grant. Trees are read+exec and read-only, except a
/// launcher's own cache (read+write+exec, made if missing, mode 0700). A tree the policy
/// already grants (executable, and writable if the runtime's is) is left as declared; one that
/// cannot be opened as a grant (it changed since it was resolved) is left out, and the tool
/// fails visibly without it. A variable the policy sets itself keeps the policy's value.
fn with_runtime(policy: &Policy, runtime: &Resolution) -> Policy {
    let mut policy = policy.clone();
    for d in &runtime.deps {
        let covered =
            |p: &PathRule| p.exec && (!d.writable || p.access == Access::Write) && d.path.starts_with(&p.path);
        if policy.paths.iter().any(covered) {
            continue;
        }
        if d.writable {
            use std::os::unix::fs::DirBuilderExt;
            let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&d.path);
        }
        let Some(text) = d.path.to_str() else { continue };
        if let Ok((path, handle)) = crate::policy::path::open(Path::new("/"), text) {
            policy.paths.push(PathRule {
                path,
                access: if d.writable { Access::Write } else { Access::Read },
                exec: true,
                handle,
                reason: Some(format!("runtime: {}", d.why)),
            });
        }
    }
    for v in &runtime.env {
        if !policy.env.iter().any(|e| e.name() == v.name) {
            policy.env.push(EnvRule::Set(v.name.clone(), v.value.clone()));
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
    write_layer: bool,
}

impl SandboxBuilder {
    /// A learning sandbox (`mcp-sandbox learn`): the tools' writes land in a throw-away layer,
    /// never on the host. Native tools see each writable path of the grant through an overlay
    /// on a private tmpfs; WebAssembly tools get a private copy of each writable directory
    /// preopened at its path (`wasm::layer`). A layer that cannot be made refuses the call.
    pub fn write_layer(mut self, on: bool) -> Self {
        self.write_layer = on;
        self
    }

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
        Ok(Sandbox {
            broker,
            wasm: OnceLock::new(),
            cache_root: root,
            pooling: self.pooling,
            write_layer: self.write_layer,
        })
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
    /// See [`SandboxBuilder::write_layer`].
    write_layer: bool,
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
        // A pyenv shim runs as the interpreter it would start (the shim needs pyenv's scripts).
        let given = path;
        let unshimmed = runtime_deps::unshim(&runtime_deps::RealFs, path);
        let path = unshimmed.as_ref().map_or(path, |(p, _)| p.as_path());
        let bytes = std::fs::read(path).map_err(|source| Error::ReadTool { path: path.into(), source })?;
        let digest = ToolDigest::of(&bytes);
        if force_native || native::is_native(&bytes) {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o111 == 0 {
                let reason = "a native tool must be executable".to_string();
                return Err(Error::LoadTool { path: path.into(), reason, hint: "chmod +x it" });
            }
            let mut native = NativeTool::new(path, digest, args);
            native.runtime.instead_of = unshimmed.map(|(_, why)| (given.to_path_buf(), why));
            return Ok(Tool { inner: ToolKind::Native(Arc::new(native)), workdir: None });
        }
        Ok(Tool { inner: ToolKind::Wasm(self.wasm()?.load(path, &bytes, digest)?), workdir: None })
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
            && (!t.runtime.deps.is_empty() || !t.runtime.env.is_empty())
        {
            let policy = with_runtime(policy, &t.runtime);
            return self.broker.issue(GrantRequest { tool: tool.digest().clone(), policy: &policy, ttl, window });
        }
        self.broker.issue(GrantRequest { tool: tool.digest().clone(), policy, ttl, window })
    }

    /// Runs `tool` under an issued grant; the grant is revoked when this returns.
    pub async fn run(&self, tool: &Tool, grant: LiveGrant, call: Call) -> Result<Outcome> {
        let started = std::time::Instant::now();
        let mut result = match &tool.inner {
            ToolKind::Wasm(t) => match self.wasm() {
                Ok(w) => w.run(t, &grant, call, self.write_layer).await,
                Err(e) => Err(e),
            },
            ToolKind::Native(t) => native::run(t, &grant, call, tool.workdir.as_deref(), self.write_layer).await,
        };
        if let Ok(o) = &mut result {
            observe(o, &grant, started.elapsed());
        }
        finish(&grant, &result);
        result
    }

    /// Issues a grant and runs the tool under it.
    pub async fn invoke(&self, tool: &Tool, policy: &Policy, call: Call) -> Result<Outcome> {
        let grant = self.issue(tool, policy, None);
        self.run(tool, grant, call).await
    }
}

/// Completes what the executor observed with what the grant recorded and the call's measures.
fn observe(o: &mut Outcome, grant: &LiveGrant, wall: Duration) {
    let mut seen = grant.audit().recorder().snapshot();
    // The executor's own observations (its memory peak) win over the recorder's defaults.
    seen.memory = seen.memory.max(o.observed.memory);
    // The variables an executor saw handed over (a component's environment).
    seen.env.append(&mut o.observed.env);
    seen.wall_ms = u64::try_from(wall.as_millis()).unwrap_or(u64::MAX);
    seen.output_bytes = u64::try_from(o.stdout.len() + o.stderr.len()).unwrap_or(u64::MAX);
    seen.processes = seen.processes.max(o.observed.processes).max(1);
    let granted: Vec<&Path> = grant.grant().paths.iter().map(|p| p.path.as_path()).collect();
    keep_host_paths(&mut seen, &granted);
    o.observed = seen;
    o.refusals = grant.audit().recorder().refusals();
    o.refused = grant.audit().recorder().refusals_whole();
}

/// The sandbox's private scratch (its own /tmp…) is not host access: what the tool did there
/// is dropped from `seen`, except under a `granted` path, or for a path that exists on the host,
/// or whose directory below the scratch root does (which the tool meant, and did not get).
pub(crate) fn keep_host_paths(seen: &mut crate::profile::Observation, granted: &[&Path]) {
    let host = |p: &String| {
        let p = Path::new(p);
        let scratch = |d: &Path| native::PRIVATE_TREES.iter().any(|t| d.starts_with(t));
        let root = |d: &Path| native::PRIVATE_TREES.iter().any(|t| d == Path::new(t));
        !scratch(p)
            || granted.iter().any(|g| p.starts_with(g))
            || (!p.starts_with("/proc") && (p.exists() || p.parent().is_some_and(|d| !root(d) && d.is_dir())))
    };
    for set in [&mut seen.reads, &mut seen.lists, &mut seen.writes, &mut seen.execs] {
        set.retain(host);
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
