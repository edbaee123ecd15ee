//! Measures the vetting engine on the labelled corpus (`vet-corpus/`): detection rate per
//! category and false-positive rate (all benign, and hard negatives), per split, and the time
//! per definition (p50, p99), and the argument guard's cost per `tools/call`.
//!
//! ```sh
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval                    # dev split of the first corpus
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --show dev      # also list dev misses and false positives
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --set dev2      # the second, independent set (dev2-*.jsonl)
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --set dev3      # extra benign definitions (dev3-benign.jsonl)
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --set dev14     # fresh probe set: splits dev14 and dev14-unseen
//! cargo run --release -p mcp-sandbox-runtime --example vet_eval -- --holdout       # the tables for dev and holdout
//! ```
//!
//! `--set NAME` other than `dev` reads `NAME-poisoned.jsonl` and `NAME-benign.jsonl` (either
//! may be missing) and reports each split they carry. A tool counts as detected (or as a false positive) when its verdict is not
//! `clean`; the `poisoned` column counts only the `poisoned` verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::mcp::guard;
use mcp_sandbox_runtime::vet::{Capabilities, Context, Verdict, vet_tool};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn load(path: &str) -> Vec<Value> {
    match std::fs::read_to_string(path) {
        Ok(s) => s.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{path}: {e}"),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Vets one corpus entry with its siblings and policy; also returns the time it took.
pub fn judge(e: &Value) -> (Verdict, Vec<String>, Duration) {
    let siblings: Vec<Value> = e.get("siblings").and_then(Value::as_array).cloned().unwrap_or_default();
    let caps = e.get("policy").map(|p| Capabilities {
        network: strings(p.get("net")),
        reads: strings(p.get("read")),
        writes: strings(p.get("write")),
        env: Vec::new(),
        shared: false,
    });
    let started = Instant::now();
    let r = vet_tool(&e["tool"], &Context { siblings: &siblings, capabilities: caps.as_ref() });
    let took = started.elapsed();
    (
        r.verdict,
        r.findings
            .iter()
            .map(|f| format!("{} {} @{}: {}", f.rule, f.severity.as_str(), f.location, f.evidence))
            .collect(),
        took,
    )
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

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn main() {
    let show = arg("--show");
    let set = arg("--set").unwrap_or_else(|| "dev".into());
    let root =
        std::env::var("VET_CORPUS").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../vet-corpus").into());
    let (poisoned, benign) = if set == "dev" {
        (load(&format!("{root}/poisoned.jsonl")), load(&format!("{root}/benign.jsonl")))
    } else {
        (load(&format!("{root}/{set}-poisoned.jsonl")), load(&format!("{root}/{set}-benign.jsonl")))
    };
    // Compile the lazily built tables before timing anything.
    let _ =
        vet_tool(&serde_json::json!({"name": "warm_up", "description": "Warms the tables up."}), &Context::default());
    let mut det: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut fp: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut times: Vec<Duration> = Vec::new();
    // `--warm`: vet everything once before measuring, as a long-running proxy would have (the
    // regex engine builds its automata lazily, so the first sight of new text costs more).
    if std::env::args().any(|a| a == "--warm") {
        for e in poisoned.iter().chain(&benign) {
            let _ = judge(e);
        }
    }
    for e in &poisoned {
        let split = e["split"].as_str().unwrap_or("?").to_string();
        let (v, _, took) = judge(e);
        times.push(took);
        for c in strings(e.get("category")).into_iter().chain(["ALL".to_string()]) {
            det.entry((split.clone(), c)).or_default().add(v);
        }
        if show.as_deref() == Some(split.as_str()) && v == Verdict::Clean {
            println!("MISS {} {:?}\n  {}\n", e["id"], strings(e.get("category")), e["tool"]);
        }
    }
    for e in &benign {
        let split = e["split"].as_str().unwrap_or("?").to_string();
        let (v, why, took) = judge(e);
        times.push(took);
        fp.entry((split.clone(), "all benign".into())).or_default().add(v);
        if e["hard_negative"] == true {
            fp.entry((split.clone(), "hard negatives".into())).or_default().add(v);
        }
        if show.as_deref() == Some(split.as_str()) && v != Verdict::Clean {
            println!("FP {} ({:?})\n  {}\n", e["id"], v, why.join("\n  "));
        }
    }
    let holdout = std::env::args().any(|a| a == "--holdout");
    let splits: Vec<String> = if set != "dev" {
        // Every split the set's files carry (dev14 keeps a half it is never tuned on).
        let mut s: Vec<String> = det.keys().chain(fp.keys()).map(|(s, _)| s.clone()).collect();
        s.sort();
        s.dedup();
        s
    } else if holdout {
        vec!["dev".into(), "holdout".into()]
    } else {
        vec!["dev".into()]
    };
    for split in &splits {
        println!("\n{split}: detection (verdict not clean / poisoned)");
        for ((_, c), n) in det.iter().filter(|((s, _), _)| s == split) {
            println!("  {c:20} {:4}  {}  {}", n.n, Count::pct(n.flagged, n.n), Count::pct(n.poisoned, n.n));
        }
        println!("{split}: false positives (verdict not clean / poisoned)");
        for ((_, c), n) in fp.iter().filter(|((s, _), _)| s == split) {
            println!("  {c:20} {:4}  {}  {}", n.n, Count::pct(n.flagged, n.n), Count::pct(n.poisoned, n.n));
        }
    }
    times.sort();
    let q = |p: f64| {
        times.get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len().max(1)).unwrap_or(1);
    println!(
        "\n{} definitions vetted (all splits of the files read): mean {mean:?}, p50 {:?}, p99 {:?}, max {:?} per definition",
        times.len(),
        q(0.50),
        q(0.99),
        times.last().copied().unwrap_or_default()
    );
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
    let g = |q: f64| guard[((guard.len() as f64 * q) as usize).min(guard.len() - 1)];
    println!("argument guard per tools/call ({} calls): p50 {:?}, p99 {:?}", guard.len(), g(0.50), g(0.99));
}
