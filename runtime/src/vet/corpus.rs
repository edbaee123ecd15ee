//! Measuring the engine on a labelled corpus (`vet-corpus/*.jsonl`, one entry a line: `tool`,
//! optional `siblings` and `policy`, `split`, and `category` for poisoned entries or
//! `hard_negative` for benign ones). Pure: the caller reads the files. Used by the corpus
//! regression test (`runtime/tests/vet_corpus.rs`) and `examples/vet_eval.rs`.

use super::{Capabilities, Context, Report, Verdict, vet_tool};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The row that counts every entry of a split.
pub const ALL: &str = "ALL";
/// The benign rows.
pub const ALL_BENIGN: &str = "all benign";
pub const HARD_NEGATIVES: &str = "hard negatives";

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Vets one corpus entry with its siblings and the policy it runs under.
pub fn vet_entry(e: &Value) -> Report {
    let siblings: Vec<Value> = e.get("siblings").and_then(Value::as_array).cloned().unwrap_or_default();
    let caps = e.get("policy").map(|p| Capabilities {
        network: strings(p.get("net")),
        reads: strings(p.get("read")),
        writes: strings(p.get("write")),
        env: strings(p.get("env")),
        shared: false,
    });
    vet_tool(e.get("tool").unwrap_or(&Value::Null), &Context { siblings: &siblings, capabilities: caps.as_ref() })
}

/// Entries counted and how many were flagged (verdict not clean) and poisoned.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub n: usize,
    pub flagged: usize,
    pub poisoned: usize,
}

impl Count {
    fn add(&mut self, v: Verdict) {
        self.n += 1;
        self.flagged += usize::from(v != Verdict::Clean);
        self.poisoned += usize::from(v == Verdict::Poisoned);
    }

    /// The share flagged, in percent (0 when nothing was counted).
    pub fn flagged_pct(&self) -> f64 {
        pct(self.flagged, self.n)
    }

    pub fn poisoned_pct(&self) -> f64 {
        pct(self.poisoned, self.n)
    }
}

#[allow(clippy::cast_precision_loss)]
fn pct(a: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { 100.0 * a as f64 / n as f64 }
}

/// Detection per (split, category) on poisoned entries; flags per (split, row) on benign ones.
#[derive(Debug, Default)]
pub struct Tally {
    pub detection: BTreeMap<(String, String), Count>,
    pub false_positives: BTreeMap<(String, String), Count>,
}

impl Tally {
    /// Counts a poisoned entry under each of its categories and [`ALL`].
    pub fn poisoned(&mut self, e: &Value, v: Verdict) {
        let split = e.get("split").and_then(Value::as_str).unwrap_or("?").to_string();
        for c in strings(e.get("category")).into_iter().chain([ALL.to_string()]) {
            self.detection.entry((split.clone(), c)).or_default().add(v);
        }
    }

    /// Counts a benign entry under [`ALL_BENIGN`], and [`HARD_NEGATIVES`] if it is one.
    pub fn benign(&mut self, e: &Value, v: Verdict) {
        let split = e.get("split").and_then(Value::as_str).unwrap_or("?").to_string();
        self.false_positives.entry((split.clone(), ALL_BENIGN.into())).or_default().add(v);
        if e.get("hard_negative") == Some(&Value::Bool(true)) {
            self.false_positives.entry((split, HARD_NEGATIVES.into())).or_default().add(v);
        }
    }

    pub fn detection(&self, split: &str, category: &str) -> Count {
        self.detection.get(&(split.into(), category.into())).copied().unwrap_or_default()
    }

    pub fn false_positive(&self, split: &str, row: &str) -> Count {
        self.false_positives.get(&(split.into(), row.into())).copied().unwrap_or_default()
    }

    /// The per-category table of one split.
    pub fn table(&self, split: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{split}: detection                 n   not clean   poisoned");
        for ((_, c), n) in self.detection.iter().filter(|((sp, _), _)| sp == split) {
            let _ = writeln!(s, "  {c:24} {:4}    {:5.1} %    {:5.1} %", n.n, n.flagged_pct(), n.poisoned_pct());
        }
        let _ = writeln!(s, "{split}: false positives");
        for ((_, c), n) in self.false_positives.iter().filter(|((sp, _), _)| sp == split) {
            let _ = writeln!(s, "  {c:24} {:4}    {:5.1} %    {:5.1} %", n.n, n.flagged_pct(), n.poisoned_pct());
        }
        s
    }
}
