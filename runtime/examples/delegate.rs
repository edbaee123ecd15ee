//! An MCP server written in Rust delegating its tool calls to mcp-sandbox.
//!
//! ```sh
//! (cd sample-tools && cargo build --release)     # the sample components
//! cargo run -p mcp-sandbox-runtime --example delegate
//! ```
//!
//! It loads the sample manifests in `tools/`, calls two tools the way a server's `tools/call`
//! handler would (JSON arguments in, text or structured content out), and prints each call's
//! audit trail: its own grant, what it was allowed and denied, how it ended.

use mcp_sandbox_runtime::Sandbox;
use mcp_sandbox_runtime::audit::MemorySink;
use mcp_sandbox_runtime::mcp::{CancellationToken, Concurrency, ToolSet};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let audit = Arc::new(MemorySink::default());
    let mut tools = ToolSet::new(Sandbox::builder().audit(audit.clone()), Concurrency::default())?;
    for (path, e) in tools.load_dir(&root.join("tools")) {
        eprintln!("skipped {}: {e}", path.display());
    }
    let hello = root.join("sample-tools/data/hello.txt").canonicalize()?;
    let calls: [(&str, Value); 3] = [
        ("echo-json", json!({ "message": "hello" })),
        ("read-file", json!({ "path": hello })),
        ("read-file", json!({ "path": "/etc/passwd" })),
    ];
    for (name, args) in calls {
        let args = args.as_object().cloned().unwrap_or_default();
        // A real server passes the request's cancellation token (rmcp: `context.ct`).
        let report = tools.call(name, args, CancellationToken::new()).await?;
        println!("{name}: is_error={} -> {}", report.is_error(), report.text().trim());
        if let Some(s) = &report.structured {
            println!("  structured: {s}");
        }
        for e in audit.take(&report.invocation) {
            println!(
                "  audit: {} {} {}",
                e.event.as_str(),
                e.target.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}
