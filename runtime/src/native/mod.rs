//! The native executor: ELF programs and `#!` scripts confined by user, mount, PID, network,
//! IPC, UTS and cgroup namespaces, Landlock, seccomp-bpf and rlimits, under the same grants,
//! flags, audit log and exit statuses as WebAssembly components. The network namespace has
//! only `lo`; the egress broker ([`broker`], fed by [`net`], deciding through `crate::egress`) is the only way out.

mod bpf;
pub mod broker;
mod cgroup;
mod granted;
mod handover;
mod identity;
pub mod init;
pub mod landlock;
mod layer;
pub use layer::LAYER_SIZE;
pub mod layers;
pub mod limits;
mod mounts;
pub use mounts::{PRIVATE_TREES, provided_paths};
mod connect;
pub mod net;
mod notify;
mod route;
pub mod runtime_deps;
pub mod seccomp;
mod spec;
pub(crate) mod sys;

use crate::audit::{Capability, EventKind};
use crate::error::{Error, Result};
use crate::grant::{LiveGrant, ToolDigest};
use crate::invoke::{Call, Outcome, Output, Status, Stdin};
use crate::policy::Access;
use broker::Broker;
use spec::{Bind, RLimits, Spec};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A native program: an ELF executable or a `#!` script.
#[derive(Debug, Clone)]
pub struct NativeTool {
    /// Absolute, as invoked (symlinks kept: a venv's `python` is found through them).
    pub path: PathBuf,
    pub digest: ToolDigest,
    /// The interpreter and code the program needs (`runtime_deps`), granted with every call.
    pub runtime: runtime_deps::Resolution,
}

impl NativeTool {
    /// `path` with the runtime it needs when run with `args`.
    pub fn new(path: &std::path::Path, digest: ToolDigest, args: &[String]) -> NativeTool {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let (system, _) = mounts::system_binds();
        let visible = |p: &std::path::Path| system.iter().any(|b| b.exec && p.starts_with(&b.path));
        let runtime = runtime_deps::resolve(&runtime_deps::RealFs, &path, args, TOOL_PATH, &visible);
        NativeTool { path, digest, runtime }
    }
}

/// The tool's `PATH` unless the grant sets one: not a host value, the sandbox's own system view.
const TOOL_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Whether these leading bytes are a native program rather than WebAssembly.
pub fn is_native(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF") || bytes.starts_with(b"#!")
}

fn unsupported(what: String) -> Error {
    Error::RunTool(what)
}

/// The sandbox's plan for one call: `data` is the per-process data bound where no memory
/// cgroup holds the tree (`limits::memory_bound`), `workdir` the caller's working directory.
fn spec_for(
    tool: &NativeTool,
    grant: &LiveGrant,
    args: Vec<String>,
    data: Option<u64>,
    workdir: Option<&std::path::Path>,
) -> Result<Spec> {
    let g = grant.grant();
    if !g.net.listen.is_empty() {
        return Err(unsupported(
            "listening is not available to native tools yet; remove --allow-listen, or use a WebAssembly tool".into(),
        ));
    }
    let net = net::NetPlan::for_endpoints(&g.planned_endpoints()).map_err(Error::RunTool)?;
    if let Some(interp) = &tool.runtime.missing_interpreter {
        return Err(Error::RunTool(format!(
            "{} starts with #!{}, which does not exist on this host; install it, or fix the script's first line",
            tool.path.display(),
            interp.display()
        )));
    }
    let (mut binds, links) = mounts::system_binds();
    // Run as invoked when a granted tree shows it there (a venv's `python`: CPython finds the
    // venv through that path, never through the interpreter it links to).
    let program = if g.paths.iter().any(|p| p.exec && tool.path.starts_with(&p.path)) {
        tool.path.clone()
    } else {
        std::fs::canonicalize(&tool.path).map_err(|source| Error::ReadTool { path: tool.path.clone(), source })?
    };
    // The program itself, unless the system view or the grant already shows it executable.
    let shown = binds.iter().any(|b| b.exec && program.starts_with(&b.path))
        || g.paths.iter().any(|r| r.exec && program.starts_with(&r.path));
    if !shown {
        binds.push(Bind { path: program.clone(), writable: false, exec: true, granted: true });
    }
    // The grant's paths are mounted from the descriptors their checks opened (`granted`).
    let mut handles = Vec::new();
    for p in &g.paths {
        handles.push(binds.len());
        binds.push(Bind { path: p.path.clone(), writable: p.access == Access::Write, exec: p.exec, granted: true });
    }
    let mut env: Vec<(String, String)> = g.env.iter().map(|v| (v.name.clone(), v.value.clone())).collect();
    if !env.iter().any(|(n, _)| n == "PATH") {
        // Not a host value: the sandbox's own system view.
        env.push(("PATH".into(), TOOL_PATH.into()));
    }
    if let Some(port) = net.proxy_port {
        // For proxy-aware clients; the rest reach the relays through the DNS stub.
        let proxy = format!("http://127.0.0.1:{port}");
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            if !env.iter().any(|(n, _)| n == name) {
                env.push((name.into(), proxy.clone()));
            }
        }
    }
    // No address-space limit: runtimes reserve far more than they use (see `limits`).
    let limits = RLimits {
        cpu_seconds: limits::cpu_seconds(g.limits.timeout, std::thread::available_parallelism().map_or(1, |n| n.get())),
        data,
        processes: limits::PROCESS_LIMIT,
        open_files: 1024,
        file_size: 1 << 30,
    };
    let granted = g.paths.iter().map(|p| p.path.as_path());
    let cwd = crate::workdir::tool_dir(workdir, granted).unwrap_or_else(|| PathBuf::from("/tmp"));
    let (outer_uid, outer_gid) = identity::tool_host_ids().map_err(Error::RunTool)?;
    Ok(Spec {
        program,
        args,
        env,
        binds,
        links,
        outer_uid,
        outer_gid,
        limits,
        cwd,
        net,
        landlock: true,
        cgroups: 0,
        seccomp: Vec::new(),
        handles,
        layer: false,
    })
}

