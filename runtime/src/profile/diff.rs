//! What one profile shows that another does not (`profile diff OLD NEW`): what a new version
//! of a tool does that the old one did not, and what it stopped doing.

use super::Profile;
use serde::Serialize;
use std::fmt::Write;

/// Entries of one category added and removed between two profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Change {
    pub category: &'static str,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The difference of two profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProfileDiff {
    pub changes: Vec<Change>,
    /// `(measure, old peak, new peak)` where the peak grew.
    pub grown: Vec<(&'static str, u64, u64)>,
}

/// What `new` does that `old` does not, and the reverse.
pub fn diff(old: &Profile, new: &Profile) -> ProfileDiff {
    let mut d = ProfileDiff::default();
    for ((category, _, a), (_, _, b)) in old.sets().into_iter().zip(new.sets()) {
        let added: Vec<String> = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
        let removed: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            d.changes.push(Change { category, added, removed });
        }
    }
    let (o, n) = (&old.peaks, &new.peaks);
    for (m, a, b) in [
        ("wall_ms", o.wall_ms.max, n.wall_ms.max),
        ("memory", o.memory.max, n.memory.max),
        ("output_bytes", o.output_bytes.max, n.output_bytes.max),
        ("processes", o.processes.max, n.processes.max),
    ] {
        if b > a {
            d.grown.push((m, a, b));
        }
    }
    d
}

impl ProfileDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.grown.is_empty()
    }

    /// `+ added` / `- removed` lines per category, then grown peaks.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "no difference\n".to_string();
        }
        let mut out = String::new();
        for c in &self.changes {
            let _ = writeln!(out, "{}:", c.category);
            for a in &c.added {
                let _ = writeln!(out, "  + {a}");
            }
            for r in &c.removed {
                let _ = writeln!(out, "  - {r}");
            }
        }
        for (m, a, b) in &self.grown {
            let _ = writeln!(out, "peak {m}: {a} -> {b}");
        }
        out
    }
}
