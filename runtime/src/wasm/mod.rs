//! The WebAssembly executor: WASI 0.2 command components under wasmtime.
//!
//! One [`WasmEngine`] per process: one wasmtime `Engine`, one `Linker` with WASI, wasi:http
//! and the grant-aware name look-up, an epoch ticker, and the compiled-component caches
//! (in memory by digest, and on disk). Each invocation gets a fresh `Store` built from its
//! grant alone; nothing survives from one invocation to the next.

mod cache;
mod host_memory;
mod http;
mod layer;
mod lookup;
mod observe;
mod preopen;
mod sockets;
mod state;

pub use host_memory::{COUNT_EVERY, MAX_RESOURCES, OUTGOING_BODY_CHUNK, RESOURCE_COST};

pub use cache::default_root as default_cache_root;

use crate::audit::Capability;
use crate::egress::quota::Quota;
use crate::error::{Error, Result};
use crate::grant::{LiveGrant, ToolDigest};
use crate::invoke::{Call, Outcome, Output, Status, Stdin, stream};
use crate::policy::endpoint::Transport;
use cache::ComponentCache;
use state::{Limiter, MemoryLimitExceeded, StoreState};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable, ResourceTableError};
use wasmtime::{CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

/// How often the epoch advances; a running tool yields to the runtime at least this often,
/// which bounds how late a timeout or revocation can stop it.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A loaded, compiled tool, ready to instantiate.
#[derive(Clone)]
pub struct WasmTool {
    pub digest: ToolDigest,
    pub path: PathBuf,
    name: String,
    pre: CommandPre<StoreState>,
}

impl std::fmt::Debug for WasmTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmTool").field("digest", &self.digest).field("path", &self.path).finish()
    }
}

/// Stops the epoch ticker thread when the engine goes away.
#[derive(Debug)]
struct Ticker(Arc<AtomicBool>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub struct WasmEngine {
    engine: Engine,
    linker: Linker<StoreState>,
    disk: Option<ComponentCache>,
    loaded: Mutex<HashMap<ToolDigest, Arc<WasmTool>>>,
    _ticker: Ticker,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine").field("disk_cache", &self.disk).finish()
    }
}

