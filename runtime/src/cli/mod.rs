//! The `mcp-sandbox` command line: argument parsing and exit codes over the library API.
//!
//! Exit statuses: the tool's own; 124 wall-clock timeout; 125 sandbox or policy error;
//! 126 tool cannot be loaded; 134 the tool trapped; 137 killed for a resource limit.

mod audit;
mod mcp;
mod run;
mod vet;

use crate::{Error, Policy};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const RUN_EXAMPLES: &str = "\
Examples:
  # JSON in, JSON out; nothing else granted
  echo '{\"q\":1}' | mcp-sandbox run echo-json.wasm

  # read one directory, reach one HTTPS origin, keep an audit trail
  mcp-sandbox run --allow-read ./data --allow-net https://api.example.com --audit audit.jsonl fetcher.wasm -- --input ./data/q.json

  # the capabilities in a policy file, plus one env variable
  mcp-sandbox run --policy policies/http-get.toml --allow-env LANG http-get.wasm -- https://example.com

  # a name pinned to a loopback address (names resolving to private addresses are refused otherwise)
  mcp-sandbox run --allow-net api.local:8080 --resolve api.local:127.0.0.1 tcp-ping.wasm -- api.local:8080

Exit status: the tool's own; 124 timeout; 125 sandbox or policy error; 126 tool cannot be
loaded; 134 tool trapped; 137 resource limit.";

const SERVE_EXAMPLES: &str = "\
Examples:
  # stdio, for an MCP host's configuration
  mcp-sandbox serve --tools ./tools --audit audit.jsonl

  # streamable HTTP on loopback, with a bearer token
  mcp-sandbox serve --tools ./tools --listen 127.0.0.1:8931 --token-file token.txt

Each tools/call gets its own grant: the manifest's policy plus what the call's arguments bind.";

const PROXY_EXAMPLES: &str = "\
Examples:
  # a Python MCP server: its interpreter tree executable, its code readable, one HTTPS origin
  mcp-sandbox proxy --allow-exec /usr/lib/python3 --allow-read ./server --allow-net https://api.example.com -- python3 ./server/main.py

  # a fetch server: each call may reach the origin its `url` names, under *.example.org
  mcp-sandbox proxy --bind fetch.url=connect:https://*.example.org --audit audit.jsonl -- python3 ./fetch/server.py

The server's network is open only while a tools/call is in flight (closed at start-up and
between calls; what a call opened is cut when it ends). --jit off opens it for the session.
How long it was open: mcp-sandbox audit window audit.jsonl

A tool whose definition changes after it was first seen is withheld until approved:
  mcp-sandbox pins list
  mcp-sandbox pins approve --server NAME TOOL

If the server ends (or cannot start) while the client is connected, every request is answered
with an error carrying its exit status and last stderr lines, one line on stderr gives the
likely fix, and proxy exits with 69.";

const VET_EXAMPLES: &str = "\
Examples:
  # a saved tools/list result, for a CI job (SARIF for code-scanning UIs)
  mcp-sandbox vet --format sarif tools.json > vet.sarif

  # this project's manifests, failing on medium findings too
  mcp-sandbox vet --fail-on medium ./tools

  # a live server, run in the sandbox with nothing granted
  mcp-sandbox vet --server -- python3 server.py

Exit status: 0 nothing at or above --fail-on; 1 findings at or above it; 125 bad input.";

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
    /// Run a tool (a WASI 0.2 component or a native program) with only the capabilities declared
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<run::RunArgs>),
    /// Serve a directory of tool manifests as an MCP server (stdio, or streamable HTTP)
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Box<mcp::ServeArgs>),
    /// Run an existing stdio MCP server in the sandbox, relaying MCP and pinning its tools
    #[command(after_help = PROXY_EXAMPLES)]
    Proxy(Box<mcp::ProxyArgs>),
    /// Review and approve changed tool definitions seen by `proxy`
    #[command(subcommand)]
    Pins(mcp::PinsCommand),
    /// Vet tool definitions for poisoning: JSON files, manifest directories, or a live server
    #[command(after_help = VET_EXAMPLES)]
    Vet(Box<vet::VetArgs>),
    /// Policy file helpers
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Audit log analysis
    #[command(subcommand)]
    Audit(audit::AuditCommand),
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
        Command::Run(args) => run::command(*args),
        Command::Serve(args) => mcp::serve(*args),
        Command::Proxy(args) => mcp::proxy(*args),
        Command::Pins(cmd) => mcp::pins(cmd),
        Command::Vet(args) => vet::command(*args),
        Command::Audit(cmd) => audit::command(cmd),
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
    // The message up to the usage: a missing argument's name is on the lines after the first.
    let message: Vec<&str> =
        rendered.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).filter(|l| !l.is_empty()).collect();
    let joined = message.join(" ");
    let first = if joined.is_empty() { "invalid arguments" } else { joined.trim_start_matches("error: ") };
    let sub = std::env::args()
        .nth(1)
        .filter(|a| ["run", "serve", "proxy", "pins", "policy", "vet", "audit"].contains(&a.as_str()));
    eprintln!("mcp-sandbox: {first}; see `mcp-sandbox {} --help`", sub.as_deref().unwrap_or("run"));
    125
}

fn fail(e: &Error) -> i32 {
    eprintln!("mcp-sandbox: {e}");
    e.exit_code()
}