async fn read_capped(mut r: impl tokio::io::AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = cap.saturating_sub(out.len());
        cut |= n > room;
        out.extend_from_slice(&buf[..n.min(room)]);
    }
    (out, cut)
}

/// Runs one invocation under `grant`. The caller ([`Sandbox::run`](crate::Sandbox::run)) revokes
/// the grant and audits the end, whatever happened.
/// `workdir` is the caller's working directory: the tool starts there when the grant shows it
/// (`crate::workdir`), else in its private `/tmp`. With `layer` (a learning sandbox), the
/// grant's writable paths are shown through a throw-away write layer (`layer`): the tool's
/// writes never reach the host, and a layer that cannot be made fails the setup.
pub async fn run(
    tool: &NativeTool,
    grant: &LiveGrant,
    call: Call,
    workdir: Option<&std::path::Path>,
    layer: bool,
) -> Result<Outcome> {
    let facts = layers::HostFacts::probe();
    let missing = layers::missing(&facts);
    for m in &missing {
        if m.essential || !call.allow_degraded {
            return Err(Error::RunTool(m.to_string()));
        }
    }
    for m in &missing {
        grant.audit().emit(EventKind::Degraded, None, Some(m.layer.into()), Some(m.why.clone()), None);
    }
    let init = init_program()?;
    let mut cmd = std::process::Command::new(&init);
    // argv[0] is what the tool sees in /proc/1/cmdline: not the host path of the init program.
    std::os::unix::process::CommandExt::arg0(&mut cmd, "mcp-sandbox-init");
    cmd.arg("__native-init").env_clear();
    let (ours, theirs) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| Error::RunTool(format!("egress channel: {e}")))?;
    let pipe = init::spec_pipe(&mut cmd, theirs).map_err(|e| Error::RunTool(format!("pass sandbox spec: {e}")))?;
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    match &call.stdin {
        Stdin::Inherit => cmd.stdin(Stdio::inherit()),
        Stdin::Bytes(_) => cmd.stdin(Stdio::piped()),
        Stdin::Empty => cmd.stdin(Stdio::null()),
        Stdin::Stream(fd) => cmd.stdin(Stdio::from(crate::invoke::stream::dup(fd)?)),
    };
    match &call.output {
        Output::Capture => cmd.stdout(Stdio::piped()).stderr(Stdio::piped()),
        Output::Inherit => &mut cmd,
        Output::Stream(fd) => cmd.stdout(Stdio::from(crate::invoke::stream::dup(fd)?)),
        Output::Streams { stdout, stderr } => cmd
            .stdout(Stdio::from(crate::invoke::stream::dup(stdout)?))
            .stderr(Stdio::from(crate::invoke::stream::dup(stderr)?)),
    };
    let mut child = cmd.spawn().map_err(|e| Error::RunTool(format!("start the sandbox ({}): {e}", init.display())))?;
    // Our copy of the pipe's read end goes with the command; the child holds its own.
    drop(cmd);
    // The cgroups, and the plan, made while stage 1 starts (it waits for the spec, and exits
    // quietly if the pipe closes empty, as it does when anything fails here and the child is
    // killed). The process-count limit: a pids cgroup where we can make one; RLIMIT_NPROC
    // always (it binds a root supervisor's tool too: that one runs as an unprivileged host
    // user). The memory limit: a memory cgroup over the whole tree where we can make one, else
    // what `limits::memory_bound` decides. Stage 1 joins them before it starts anything.
    let memory = grant.grant().limits;
    let cgroups = cgroup::Cgroups::create(&grant.id().to_string(), limits::PROCESS_LIMIT, memory.memory);
    let (bound, fallback) =
        limits::memory_bound(memory.memory, memory.memory_declared, call.allow_degraded, cgroups.no_memory.as_deref())
            .map_err(Error::RunTool)?;
    match fallback {
        Some(limits::Fallback::Degraded(why)) => {
            grant.audit().emit(EventKind::Degraded, None, Some("memory cgroup".into()), Some(why), None);
        }
        Some(limits::Fallback::Undeclared(why)) => {
            let target = match bound {
                limits::MemoryBound::PerProcess(n) => {
                    format!("{} of data per process", crate::policy::units::format_size(n))
                }
                limits::MemoryBound::Tree => String::new(),
            };
            grant.audit().allow(Capability::Memory, target, why);
        }
        None => {}
    }
    let data = match bound {
        limits::MemoryBound::PerProcess(n) => Some(n),
        limits::MemoryBound::Tree => None,
    };
    let joiners = cgroups.joiners().map_err(|e| Error::RunTool(format!("open the sandbox's cgroup: {e}")))?;
    let cgroup_count = joiners.len();
    handover::send_cgroups(&ours, joiners).map_err(Error::RunTool)?;
    let mut spec = spec_for(tool, grant, call.args, data, workdir)?;
    spec.landlock = facts.landlock_abi >= landlock::REQUIRED as i32;
    spec.cgroups = cgroup_count;
    spec.layer = layer;
    spec.seccomp = packed_filters(call.observe)?;
    let paths: Vec<_> = grant.grant().paths.iter().map(|p| p.handle.fd()).collect();
    handover::send_paths(&ours, &paths).map_err(Error::RunTool)?;
    init::write_spec(pipe, &spec).map_err(|e| Error::RunTool(format!("pass sandbox spec: {e}")))?;
    if let (Stdin::Bytes(bytes), Some(mut input)) = (call.stdin, child.stdin.take()) {
        tokio::spawn(async move {
            let _ = input.write_all(&bytes).await;
        });
    }
    // The broker: serves what the sandbox opened, until the grant is revoked.
    let broker = Broker::new(grant.clone(), &spec.net.stand_ins);
    // The sockets, then the seccomp listener, whose notifications are answered on a thread of
    // their own until no process is left under the filter.
    let (audited, plan) = (grant.clone(), spec.net.clone());
    let handed = tokio::task::spawn_blocking(move || {
        let sockets = handover::receive(&ours);
        if let Ok(Some(listener)) = handover::receive_listener(&ours) {
            std::thread::spawn(move || notify::serve(listener, audited, plan));
        }
        sockets
    });
    let settling = broker.clone();
    let mut serving = tokio::spawn(async move {
        let Ok(Ok(sockets)) = handed.await else { return };
        for (kind, fd) in sockets {
            serve(&broker, kind, fd);
        }
    });
    let cap = usize::try_from(grant.grant().limits.output).unwrap_or(usize::MAX);
    let out = child.stdout.take().map(|s| tokio::spawn(read_capped(s, cap)));
    let err = child.stderr.take().map(|s| tokio::spawn(read_capped(s, cap)));
    let timeout = grant.grant().limits.timeout;
    let status = tokio::select! {
        s = child.wait() => match s {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                let code = s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(libc::SIGKILL));
                // Asked before the cgroups go: did the memory cgroup kill anything?
                let (status, memory_kill) = limits::ending(code, cgroups.oom_kills(), memory.memory);
                if let Some(why) = memory_kill {
                    grant.audit().limit(Capability::Memory, crate::policy::units::format_size(memory.memory), why);
                }
                status
            }
            Err(e) => return Err(Error::RunTool(format!("wait for the sandbox: {e}"))),
        },
        () = tokio::time::sleep(timeout) => {
            grant.audit().limit(Capability::Time, humantime::format_duration(timeout).to_string(), "wall-clock limit reached");
            Status::TimedOut(timeout)
        }
        () = grant.revoked() => Status::Revoked,
    };
    let status = if grant.is_revoked() { Status::Revoked } else { status };
    if matches!(status, Status::Exited(_)) && !spec.net.is_empty() {
        // A tool that connected, wrote and exited at once may have left its connection queued
        // on a listener not served yet: first let the hand-over finish and the relays start
        // (it ends at once if the sandbox handed nothing over), then let them deliver.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut serving).await;
        settling.settle(std::time::Duration::from_secs(2)).await;
    }
    // Killing stage 1 kills PID 1 of the sandbox (parent-death signal), and with it every process inside.
    let _ = child.start_kill();
    let _ = child.wait().await;
    serving.abort();
    // The tree's memory peak, where a memory cgroup measured it (else 0: not measured).
    let memory_peak = cgroups.memory_peak().unwrap_or(0);
    drop(cgroups);
    let (mut stdout, mut stderr, mut truncated) = (Vec::new(), Vec::new(), false);
    if let Some(h) = out {
        (stdout, truncated) = h.await.unwrap_or_default();
    }
    if let Some(h) = err {
        let (e, cut) = h.await.unwrap_or_default();
        stderr = e;
        truncated |= cut;
    }
    let mut outcome = Outcome::new(grant.id(), status, stdout, stderr, truncated);
    outcome.observed.memory = memory_peak;
    Ok(outcome)
}

