//! `mcp-sandbox run`, and the policy flags every subcommand that runs a tool shares.

use super::fail;
use crate::audit::{AuditSink, Fanout, JsonLinesSink, StderrDenials};
use crate::egress::resolve::DnsServerResolver;
use crate::workdir::Executor;
use crate::{Call, Error, Output, Policy, PolicyBuilder, Sandbox, SandboxBuilder, Status, Stdin};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The capability flags: the same meaning for `run` and `proxy`, for components and native
/// programs alike.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// TOML policy: the tool's declared capabilities
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Read-only access to a file or directory tree (repeatable)
    #[arg(long, value_name = "PATH")]
    pub allow_read: Vec<String>,
    /// Read-write access to a file or directory tree (repeatable)
    #[arg(long, value_name = "PATH")]
    pub allow_write: Vec<String>,
    /// Read and execute access to a file or tree, for native tools (repeatable)
    #[arg(long, value_name = "PATH")]
    pub allow_exec: Vec<String>,
    /// Reach an endpoint: [scheme://]host[:port]; host = name | *.suffix | IPv4 | [IPv6] | CIDR;
    /// port = N | N-M | * (repeatable)
    #[arg(long, value_name = "ENDPOINT")]
    pub allow_net: Vec<String>,
    /// Bind and listen on a local address: [tcp://|udp://]IP:PORT (repeatable)
    #[arg(long, value_name = "ADDR")]
    pub allow_listen: Vec<String>,
    /// Pass one host variable (NAME) or set one (NAME=VALUE) (repeatable)
    #[arg(long, value_name = "NAME[=VALUE]")]
    pub allow_env: Vec<String>,
    /// Pin a declared name to an address, as curl --resolve does (repeatable)
    #[arg(long, value_name = "HOST:ADDR")]
    pub resolve: Vec<String>,
    /// Resolve declared names with this DNS server instead of the system resolver
    #[arg(long, value_name = "ADDR:PORT")]
    pub resolver: Option<String>,
    /// Wall-clock limit [default: 30s for `run`, none for `proxy`]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Memory limit: a component's memory, a native tool's whole process tree [default: 256MiB]
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Append JSON-lines audit events to this file
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Run a native tool even if a layer (Landlock, the memory cgroup a declared --memory needs)
    /// cannot be enforced on this host; each missing layer is reported and audited
    #[arg(long)]
    pub allow_degraded: bool,
    /// Print on stderr what is granted beyond the flags: a native tool's own runtime (its
    /// interpreter, virtual environment, package tree, a launcher's cache, the variables it
    /// needs), with the reason for each
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Do not use the on-disk cache of compiled components
    #[arg(long)]
    no_cache: bool,
    /// Treat TOOL as a native program (detected automatically for ELF files and #! scripts)
    #[arg(long)]
    native: bool,
    /// The tool (a .wasm component, an ELF executable or a #! script; a bare name not found in
    /// the working directory is looked up in PATH), then its arguments: everything after TOOL
    /// goes to the tool untouched, `--help` included
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "TOOL")]
    command: Vec<String>,
}

impl PolicyArgs {
    /// The declared policy: flags first, then the file (which never overrides a limit flag).
    pub fn builder(&self) -> crate::Result<PolicyBuilder> {
        let mut b = Policy::builder();
        for p in &self.allow_read {
            b.allow_read(p)?;
        }
        for p in &self.allow_write {
            b.allow_write(p)?;
        }
        for p in &self.allow_exec {
            b.allow_exec(p)?;
        }
        for e in &self.allow_net {
            b.allow_net(e)?;
        }
        for e in &self.allow_listen {
            b.allow_listen(e)?;
        }
        for e in &self.allow_env {
            b.allow_env(e)?;
        }
        for r in &self.resolve {
            b.resolve(r)?;
        }
        if let Some(t) = &self.timeout {
            b.timeout(t)?;
        }
        if let Some(m) = &self.memory {
            b.memory(m)?;
        }
        if let Some(f) = &self.policy {
            b.file(f)?;
        }
        Ok(b)
    }
}

/// Audit sinks (denials on stderr, plus `--audit FILE`) and the resolver.
pub fn sandbox_builder(audit: Option<&PathBuf>, resolver: Option<&String>) -> crate::Result<SandboxBuilder> {
    let mut sinks: Vec<Arc<dyn AuditSink>> = vec![Arc::new(StderrDenials)];
    if let Some(path) = audit {
        sinks.push(Arc::new(JsonLinesSink::open(path)?));
    }
    let mut builder = Sandbox::builder().audit(Arc::new(Fanout(sinks)));
    if let Some(r) = resolver {
        let server = r.parse::<SocketAddr>().map_err(|_| Error::InvalidValue {
            origin: "--resolver".into(),
            what: "DNS server",
            value: r.clone(),
            reason: "not an IP:PORT".into(),
            hint: "e.g. --resolver 127.0.0.1:53 or --resolver [::1]:53".into(),
        })?;
        builder = builder.resolver(Arc::new(DnsServerResolver { server, timeout: Duration::from_secs(5) }));
    }
    Ok(builder)
}

