//! `mcp-sandbox serve`, `proxy` and `pins`: the MCP subcommands.

use super::fail;
use super::run::{PolicyArgs, report_status, runtime, sandbox_builder};
use crate::error::{Error, Result};
use crate::mcp::bind::ToolBinding;
use crate::mcp::guard::{ResultMode, VetMode};
use crate::mcp::pins::PinStore;
use crate::mcp::proxy::{self, ProxyOptions};
use crate::mcp::server::{HttpOptions, McpServer, serve_http};
use crate::mcp::{CancellationToken, Concurrency, ToolSet};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory of tool manifests: `*.toml` files and `*/tool.toml`
    #[arg(long, value_name = "DIR")]
    tools: PathBuf,
    /// Serve streamable HTTP on PORT (on 127.0.0.1) or ADDR:PORT instead of stdio; a
    /// non-loopback address needs --token-file
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = parse_listen)]
    listen: Option<SocketAddr>,
    /// Require `Authorization: Bearer <token>` with the token in this file (HTTP; for MCP,
    /// /metrics and /status; the probes /healthz and /readyz need none)
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Accept requests from this browser Origin, e.g. http://localhost:6274 (HTTP; repeatable;
    /// requests with any other Origin are refused)
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Accept this Host header besides loopback names (HTTP; repeatable)
    #[arg(long, value_name = "HOST")]
    allow_host: Vec<String>,
    /// Calls running at once
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_concurrent: usize,
    /// Calls waiting beyond those; more are refused as busy
    #[arg(long, value_name = "N", default_value_t = 256)]
    queue: usize,
    /// Append JSON-lines audit events to this file, or write them to stdout with `-` (for log
    /// collectors; HTTP only: over stdio, stdout carries the protocol)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// On SIGTERM or SIGINT (HTTP), how long calls in flight may run on before they are revoked;
    /// new sessions and new calls are refused at once
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_grace)]
    grace: Duration,
    /// Resolve declared names with this DNS server instead of the system resolver
    #[arg(long, value_name = "ADDR:PORT")]
    resolver: Option<String>,
    /// Do not serve a tool whose vetting finds something at or above this severity (vetting
    /// findings are reported on stderr and audited in any case)
    #[arg(long, value_enum, value_name = "SEVERITY")]
    vet_deny: Option<super::vet::FailOn>,
    /// What to do with a tool result carrying instructions aimed at the model: report and
    /// audit it, or also replace it by a tool error
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ResultMode::Audit)]
    on_injected_result: ResultMode,
    /// Export an OpenTelemetry span per tools/call to this OTLP/HTTP collector, e.g.
    /// http://127.0.0.1:4318 [default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
    /// OTEL_EXPORTER_OTLP_ENDPOINT; neither: no traces]
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
    /// Serve only the tools this file approves (written by `mcp-sandbox pins lock`; read, never
    /// written): a tool not in it, or whose definition, artifact or policy differs, is withheld
    /// and its calls refused
    #[arg(long, value_name = "FILE")]
    approved_pins: Option<PathBuf>,
    #[command(flatten)]
    watch: super::learn::WatchArgs,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// The pins file [default: $XDG_STATE_HOME/mcp-sandbox/pins.json]
    #[arg(long, value_name = "FILE")]
    pins: Option<PathBuf>,
    /// The server's name in the pins file [default: its command line]
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// What to do with a tool that vetting finds poisoned: withhold it (and refuse its calls)
    /// until approved with `pins approve`, only warn (stderr and audit), or not vet
    #[arg(long, value_enum, value_name = "MODE", default_value_t = VetMode::Withhold)]
    vet: VetMode,
    /// Let this tool receive secrets in its arguments (the argument guard refuses them to a
    /// server that can reach the network otherwise; repeatable)
    #[arg(long, value_name = "TOOL")]
    allow_secrets_to: Vec<String>,
    /// What to do with a tool result carrying instructions aimed at the model: report and
    /// audit it, or also replace it by a tool error
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ResultMode::Audit)]
    on_injected_result: ResultMode,
    /// Just-in-time egress: the server's network grant is open only while a tools/call is in
    /// flight (on: closed at start-up and between calls, and what a call opened is cut when it
    /// ends), or for the whole session (off)
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Jit::On)]
    jit: Jit,
    /// While a call to TOOL is in flight, grant it the endpoint its argument ARG names (a URL's
    /// origin, or host:port) if it matches PATTERN (--allow-net syntax; the [[bind]] rules of
    /// tools/README.md); a call whose argument matches none is refused. Repeatable, e.g.
    /// fetch.url=connect:https://*.example.org
    #[arg(long, value_name = "TOOL.ARG=connect:PATTERN")]
    bind: Vec<String>,
    /// Behaviour profiles (what the server did while each call was in flight; quarantined
    /// tools go to --pins)
    #[command(flatten)]
    watch: super::learn::WatchFlags,
    /// The stdio MCP server to run: a program (looked up in PATH) and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// `--jit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Jit {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum PinsCommand {
    /// Show pinned tools and changes waiting for approval (each with the fields that changed)
    List {
        /// The pins file [default: $XDG_STATE_HOME/mcp-sandbox/pins.json]
        #[arg(long, value_name = "FILE")]
        pins: Option<PathBuf>,
    },
    /// Approve changed tool definitions (all pending ones if no TOOL is named)
    Approve {
        /// The pins file [default: $XDG_STATE_HOME/mcp-sandbox/pins.json]
        #[arg(long, value_name = "FILE")]
        pins: Option<PathBuf>,
        /// The server, as named in `pins list` (needed when the file holds several)
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Append a `vet` audit event for each definition approved over vetting findings
        #[arg(long, value_name = "FILE")]
        audit: Option<PathBuf>,
        /// The tools to approve, by name (all pending ones if none is named)
        #[arg(value_name = "TOOL")]
        tool: Vec<String>,
    },
    /// Approve every tool of a tools directory for `serve --approved-pins`: pins each tool's
    /// definition, artifact sha256 and effective policy (printed to stdout unless --out)
    Lock {
        /// Directory of tool manifests, as given to `serve --tools`
        #[arg(long, value_name = "DIR")]
        tools: PathBuf,
        /// Write the approved pins to this file instead of stdout (`-`: stdout)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `--grace 30s`, `--grace 2m`, `--grace 0s`.
fn parse_grace(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("`{text}` is not a duration ({e}); e.g. 30s, 2m, 0s"))
}