/// The seccomp filters, packed for the spec: the same for every sandbox, so compiled once per
/// process (a server runs many sandboxes).
fn packed_filters(observe: bool) -> Result<Vec<String>> {
    type Packed = std::sync::OnceLock<std::result::Result<Vec<String>, String>>;
    static PACKED: [Packed; 2] = [Packed::new(), Packed::new()];
    PACKED[usize::from(observe)]
        .get_or_init(|| {
            seccomp::compile_for(observe).map(|f| f.iter().map(|p| bpf::pack(p)).collect()).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::RunTool)
}

/// The init program set by [`set_init_program`].
static INIT_PROGRAM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Names the program that runs the init stages (an `mcp-sandbox-init` binary), for a program
/// embedding the library that neither dispatches [`init_stage`] in its own `main` nor ships
/// `mcp-sandbox-init` beside itself. Set once per process; later calls are ignored.
pub fn set_init_program(path: &std::path::Path) {
    let _ = INIT_PROGRAM.set(path.to_path_buf());
}

/// The program that runs the init stages: the one [`set_init_program`] named, else
/// `$MCP_SANDBOX_INIT`, else `mcp-sandbox-init` next to
/// this executable (small, so quick to start: it does not carry the WebAssembly runtime), else
/// this executable itself (`mcp-sandbox` dispatches `__native-init` too).
fn init_program() -> Result<PathBuf> {
    if let Some(p) = INIT_PROGRAM.get() {
        return Ok(p.clone());
    }
    if let Some(p) = std::env::var_os("MCP_SANDBOX_INIT") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| Error::RunTool(format!("cannot find own executable: {e}")))?;
    let init = exe.with_file_name("mcp-sandbox-init");
    Ok(if init.is_file() { init } else { exe })
}