pub fn runtime() -> crate::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::StartEngine(format!("async runtime: {e}")))
}

pub fn command(a: RunArgs) -> i32 {
    match run(a) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn run(a: RunArgs) -> crate::Result<i32> {
    let policy = a.policy.builder()?.build();
    let mut builder = sandbox_builder(a.policy.audit.as_ref(), a.policy.resolver.as_ref())?;
    if a.no_cache {
        builder = builder.cache(crate::CacheSetting::Disabled);
    }
    let rt = runtime()?;
    let sandbox = builder.build()?;
    let mut command = a.command.into_iter();
    let name = command.next().unwrap_or_default();
    // Flags come before TOOL: one clap did not know is a mistake, not a tool named `--x`.
    if name.starts_with('-') && !Path::new(&name).exists() {
        return Err(Error::InvalidValue {
            origin: "run".into(),
            what: "flag",
            value: name,
            reason: "is not a flag of `mcp-sandbox run` (flags go before TOOL)".into(),
            hint: "see `mcp-sandbox run --help`; a tool whose name starts with `-` is given as ./NAME".into(),
        });
    }
    let mut args: Vec<String> = command.collect();
    // `TOOL -- ARGS` (the documented form): the first `--` separates; anything else is the tool's.
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    let mut tool = sandbox.load_command(&tool_path(&name), &args, a.native)?;
    let here = std::env::current_dir().ok();
    if let Some(dir) = &here {
        tool = tool.in_dir(dir.clone());
    }
    report_runtime(&tool, a.policy.verbose);
    let hint = relative_path_hint(&tool, &policy, here.as_deref(), &args);
    let call = Call {
        args,
        stdin: Stdin::Inherit,
        output: Output::Inherit,
        allow_degraded: a.policy.allow_degraded,
        observe: false,
    };
    let outcome = rt.block_on(sandbox.invoke(&tool, &policy, call))?;
    report_status(&outcome.status);
    if let Some(line) = hint {
        eprintln!("mcp-sandbox: {line}");
    }
    Ok(outcome.status.exit_code())
}

/// The hint for a relative argument that names something in the caller's directory when the
/// tool will not start there (`crate::workdir`).
pub fn relative_path_hint(tool: &crate::Tool, policy: &Policy, here: Option<&Path>, args: &[String]) -> Option<String> {
    let here = here?;
    if tool.starts_in(policy).is_some() {
        return None;
    }
    let executor = if tool.is_native() { Executor::Native } else { Executor::Component };
    crate::workdir::relative_hint(executor, here, args, |p| p.exists())
}

/// The tool's path: as given if it exists there (or names a directory), else a bare name
/// looked up in PATH as a shell would (`run python3`).
pub fn tool_path(name: &str) -> PathBuf {
    let given = PathBuf::from(name);
    if given.exists() || name.contains('/') {
        return given;
    }
    super::mcp::which(name)
}

/// With `--verbose`, one line on stderr per tree and variable a native tool's runtime adds to
/// its grant, and the program run instead of a pyenv shim.
pub fn report_runtime(tool: &crate::Tool, verbose: bool) {
    let Some(r) = tool.resolution().filter(|_| verbose) else { return };
    if let Some((shim, why)) = &r.instead_of {
        eprintln!("mcp-sandbox: runs {} instead of {} ({why})", tool.path().display(), shim.display());
    }
    for d in &r.deps {
        let rights = if d.writable { "read+write+exec" } else { "read+exec" };
        eprintln!("mcp-sandbox: granted {rights} {} (runtime: {})", d.path.display(), d.why);
    }
    for v in &r.env {
        eprintln!("mcp-sandbox: set {}={} (runtime: {})", v.name, v.value, v.why);
    }
}

/// One line on stderr for an ending the tool did not choose.
pub fn report_status(status: &Status) {
    match status {
        Status::Trapped(msg) => {
            let first = msg.lines().next().unwrap_or("trap");
            eprintln!("mcp-sandbox: tool trapped: {first}");
        }
        Status::TimedOut(d) => {
            eprintln!("mcp-sandbox: tool stopped after {}; to allow longer: --timeout", humantime::format_duration(*d));
        }
        Status::MemoryExceeded(m) => {
            eprintln!("mcp-sandbox: tool stopped: {m}; to allow more: --memory")
        }
        _ => {}
    }
}