/// The audit sink `--audit` names: a file, or stdout (`-`, refused over stdio).
fn serve_audit(a: &ServeArgs) -> Result<Option<Arc<dyn crate::audit::AuditSink>>> {
    let Some(path) = &a.audit else { return Ok(None) };
    if path.as_os_str() != "-" {
        return Ok(Some(Arc::new(crate::audit::JsonLinesSink::open(path)?)));
    }
    if a.listen.is_none() {
        return Err(Error::InvalidValue {
            origin: "--audit".into(),
            what: "audit log",
            value: "-".into(),
            reason: "stdout carries the MCP protocol when serving over stdio".into(),
            hint: "use --audit FILE, or serve over HTTP with --listen PORT".into(),
        });
    }
    Ok(Some(Arc::new(crate::audit::JsonLinesSink::stdout())))
}

/// `8931` means 127.0.0.1:8931: loopback unless an address is given.
fn parse_listen(text: &str) -> std::result::Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| format!("`{text}` is not PORT or ADDR:PORT (e.g. 8931, 127.0.0.1:8931, [::1]:8931)"))
}

fn pins_path(given: Option<PathBuf>) -> Result<PathBuf> {
    given.or_else(PinStore::default_path).ok_or_else(|| Error::Pins {
        path: PathBuf::from("pins.json"),
        reason: "no default location (neither XDG_STATE_HOME nor HOME is set)".into(),
        hint: "pass --pins FILE",
    })
}

fn read_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Serve(format!("cannot read --token-file {}: {e}", path.display())))?;
    let token = text.trim().to_string();
    if token.len() < 16 {
        return Err(Error::Serve(format!(
            "the token in {} is shorter than 16 characters; use e.g. `openssl rand -hex 32`",
            path.display()
        )));
    }
    Ok(token)
}

pub fn serve(a: ServeArgs) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::StartEngine(format!("async runtime: {e}"))),
    };
    match rt.block_on(serve_inner(a)) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

