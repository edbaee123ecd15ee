//! Measures the vetting engine on the labelled corpus (`vet-corpus/`): detection rate per
//! category and false-positive rate (all benign, and hard negatives), per split.
//!
//! ```sh
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --holdout   # the tables (dev and holdout)
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --show dev   # also list dev misses and false positives
//! ```
//!
//! A tool counts as detected (or as a false positive) when its verdict is not `clean`;
//! the `poisoned` column counts only the `poisoned` verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::vet::{Capabilities, Context, Verdict, vet_tool};
use serde_json::Value;
use std::collections::BTreeMap;

fn load(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Vets one corpus entry with its siblings and policy.
pub fn judge(e: &Value) -> (Verdict, Vec<String>) {
    let siblings: Vec<Value> = e.get("siblings").and_then(Value::as_array).cloned().unwrap_or_default();
    let caps = e.get("policy").map(|p| Capabilities {
        network: strings(p.get("net")),
        reads: strings(p.get("read")),
        writes: strings(p.get("write")),
        env: Vec::new(),
    });
    let r = vet_tool(&e["tool"], &Context { siblings: &siblings, capabilities: caps.as_ref() });
    (r.verdict, r.findings.iter().map(|f| format!("{} {} @{}: {}", f.rule, f.severity.as_str(), f.location, f.evidence)).collect())
}

#[derive(Default, Clone, Copy)]
struct Count {
    n: usize,
    flagged: usize,
    poisoned: usize,
}

impl Count {
    fn add(&mut self, v: Verdict) {
        self.n += 1;
        self.flagged += usize::from(v != Verdict::Clean);
        self.poisoned += usize::from(v == Verdict::Poisoned);
    }
    fn pct(a: usize, n: usize) -> String {
        if n == 0 { "-".into() } else { format!("{:5.1} %", 100.0 * a as f64 / n as f64) }
    }
}

fn main() {
    let show = std::env::args().skip_while(|a| a != "--show").nth(1);
    let root = std::env::var("VET_CORPUS").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../vet-corpus").into());
    let poisoned = load(&format!("{root}/poisoned.jsonl"));
    let benign = load(&format!("{root}/benign.jsonl"));
    let mut det: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut fp: BTreeMap<(String, String), Count> = BTreeMap::new();
    let started = std::time::Instant::now();
    for e in &poisoned {
        let split = e["split"].as_str().unwrap_or("?").to_string();
        let (v, _) = judge(e);
        for c in strings(e.get("category")).into_iter().chain(["ALL".to_string()]) {
            det.entry((split.clone(), c)).or_default().add(v);
        }
        if show.as_deref() == Some(split.as_str()) && v == Verdict::Clean {
            println!("MISS {} {:?}\n  {}\n", e["id"], strings(e.get("category")), e["tool"]);
        }
    }
    for e in &benign {
        let split = e["split"].as_str().unwrap_or("?").to_string();
        let (v, why) = judge(e);
        fp.entry((split.clone(), "all benign".into())).or_default().add(v);
        if e["hard_negative"] == true {
            fp.entry((split.clone(), "hard negatives".into())).or_default().add(v);
        }
        if show.as_deref() == Some(split.as_str()) && v != Verdict::Clean {
            println!("FP {} ({:?})\n  {}\n", e["id"], v, why.join("\n  "));
        }
    }
    let per = started.elapsed() / (poisoned.len() + benign.len()).max(1) as u32;
    let holdout = std::env::args().any(|a| a == "--holdout");
    let splits: &[&str] = if holdout { &["dev", "holdout"] } else { &["dev"] };
    for split in splits.iter().copied() {
        println!("\n{split}: detection (verdict not clean / poisoned)");
        for ((s, c), n) in det.iter().filter(|((s, _), _)| s == split) {
            let _ = s;
            println!("  {c:20} {:4}  {}  {}", n.n, Count::pct(n.flagged, n.n), Count::pct(n.poisoned, n.n));
        }
        println!("{split}: false positives (verdict not clean / poisoned)");
        for ((_, c), n) in fp.iter().filter(|((s, _), _)| s == split) {
            println!("  {c:20} {:4}  {}  {}", n.n, Count::pct(n.flagged, n.n), Count::pct(n.poisoned, n.n));
        }
    }
    println!("\n{} definitions, {per:?} each on average (whole loop, debug or release as built)", poisoned.len() + benign.len());
}