/// Starts serving one socket the sandbox handed over.
fn serve(broker: &Arc<Broker>, kind: net::Opened, fd: std::os::fd::OwnedFd) -> Option<()> {
    let b = broker.clone();
    match kind {
        net::Opened::Dns => {
            tokio::spawn(b.serve_dns(udp(fd)?));
        }
        net::Opened::Udp(at) => {
            tokio::spawn(b.serve_udp(udp(fd)?, at));
        }
        net::Opened::UdpWildcard(port) => {
            tokio::spawn(b.serve_udp_suffix(udp(fd)?, port));
        }
        net::Opened::Relay(_) | net::Opened::Proxy => {
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true).ok()?;
            let l = tokio::net::TcpListener::from_std(l).ok()?;
            match kind {
                net::Opened::Proxy => tokio::spawn(b.serve_proxy(l)),
                _ => tokio::spawn(b.serve_relay(l)),
            };
        }
    }
    Some(())
}

fn udp(fd: std::os::fd::OwnedFd) -> Option<tokio::net::UdpSocket> {
    let s = std::net::UdpSocket::from(fd);
    s.set_nonblocking(true).ok()?;
    tokio::net::UdpSocket::from_std(s).ok()
}

/// Entry points of the init stages, dispatched before anything else in `main`.
pub fn init_stage(args: &[String]) -> Option<i32> {
    match args.get(1).map(String::as_str) {
        Some("__native-init") => Some(init::stage1(args.get(2).map(String::as_str))),
        _ => None,
    }
}
