//! The `mcp-sandbox` command line: argument parsing and exit codes over the library API.
//!
//! Exit statuses: the tool's own; 124 wall-clock timeout; 125 sandbox or policy error;
//! 126 tool cannot be loaded; 134 the tool trapped; 137 killed for a resource limit.

use crate::audit::{AuditSink, Fanout, JsonLinesSink, StderrDenials};
use crate::egress::resolve::DnsServerResolver;
use crate::{Call, Error, Output, Policy, Sandbox, Status, Stdin};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const RUN_EXAMPLES: &str = "\
Examples:
  # JSON in, JSON out; nothing else granted
  echo '{\"q\":1}' | mcp-sandbox run echo-json.wasm

  # read one directory, reach one HTTPS origin, keep an audit trail
  mcp-sandbox run --allow-read ./data --allow-net https://api.example.com \\
      --audit audit.jsonl fetcher.wasm -- --input ./data/q.json

  # the capabilities in a policy file, plus one env variable
  mcp-sandbox run --policy policies/http-get.toml --allow-env LANG http-get.wasm -- https://example.com

  # a name pinned to a loopback address (names resolving to private addresses are refused otherwise)
  mcp-sandbox run --allow-net api.local:8080 --resolve api.local:127.0.0.1 tcp-ping.wasm -- api.local:8080

Exit status: the tool's own; 124 timeout; 125 sandbox or policy error; 126 tool cannot be
loaded; 134 tool trapped; 137 resource limit.";

#[derive(Debug, Parser)]
#[command(
    name = "mcp-sandbox",
    version,
    about = "Run MCP tools in a sandbox, under a just-in-time capability grant per invocation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a tool (a WASI 0.2 component) with only the capabilities declared
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Policy file helpers
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the JSON Schema of policy files
    Schema,
    /// Validate a policy file and print the declared capabilities as JSON
    Check {
        /// The policy file
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// TOML policy: the tool's declared capabilities
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Read-only access to a file or directory tree (repeatable)
    #[arg(long, value_name = "PATH")]
    allow_read: Vec<String>,
    /// Read-write access to a file or directory tree (repeatable)
    #[arg(long, value_name = "PATH")]
    allow_write: Vec<String>,
    /// Read and execute access to a file or tree, for native tools (repeatable)
    #[arg(long, value_name = "PATH")]
    allow_exec: Vec<String>,
    /// Reach an endpoint: [scheme://]host[:port]; host = name | *.suffix | IPv4 | [IPv6] | CIDR;
    /// port = N | N-M | * (repeatable)
    #[arg(long, value_name = "ENDPOINT")]
    allow_net: Vec<String>,
    /// Bind and listen on a local address: [tcp://|udp://]IP:PORT (repeatable)
    #[arg(long, value_name = "ADDR")]
    allow_listen: Vec<String>,
    /// Pass one host variable (NAME) or set one (NAME=VALUE) (repeatable)
    #[arg(long, value_name = "NAME[=VALUE]")]
    allow_env: Vec<String>,
    /// Pin a declared name to an address, as curl --resolve does (repeatable)
    #[arg(long, value_name = "HOST:ADDR")]
    resolve: Vec<String>,
    /// Resolve declared names with this DNS server instead of the system resolver
    #[arg(long, value_name = "ADDR:PORT")]
    resolver: Option<String>,
    /// Wall-clock limit [default: 30s]
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Memory limit [default: 256MiB]
    #[arg(long, value_name = "SIZE")]
    memory: Option<String>,
    /// Append JSON-lines audit events to this file
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Do not use the on-disk cache of compiled components
    #[arg(long)]
    no_cache: bool,
    /// Run a native tool even if a layer (Landlock, the process limit) cannot be enforced on
    /// this host; each missing layer is reported and audited
    #[arg(long)]
    allow_degraded: bool,
    /// Treat TOOL as a native program (detected automatically for ELF files and #! scripts)
    #[arg(long)]
    native: bool,
    /// The tool: a .wasm component, an ELF executable or a #! script
    tool: PathBuf,
    /// Arguments passed to the tool (everything after TOOL, or after `--`)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Parses the process arguments and runs; returns the exit status.
pub fn main() -> i32 {
    // The native sandbox's init stages re-execute this binary; they must run before anything
    // starts a thread.
    let argv: Vec<String> = std::env::args().collect();
    if let Some(code) = crate::native::init_stage(&argv) {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Command::Run(args) => run_command(*args),
        Command::Policy(PolicyCommand::Schema) => {
            print!("{}", crate::policy::file::json_schema());
            0
        }
        Command::Policy(PolicyCommand::Check { file }) => match Policy::builder().file(&file) {
            Ok(b) => {
                println!("{}", serde_json::to_string_pretty(&b.build()).unwrap_or_default());
                0
            }
            Err(e) => fail(&e),
        },
    }
}

fn usage_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { 125 } else { 0 };
    }
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
    eprintln!("mcp-sandbox: {first}; see `mcp-sandbox run --help`");
    125
}

fn fail(e: &Error) -> i32 {
    eprintln!("mcp-sandbox: {e}");
    e.exit_code()
}

fn build_policy(a: &RunArgs) -> crate::Result<Policy> {
    let mut b = Policy::builder();
    for p in &a.allow_read {
        b.allow_read(p)?;
    }
    for p in &a.allow_write {
        b.allow_write(p)?;
    }
    for p in &a.allow_exec {
        b.allow_exec(p)?;
    }
    for e in &a.allow_net {
        b.allow_net(e)?;
    }
    for e in &a.allow_listen {
        b.allow_listen(e)?;
    }
    for e in &a.allow_env {
        b.allow_env(e)?;
    }
    for r in &a.resolve {
        b.resolve(r)?;
    }
    if let Some(t) = &a.timeout {
        b.timeout(t)?;
    }
    if let Some(m) = &a.memory {
        b.memory(m)?;
    }
    // Flags were applied first; the file adds to them and never overrides their limits.
    if let Some(f) = &a.policy {
        b.file(f)?;
    }
    Ok(b.build())
}

fn run_command(a: RunArgs) -> i32 {
    let policy = match build_policy(&a) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let mut sinks: Vec<Arc<dyn AuditSink>> = vec![Arc::new(StderrDenials)];
    if let Some(path) = &a.audit {
        match JsonLinesSink::open(path) {
            Ok(s) => sinks.push(Arc::new(s)),
            Err(e) => return fail(&e),
        }
    }
    let mut builder = Sandbox::builder().audit(Arc::new(Fanout(sinks)));
    if let Some(r) = &a.resolver {
        match r.parse::<SocketAddr>() {
            Ok(server) => {
                builder = builder.resolver(Arc::new(DnsServerResolver { server, timeout: Duration::from_secs(5) }))
            }
            Err(_) => {
                return fail(&Error::InvalidValue {
                    origin: "--resolver".into(),
                    what: "DNS server",
                    value: r.clone(),
                    reason: "not an IP:PORT".into(),
                    hint: "e.g. --resolver 127.0.0.1:53 or --resolver [::1]:53".into(),
                });
            }
        }
    }
    if a.no_cache {
        builder = builder.cache(crate::CacheSetting::Disabled);
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::StartEngine(format!("async runtime: {e}"))),
    };
    let sandbox = match builder.build() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let tool = match sandbox.load_as(&a.tool, a.native) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let call = Call { args: a.args, stdin: Stdin::Inherit, output: Output::Inherit, allow_degraded: a.allow_degraded };
    let outcome = match rt.block_on(sandbox.invoke(&tool, &policy, call)) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    match &outcome.status {
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
    outcome.status.exit_code()
}
