//! The `mcp-sandbox` command line: argument parsing and exit codes over the library API.
//!
//! Exit statuses: the tool's own; 124 wall-clock timeout; 125 sandbox or policy error;
//! 126 tool cannot be loaded; 130 revoked; 134 the tool trapped; 137 killed for memory; a
//! native tool killed by signal N: 128 + N (the README's table says which).

mod approved;
mod audit;
mod learn;
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

  # read one directory, reach one HTTPS origin, keep an audit trail (a component resolves paths from /)
  mcp-sandbox run --allow-read ./data --allow-net https://api.example.com --audit audit.jsonl fetcher.wasm -- --input \"$PWD/data/q.json\"

  # the capabilities in a policy file, plus one env variable
  mcp-sandbox run --policy policies/http-get.toml --allow-env LANG http-get.wasm -- https://example.com

  # a name pinned to a loopback address (names resolving to private addresses are refused otherwise)
  mcp-sandbox run --allow-net api.local:8080 --resolve api.local:127.0.0.1 tcp-ping.wasm -- api.local:8080

Exit status: the tool's own; 124 timeout; 125 sandbox or policy error; 126 tool cannot be
loaded; 130 revoked; 134 tool trapped; 137 killed for memory; 128+N a native tool killed by
signal N (README.md lists them).";

const SERVE_EXAMPLES: &str = "\
Examples:
  # stdio, for an MCP host's configuration
  mcp-sandbox serve --tools ./tools --audit audit.jsonl

  # streamable HTTP on loopback, with a bearer token
  mcp-sandbox serve --tools ./tools --listen 127.0.0.1:8931 --token-file token.txt

Each tools/call gets its own grant: the manifest's policy plus what the call's arguments bind.";

const PROXY_EXAMPLES: &str = "\
Examples (the server's own runtime, its interpreter, venv, package tree or launcher cache, is
found and granted read-only by itself: grant its data and the origins it reaches):
  # a Python server's console script in a venv, and the repository it works on
  mcp-sandbox proxy --allow-write ~/repo -- ~/venv/bin/mcp-server-git --repository ~/repo

  # a Node server: node and its script, and the directory it serves
  mcp-sandbox proxy --allow-read ~/docs -- node ~/src/docs-server/dist/index.js ~/docs

  # npx; the first run also needs its registry: --allow-net https://registry.npmjs.org
  mcp-sandbox proxy --allow-write ~/notes -- npx -y @modelcontextprotocol/server-filesystem ~/notes

  # uvx; its first run also needs PyPI: --allow-net https://pypi.org and files.pythonhosted.org
  mcp-sandbox proxy -- uvx mcp-server-time

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
likely fix, and proxy exits with 69. Refused before the server starts (a program not found or not
executable, a granted path that does not exist, a bad flag), proxy answers the client's requests
with that line for up to 10 s, then exits with 125 or 126.";

const VET_EXAMPLES: &str = "\
Examples:
  # a saved tools/list result, for a CI job (SARIF for code-scanning UIs)
  mcp-sandbox vet --format sarif tools.json > vet.sarif

  # this project's manifests, failing on medium findings too
  mcp-sandbox vet --fail-on medium ./tools

  # a live server, run in the sandbox with nothing granted
  mcp-sandbox vet --server -- python3 server.py

Exit status: 0 nothing at or above --fail-on; 1 findings at or above it; 125 bad input.";

const LEARN_EXAMPLES: &str = "\
Examples:
  # learn over a few varied runs, then review and use the policy
  mcp-sandbox learn --allow-read ./data -p fetch.profile.json -o fetch.toml ./fetch.py ./data/a.json
  mcp-sandbox learn --allow-read ./data -p fetch.profile.json -o fetch.toml ./fetch.py ./data/b.json
  mcp-sandbox run --policy fetch.toml ./fetch.py ./data/c.json

The tool runs under the flags given, observed: what it opens, runs, looks up and dials is
recorded, allowed or not (a refused attempt shows what it needs). Nothing beyond the flags is
granted while learning.";

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
    /// Review and approve changed tool definitions seen by `proxy`; lock a tools directory's
    /// approved pins for `serve --approved-pins`
    #[command(subcommand)]
    Pins(mcp::PinsCommand),
    /// Vet tool definitions for poisoning: JSON files, manifest directories, or a live server
    #[command(after_help = VET_EXAMPLES)]
    Vet(Box<vet::VetArgs>),
    /// Run a tool confined and observed; write its profile and the least-privilege policy derived from it
    #[command(after_help = LEARN_EXAMPLES)]
    Learn(Box<learn::LearnArgs>),
    /// Show, compare, or derive a policy from behaviour profiles written by `learn`
    #[command(subcommand)]
    Profile(learn::ProfileCommand),
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
        Command::Learn(args) => learn::command(*args),
        Command::Profile(cmd) => learn::profile(cmd),
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
    let sub = std::env::args().nth(1).filter(|a| {
        ["run", "serve", "proxy", "pins", "policy", "vet", "audit", "learn", "profile"].contains(&a.as_str())
    });
    let sub = sub.as_deref().unwrap_or("run");
    let line = format!("{first}; see `mcp-sandbox {sub} --help`");
    eprintln!("mcp-sandbox: {line}");
    if sub == "proxy" {
        // An MCP host waits for the proxy's answer to `initialize`: it gets this line.
        return mcp::proxy_not_started(&line, 125);
    }
    125
}

fn fail(e: &Error) -> i32 {
    eprintln!("mcp-sandbox: {e}");
    e.exit_code()
}