impl WasmEngine {
    /// Builds the engine. `cache_root` = `None` disables the on-disk cache. `pooling` =
    /// `Some(n)` pre-reserves slots for `n` concurrent instances (faster instantiation for
    /// long-lived hosts; each memory is then also capped at 4 GiB); `None` allocates on demand.
    pub fn new(cache_root: Option<&Path>, pooling: Option<u32>) -> Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Deterministic, bounded guest stacks.
        config.max_wasm_stack(1 << 20);
        if let Some(n) = pooling {
            let mut pool = PoolingAllocationConfig::default();
            // A component may hold several core instances, memories and tables.
            pool.total_component_instances(n)
                .total_core_instances(n * 4)
                .total_memories(n * 2)
                .total_tables(n * 4)
                .max_memory_size(4 << 30);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| Error::StartEngine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| Error::StartEngine(e.to_string()))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| Error::StartEngine(e.to_string()))?;
        lookup::add_to_linker(&mut linker).map_err(|e| Error::StartEngine(e.to_string()))?;
        sockets::add_to_linker(&mut linker).map_err(|e| Error::StartEngine(e.to_string()))?;
        observe::add_to_linker(&mut linker).map_err(|e| Error::StartEngine(e.to_string()))?;

        let disk = cache_root.and_then(|root| match ComponentCache::open(root, &engine) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("mcp-sandbox: warning: compiled-component cache disabled: {e}; set MCP_SANDBOX_CACHE to a private directory");
                None
            }
        });

        let stop = Arc::new(AtomicBool::new(false));
        let (weak, flag) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("mcp-sandbox-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| Error::StartEngine(format!("epoch ticker: {e}")))?;
        Ok(WasmEngine { engine, linker, disk, loaded: Mutex::new(HashMap::new()), _ticker: Ticker(stop) })
    }

    /// Loads a component from bytes already read (and digested) by the caller.
    pub fn load(&self, path: &Path, bytes: &[u8], digest: ToolDigest) -> Result<Arc<WasmTool>> {
        if let Some(t) = self.loaded.lock().ok().and_then(|m| m.get(&digest).cloned()) {
            return Ok(t);
        }
        let load_err = |reason: String, hint: &'static str| Error::LoadTool { path: path.into(), reason, hint };
        if !bytes.starts_with(b"\0asm") {
            return Err(load_err(
                "not a WebAssembly file".into(),
                "pass a .wasm component built for wasm32-wasip2, or a native executable",
            ));
        }
        if bytes.get(4..8) == Some(&[1, 0, 0, 0]) {
            return Err(load_err(
                "this is a core WebAssembly module, not a component".into(),
                "build for wasm32-wasip2, or convert with `wasm-tools component new`",
            ));
        }
        let cached = self.disk.as_ref().and_then(|c| c.get(&self.engine, &digest));
        let component = match cached {
            Some(c) => c,
            None => {
                let c = Component::new(&self.engine, bytes)
                    .map_err(|e| load_err(format!("{e:#}"), "the file must be a valid WASI 0.2 component"))?;
                if let Some(cache) = &self.disk {
                    cache.put(&c, &digest);
                }
                c
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(CommandPre::new)
            .map_err(|e| Error::InstantiateTool { path: path.into(), reason: format!("{e:#}") })?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("tool").to_string();
        let tool = Arc::new(WasmTool { digest: digest.clone(), path: path.into(), name, pre });
        if let Ok(mut m) = self.loaded.lock() {
            m.insert(digest, tool.clone());
        }
        Ok(tool)
    }

    /// Runs one invocation under `grant`. The caller ([`Sandbox::run`](crate::Sandbox::run))
    /// revokes the grant and audits the end, whatever happened.
    /// With `layer` (a learning sandbox), writable directories are private copies (`layer`).
    pub async fn run(&self, tool: &WasmTool, grant: &LiveGrant, call: Call, layer: bool) -> Result<Outcome> {
        let g = grant.grant();
        let limits = g.limits;
        let mut b = WasiCtxBuilder::new();
        b.arg(&tool.name).args(&call.args);
        for v in &g.env {
            b.env(&v.name, &v.value);
        }
        let _staging = preopen::preopen(&mut b, &g.paths, &g.id.to_string(), layer)?;
        match call.stdin {
            Stdin::Inherit => {
                b.inherit_stdin();
            }
            Stdin::Bytes(bytes) => {
                b.stdin(MemoryInputPipe::new(bytes));
            }
            Stdin::Empty => {}
            Stdin::Stream(fd) => {
                b.stdin(wasmtime_wasi::cli::AsyncStdinStream::new(stream::reader(&fd)?));
            }
        }
        let cap = usize::try_from(limits.output).unwrap_or(usize::MAX);
        let (out, err) = (MemoryOutputPipe::new(cap), MemoryOutputPipe::new(cap));
        match &call.output {
            Output::Capture => {
                b.stdout(out.clone()).stderr(err.clone());
            }
            Output::Inherit => {
                b.inherit_stdout().inherit_stderr();
            }
            Output::Stream(fd) => {
                b.stdout(wasmtime_wasi::cli::AsyncStdoutStream::new(64 << 10, stream::writer(fd)?)).inherit_stderr();
            }
            Output::Streams { stdout, stderr } => {
                b.stdout(wasmtime_wasi::cli::AsyncStdoutStream::new(64 << 10, stream::writer(stdout)?))
                    .stderr(wasmtime_wasi::cli::AsyncStdoutStream::new(64 << 10, stream::writer(stderr)?));
            }
        }
        b.allow_tcp(true).allow_udp(true).allow_ip_name_lookup(false);
        let checker = grant.clone();
        b.socket_addr_check(move |addr, usage| {
            let grant = checker.clone();
            let mut check = Box::pin(async move {
                match usage {
                    SocketAddrUse::TcpConnect => grant.check_connect(addr, Transport::Tcp).await.is_ok(),
                    // A datagram out, or one in: both only to/from declared UDP endpoints.
                    SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
                        grant.check_connect(addr, Transport::Udp).await.is_ok()
                    }
                    SocketAddrUse::TcpBind => grant.check_bind(addr, Transport::Tcp, false).is_ok(),
                    SocketAddrUse::TcpListen => grant.check_bind(addr, Transport::Tcp, true).is_ok(),
                    SocketAddrUse::UdpBind => grant.check_bind(addr, Transport::Udp, false).is_ok(),
                    // An accepted peer on a declared listener.
                    SocketAddrUse::TcpAccept => grant.is_active(),
                }
            });
            // Decided at once when nothing needs resolving (a literal address, a name already
            // pinned): then a UDP send to an undeclared address fails in the guest's own
            // `send`, instead of reporting success and failing the next one. Otherwise the
            // check goes on as its own task (the future handed back must be Sync).
            if let Poll::Ready(allowed) = check.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                return Box::pin(std::future::ready(allowed));
            }
            let task = tokio::spawn(check);
            Box::pin(async move { task.await.unwrap_or(false) })
        });

        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let quota = Quota::new();
        let state = StoreState {
            wasi: b.build(),
            table,
            http: WasiHttpCtx::new(),
            hooks: http::GrantHttpHooks { grant: grant.clone(), quota: quota.clone() },
            limiter: Limiter { max_memory: limits.memory, used: 0, host: 0, peak: 0, grant: grant.clone() },
            grant: grant.clone(),
            quota,
            socket_permits: Vec::new(),
            host_calls: 0,
            observed_dirs: call.observe.then(std::collections::HashMap::new),
            tcp_leases: HashMap::new(),
            seen_generation: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // What the host holds for the guest is counted against --memory as it grows.
        store.call_hook(|mut cx, hook| match hook {
            CallHook::ReturningFromHost => cx.data_mut().after_host_call(),
            _ => Ok(()),
        });
        store.epoch_deadline_async_yield_and_update(1);

        let run = async {
            let cmd = tool.pre.instantiate_async(&mut store).await?;
            cmd.wasi_cli_run().call_run(&mut store).await
        };
        let status = tokio::select! {
            r = tokio::time::timeout(limits.timeout, run) => match r {
                Err(_) => {
                    grant.audit().limit(Capability::Time, humantime::format_duration(limits.timeout).to_string(), "wall-clock limit reached");
                    Status::TimedOut(limits.timeout)
                }
                Ok(Ok(Ok(()))) => Status::Exited(0),
                Ok(Ok(Err(()))) => Status::Exited(1),
                Ok(Err(e)) => classify(&e, grant),
            },
            () = grant.revoked() => Status::Revoked,
        };
        // Revoked from outside while the tool was reacting to it (a cut connection, say): the
        // revocation is what ended the invocation.
        let status = if grant.is_revoked() { Status::Revoked } else { status };
        // What the host holds at the end counts too (a count may not have fallen on a peak).
        let held = host_memory::held(&mut store.data_mut().table);
        let limiter = &store.data().limiter;
        let peak = limiter.peak.max(limiter.used.saturating_add(held));
        drop(store);
        let (stdout, stderr) = (out.contents().to_vec(), err.contents().to_vec());
        let truncated = call.output.is_capture() && (stdout.len() >= cap || stderr.len() >= cap);
        if truncated {
            grant.audit().limit(
                Capability::Output,
                crate::policy::units::format_size(limits.output),
                "captured output cut at the limit",
            );
        }
        let mut outcome = Outcome::new(g.id, status, stdout, stderr, truncated);
        outcome.observed.memory = peak;
        // A component's environment is handed over whole, when it starts (no call reads one
        // variable that the host could see): what it was given is what it could read.
        if call.observe {
            outcome.observed.env = g.env.iter().map(|v| v.name.clone()).collect();
        }
        Ok(outcome)
    }
}

fn classify(e: &wasmtime::Error, grant: &LiveGrant) -> Status {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Status::Exited(exit.0);
    }
    if let Some(m) = e.downcast_ref::<MemoryLimitExceeded>() {
        return Status::MemoryExceeded(m.to_string());
    }
    // The resource table is full: the guest holds MAX_RESOURCES handles, a memory limit.
    if matches!(e.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full))
        || e.chain().any(|c| matches!(c.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)))
    {
        let why = format!("more than {MAX_RESOURCES} resources (MAX_RESOURCES) held at once");
        grant.audit().limit(Capability::Memory, format!("{MAX_RESOURCES} resources"), why.clone());
        return Status::MemoryExceeded(why);
    }
    Status::Trapped(format!("{e:#}"))
}