async fn serve_inner(a: ServeArgs) -> Result<()> {
    let token = a.token_file.as_deref().map(read_token).transpose()?;
    // Read first: a file it cannot use refuses the start (never serve everything).
    let approved = a.approved_pins.as_deref().map(crate::mcp::approved::ApprovedFile::read).transpose()?;
    if let Some(addr) = a.listen
        && !addr.ip().is_loopback()
        && token.is_none()
    {
        return Err(Error::Serve(format!(
            "refusing to serve on non-loopback {addr} without a token; add --token-file FILE, or listen on 127.0.0.1"
        )));
    }
    let telemetry = crate::telemetry::Telemetry::start(a.otlp.as_deref())?;
    let audit = serve_audit(&a)?;
    let metrics = Arc::new(crate::ops::Metrics::new());
    let mut builder =
        sandbox_builder(None, a.resolver.as_ref())?.also_audit(Arc::new(crate::ops::MeteredSink(metrics.clone())));
    if let Some(sink) = audit {
        builder = builder.also_audit(sink);
    }
    let mut tools = ToolSet::new(builder, Concurrency { running: a.max_concurrent, queued: a.queue })?;
    for (path, e) in tools.load_dir(&a.tools) {
        eprintln!("mcp-sandbox: skipped {}: {e}", path.display());
    }
    if let (Some(file), Some(approved)) = (&a.approved_pins, &approved) {
        super::approved::serve(&mut tools, approved, file, &a.tools);
    }
    tools.on_injected_result(a.on_injected_result);
    let tools_dir = std::fs::canonicalize(&a.tools).unwrap_or_else(|_| a.tools.clone());
    tools.watch(a.watch.build(format!("serve:{}", tools_dir.display()))?);
    for v in tools.vet(a.vet_deny.map(super::vet::FailOn::severity)) {
        for f in &v.report.findings {
            eprintln!(
                "mcp-sandbox: vet: tool `{}`: {} {} {} at {}: {} ({})",
                v.report.tool,
                f.severity.as_str(),
                f.rule,
                f.category.as_str(),
                f.location,
                f.explanation,
                f.evidence.chars().take(160).collect::<String>()
            );
        }
        if v.withdrawn {
            eprintln!(
                "mcp-sandbox: not serving tool `{}`: its vetting found {} (--vet-deny)",
                v.report.tool,
                v.report.verdict.as_str()
            );
        }
    }
    let names: Vec<&str> =
        tools.specs().map(|s| s.name.as_str()).filter(|n| approved.is_none() || tools.withheld(n).is_none()).collect();
    eprintln!("mcp-sandbox: {} tools: {}", names.len(), names.join(", "));
    let tools = Arc::new(tools);
    if let Some(url) = telemetry.endpoint() {
        eprintln!("mcp-sandbox: traces to {url} (OTLP http/protobuf)");
    }
    let server =
        McpServer::new(tools.clone()).with_ops(crate::ops::Ops::new(metrics)).with_telemetry(telemetry.clone());
    let served = serve_on(server, &a, token).await;
    for (tool, c) in tools.watch_counters() {
        eprintln!("mcp-sandbox: watch: tool `{tool}`: {} call(s), {} anomaly(ies)", c.calls, c.anomalies);
        for x in &c.last {
            eprintln!("mcp-sandbox: watch:   {:?} {:?} {}: {}", x.severity, x.kind, x.what, x.detail);
        }
    }
    telemetry.shutdown().await;
    tools.sandbox().audit_sink().flush();
    served
}

async fn serve_on(server: McpServer, a: &ServeArgs, token: Option<String>) -> Result<()> {
    match a.listen {
        None => server.serve_stdio().await,
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Error::Serve(format!("cannot listen on {addr}: {e}")))?;
            let stop = CancellationToken::new();
            let on_signal = stop.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                on_signal.cancel();
            });
            let options = HttpOptions {
                allowed_hosts: a.allow_host.clone(),
                allowed_origins: a.allow_origin.clone(),
                token,
                grace: a.grace,
            };
            serve_http(server, listener, options, stop).await
        }
    }
}

/// Resolves on SIGTERM (what a container runtime sends) or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `python3` -> `/usr/bin/python3`, as a shell would find it.
pub(super) fn which(program: &str) -> PathBuf {
    if program.contains('/') {
        return PathBuf::from(program);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(program))
}

