//! `mcp-sandbox audit window FILE`: the attack-surface window of `proxy` sessions, from their
//! audit records (the analysis is `crate::audit::window`).

use crate::audit::window;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// For each proxy session in an audit file: its length, how long the server could open a
    /// connection (its network window), that share, and its calls
    Window {
        /// A JSON-lines audit file (`proxy --audit FILE`)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the figures as JSON (one array, seconds as numbers)
        #[arg(long)]
        json: bool,
    },
}

pub fn command(cmd: AuditCommand) -> i32 {
    let AuditCommand::Window { file, json } = cmd;
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mcp-sandbox: cannot read audit file {}: {e}; check the path given", file.display());
            return 125;
        }
    };
    let (records, bad) = window::parse_lines(&text);
    if bad > 0 {
        eprintln!("mcp-sandbox: {bad} lines of {} are not JSON records; skipped", file.display());
    }
    let sessions = window::sessions(&records);
    if sessions.is_empty() {
        eprintln!(
            "mcp-sandbox: no proxy session in {} (a session starts with a `grant.issued` record carrying a `window`); write one with `mcp-sandbox proxy --audit FILE`",
            file.display()
        );
        return 1;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&sessions).unwrap_or_default());
    } else {
        for s in &sessions {
            println!("{}", window::describe(s));
        }
    }
    0
}
