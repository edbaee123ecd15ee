//! Diagnostics for developing the vetting rules: the concepts found in each view of the corpus
//! entries named on the command line (`[Concept]` when the tool's purpose explains it), and the
//! findings.
//!
//! ```sh
//! cargo run -p mcp-sandbox-runtime --example vet_eval_concepts -- vet-corpus/dev14-poisoned.jsonl p14-a04 p14-b08
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::vet::{Context, concepts_of, vet_tool};
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, ids) = args.split_first().expect("usage: vet_eval_concepts FILE ID...");
    let text = std::fs::read_to_string(file).expect("read the corpus file");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let e: Value = serde_json::from_str(line).expect("a JSON line");
        if !ids.iter().any(|id| e["id"] == id.as_str()) {
            continue;
        }
        let siblings: Vec<Value> = e.get("siblings").and_then(Value::as_array).cloned().unwrap_or_default();
        let ctx = Context { siblings: &siblings, capabilities: None };
        println!("== {}", e["id"]);
        for c in concepts_of(&e["tool"], &ctx) {
            println!("  {c}");
        }
        for f in vet_tool(&e["tool"], &ctx).findings {
            println!("  -> {} {} @{}: {}", f.rule, f.severity.as_str(), f.location, f.evidence);
        }
    }
}