pub fn proxy(a: ProxyArgs) -> i32 {
    // Refused before the server starts: the client still gets an answer (`mcp::not_started`).
    let ready = match prepare(a) {
        Ok(r) => r,
        Err(e) => return proxy_not_started(&e.to_string(), fail(&e)),
    };
    match relay(ready) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

/// Answers the client's requests with `reason` (the line already printed on stderr) and
/// returns `status`: `proxy` could not start its server.
pub(super) fn proxy_not_started(reason: &str, status: i32) -> i32 {
    crate::mcp::not_started::answer_stdio(reason, status)
}

/// What `proxy` checks and loads before its server starts.
struct Ready {
    policy: crate::Policy,
    sandbox: crate::Sandbox,
    tool: crate::Tool,
    rt: tokio::runtime::Runtime,
    options: ProxyOptions,
    args: Vec<String>,
}

fn prepare(a: ProxyArgs) -> Result<Ready> {
    // Flags come before COMMAND: one clap did not know is a mistake, not a program named `--x`.
    let name = &a.command[0];
    if name.starts_with('-') && !Path::new(name).exists() {
        return Err(Error::InvalidValue {
            origin: "proxy".into(),
            what: "flag",
            value: name.clone(),
            reason: "is not a flag of `mcp-sandbox proxy` (flags go before COMMAND)".into(),
            hint: "see `mcp-sandbox proxy --help`; a program whose name starts with `-` is given as ./NAME".into(),
        });
    }
    let binds = ToolBinding::parse_all(&a.bind).map_err(|(value, reason)| Error::InvalidValue {
        origin: "--bind".into(),
        what: "binding",
        value,
        reason,
        hint: "see `mcp-sandbox proxy --help`".into(),
    })?;
    let mut builder = a.policy.builder()?;
    // A server lives as long as the session: no wall-clock limit unless one is given.
    builder.default_timeout(Duration::from_secs(365 * 24 * 3600));
    let policy = builder.build();
    let pins = pins_path(a.pins)?;
    // Read now, so that a pins file it cannot use is reported before the server starts.
    PinStore::open(&pins)?;
    let program = which(&a.command[0]);
    let server = a.server_name.unwrap_or_else(|| a.command.join(" "));
    let watch = if a.watch.any() { Some(Arc::new(a.watch.build(server.clone(), Some(pins.as_path()))?)) } else { None };
    let rt = runtime()?;
    let sandbox = sandbox_builder(a.policy.audit.as_ref(), a.policy.resolver.as_ref())?.build()?;
    let mut tool = sandbox.load_command(&program, &a.command[1..], false)?;
    let here = std::env::current_dir().ok();
    if let Some(dir) = &here {
        tool = tool.in_dir(dir.clone());
    }
    super::run::report_runtime(&tool, a.policy.verbose);
    if let Some(line) = super::run::relative_path_hint(&tool, &policy, here.as_deref(), &a.command[1..]) {
        eprintln!("mcp-sandbox: {line}");
    }
    let mut options = ProxyOptions::new(server, pins, a.policy.allow_degraded);
    options.vet = a.vet;
    options.allow_secrets_to = a.allow_secrets_to;
    options.on_injected_result = a.on_injected_result;
    options.jit = a.jit == Jit::On;
    options.binds = binds;
    options.watch = watch;
    Ok(Ready { policy, sandbox, tool, rt, options, args: a.command[1..].to_vec() })
}

fn relay(r: Ready) -> Result<i32> {
    let Ready { policy, sandbox, tool, rt, options, args } = r;
    let watch = options.watch.clone();
    let outcome =
        rt.block_on(proxy::run(&sandbox, &tool, &policy, args, options, tokio::io::stdin(), tokio::io::stdout()));
    if let Some(w) = watch {
        for (tool, c) in w.counters() {
            eprintln!("mcp-sandbox: watch: tool `{tool}`: {} call(s), {} anomaly(ies)", c.calls, c.anomalies);
        }
    }
    let outcome = outcome?;
    if outcome.ended_early {
        return Ok(crate::mcp::ended::SERVER_ENDED_EXIT);
    }
    report_status(&outcome.outcome.status);
    Ok(outcome.outcome.status.exit_code())
}

pub fn pins(cmd: PinsCommand) -> i32 {
    let result = match cmd {
        PinsCommand::Lock { tools, out } => return super::approved::lock(&tools, out.as_deref()),
        PinsCommand::List { pins } => pins_path(pins).and_then(|p| PinStore::open(&p)).map(|store| {
            println!("{}", serde_json::to_string_pretty(&store.report()).unwrap_or_default());
        }),
        PinsCommand::Approve { pins, server, tool, audit } => pins_path(pins).and_then(|p| {
            let sink: Option<Arc<dyn crate::audit::AuditSink>> = match audit.as_deref() {
                Some(path) => Some(Arc::new(crate::audit::JsonLinesSink::open(path)?)),
                None => None,
            };
            let _lock = PinStore::lock(&p)?;
            let mut store = PinStore::open(&p)?;
            let done = store.approve(server.as_deref(), &tool)?;
            store.save()?;
            for n in done {
                let over = store.servers().values().filter_map(|s| s.tools.get(&n)?.vet_override.clone()).next();
                match (&sink, over) {
                    (Some(sink), Some(over)) => {
                        let auditor = crate::audit::Auditor::new(sink.clone(), "pins-approve".into(), String::new());
                        auditor.emit(
                            crate::audit::EventKind::Vet,
                            Some(crate::audit::Capability::McpTool),
                            Some(n.clone()),
                            Some("approved over its vetting findings (`pins approve`)".into()),
                            Some(over),
                        );
                        println!("approved {n} (over its vetting findings)");
                    }
                    (None, Some(_)) => println!("approved {n} (over its vetting findings)"),
                    _ => println!("approved {n}"),
                }
            }
            Ok(())
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}
