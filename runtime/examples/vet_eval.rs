//! Measures the vetting engine on the labelled corpus (`vet-corpus/`): detection rate per
//! category and false-positive rate (all benign, and hard negatives), per split, the time to
//! vet one definition (p50, p99), and the argument guard's cost per `tools/call`.
//!
//! ```sh
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --holdout   # the tables (dev and holdout)
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --show dev   # also list dev misses and false positives
//! ```
//!
//! A tool counts as detected (or as a false positive) when its verdict is not `clean`;
//! the `poisoned` column counts only the `poisoned` verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::mcp::guard;
use mcp_sandbox_runtime::vet::Verdict;
use mcp_sandbox_runtime::vet::corpus::{Tally, vet_entry};
use serde_json::Value;
use std::time::{Duration, Instant};

fn load(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn main() {
    let show = std::env::args().skip_while(|a| a != "--show").nth(1);
    let root =
        std::env::var("VET_CORPUS").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../vet-corpus").into());
    let poisoned = load(&format!("{root}/poisoned.jsonl"));
    let benign = load(&format!("{root}/benign.jsonl"));
    let mut tally = Tally::default();
    let mut times: Vec<Duration> = Vec::new();
    for (is_poisoned, entries) in [(true, &poisoned), (false, &benign)] {
        for e in entries {
            let started = Instant::now();
            let r = vet_entry(e);
            times.push(started.elapsed());
            let split = e["split"].as_str().unwrap_or("?");
            if is_poisoned {
                tally.poisoned(e, r.verdict);
                if show.as_deref() == Some(split) && r.verdict == Verdict::Clean {
                    println!("MISS {} {}\n  {}\n", e["id"], e["category"], e["tool"]);
                }
            } else {
                tally.benign(e, r.verdict);
                if show.as_deref() == Some(split) && r.verdict != Verdict::Clean {
                    let why: Vec<String> = r
                        .findings
                        .iter()
                        .map(|f| format!("{} {} @{}: {}", f.rule, f.severity.as_str(), f.location, f.evidence))
                        .collect();
                    println!("FP {} ({:?})\n  {}\n", e["id"], r.verdict, why.join("\n  "));
                }
            }
        }
    }
    let holdout = std::env::args().any(|a| a == "--holdout");
    let splits: &[&str] = if holdout { &["dev", "holdout"] } else { &["dev"] };
    for split in splits {
        println!("\n{}", tally.table(split));
    }
    // The argument guard's cost per `tools/call`: typical arguments, with and without a secret.
    let calls = [
        serde_json::json!({"path": "/home/user/projects/app/src/main.rs", "line": 42}),
        serde_json::json!({"query": "SELECT name, email FROM users WHERE created_at > now() - interval '1 day'", "limit": 100}),
        serde_json::json!({"to": "alice@example.com", "subject": "Minutes", "body": "Attached are the minutes of today's meeting. ".repeat(20)}),
        serde_json::json!({"text": "my key is AKIAIOSFODNN7EXAMPLE"}),
    ];
    let mut guard: Vec<Duration> = Vec::new();
    for _ in 0..500 {
        for args in &calls {
            let started = Instant::now();
            std::hint::black_box(guard::secrets_in_call("post", args, true, false));
            guard.push(started.elapsed());
        }
    }
    guard.sort();
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1))).copied();
    println!(
        "{} definitions; time to vet one: p50 {:?}, p99 {:?} ({} build)",
        times.len(),
        at(0.50).unwrap_or_default(),
        at(0.99).unwrap_or_default(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    let g = |q: f64| guard[((guard.len() as f64 * q) as usize).min(guard.len() - 1)];
    println!("argument guard per tools/call ({} calls): p50 {:?}, p99 {:?}", guard.len(), g(0.50), g(0.99));
}
