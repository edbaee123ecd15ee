//! Measures the vetting engine on the labelled corpus (`vet-corpus/`): detection rate per
//! category and false-positive rate (all benign, and hard negatives), per split, and the time to
//! vet one definition (p50, p99).
//!
//! ```sh
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --holdout   # the tables (dev and holdout)
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --show dev   # also list dev misses and false positives
//! ```
//!
//! A tool counts as detected (or as a false positive) when its verdict is not `clean`;
//! the `poisoned` column counts only the `poisoned` verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1))).copied();
    println!(
        "{} definitions; time to vet one: p50 {:?}, p99 {:?} ({} build)",
        times.len(),
        at(0.50).unwrap_or_default(),
        at(0.99).unwrap_or_default(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}
