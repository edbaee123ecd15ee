//! Behaviour profiles: what a tool was seen doing over many calls, the least-privilege policy
//! derived from it ([`derive`]), and the judgement of a later call against it ([`monitor`]).
//!
//! Pure functions over data, below the executors: an [`Observation`] is what one call did (the
//! executors and the broker fill it), a [`Profile`] is the union of observations with counts
//! and peaks. Nothing here reads or writes a file; callers do.

mod derive;
mod diff;
mod monitor;
mod paths;
#[cfg(test)]
mod tests;

pub use derive::{DeriveOptions, derive_policy};
pub use diff::{ProfileDiff, diff};
pub use monitor::{Anomaly, AnomalyKind, Baseline, Severity, judge};
pub use paths::{Collapse, EntryKind, NOT_IN_VIEW, SENSITIVE, holds_sensitive, host_view, sensitive_reason};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The profile format's version; a file with another is refused.
pub const PROFILE_VERSION: u32 = 1;

/// A transport a tool dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

/// One endpoint a tool dialled: a declared name when it dialled one, else the address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dial {
    pub proto: Proto,
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Dial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.proto {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// What one call did: the names it looked up, what it dialled, the HTTP origins it asked the
/// proxy for, the paths it read, wrote and executed, the variables it read, what was refused,
/// and its peaks. Sets, so that a call repeating an action counts it once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    #[serde(default)]
    pub names: BTreeSet<String>,
    #[serde(default)]
    pub dials: BTreeSet<Dial>,
    /// `scheme://host:port` of each HTTP request or CONNECT.
    #[serde(default)]
    pub origins: BTreeSet<String>,
    #[serde(default)]
    pub reads: BTreeSet<String>,
    /// Directories opened to list them.
    #[serde(default)]
    pub lists: BTreeSet<String>,
    #[serde(default)]
    pub writes: BTreeSet<String>,
    #[serde(default)]
    pub execs: BTreeSet<String>,
    #[serde(default)]
    pub env: BTreeSet<String>,
    /// `capability target` of each refusal (a denial, a limit, a refused system call).
    #[serde(default)]
    pub denials: BTreeSet<String>,
    #[serde(default)]
    pub processes: u64,
    #[serde(default)]
    pub wall_ms: u64,
    /// Peak memory in bytes (0 when the executor could not measure it).
    #[serde(default)]
    pub memory: u64,
    #[serde(default)]
    pub output_bytes: u64,
    /// More distinct actions than the recorder keeps (`audit::MAX_OBSERVED`): the sets above
    /// are incomplete.
    #[serde(default)]
    pub truncated: bool,
}

/// The largest and the total of one measure over a profile's calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peak {
    pub max: u64,
    pub total: u64,
}

impl Peak {
    fn add(&mut self, v: u64) {
        self.max = self.max.max(v);
        self.total = self.total.saturating_add(v);
    }

    fn merge(&mut self, o: Peak) {
        self.max = self.max.max(o.max);
        self.total = self.total.saturating_add(o.total);
    }
}

/// The peaks a profile keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peaks {
    pub wall_ms: Peak,
    pub memory: Peak,
    pub output_bytes: Peak,
    pub processes: Peak,
}

/// Everything a tool was seen doing, with how many calls did each thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub version: u32,
    pub tool: String,
    pub calls: u64,
    #[serde(default)]
    pub names: BTreeMap<String, u64>,
    /// Keyed by the dial's display form (`tcp://host:port`).
    #[serde(default)]
    pub dials: BTreeMap<String, u64>,
    #[serde(default)]
    pub origins: BTreeMap<String, u64>,
    #[serde(default)]
    pub reads: BTreeMap<String, u64>,
    #[serde(default)]
    pub lists: BTreeMap<String, u64>,
    #[serde(default)]
    pub writes: BTreeMap<String, u64>,
    #[serde(default)]
    pub execs: BTreeMap<String, u64>,
    #[serde(default)]
    pub env: BTreeMap<String, u64>,
    #[serde(default)]
    pub denials: BTreeMap<String, u64>,
    #[serde(default)]
    pub peaks: Peaks,
}

fn count<'a>(map: &mut BTreeMap<String, u64>, keys: impl IntoIterator<Item = &'a String>) {
    for k in keys {
        *map.entry(k.clone()).or_default() += 1;
    }
}

fn union(map: &mut BTreeMap<String, u64>, other: &BTreeMap<String, u64>) {
    for (k, n) in other {
        let e = map.entry(k.clone()).or_default();
        *e = e.saturating_add(*n);
    }
}

impl Profile {
    /// An empty profile for `tool`.
    pub fn new(tool: &str) -> Self {
        Profile {
            version: PROFILE_VERSION,
            tool: tool.to_string(),
            calls: 0,
            names: BTreeMap::new(),
            dials: BTreeMap::new(),
            origins: BTreeMap::new(),
            reads: BTreeMap::new(),
            lists: BTreeMap::new(),
            writes: BTreeMap::new(),
            execs: BTreeMap::new(),
            env: BTreeMap::new(),
            denials: BTreeMap::new(),
            peaks: Peaks::default(),
        }
    }

    /// Adds one call's observation.
    pub fn learn(&mut self, o: &Observation) {
        self.calls += 1;
        count(&mut self.names, &o.names);
        let dials: Vec<String> = o.dials.iter().map(Dial::to_string).collect();
        count(&mut self.dials, &dials);
        count(&mut self.origins, &o.origins);
        count(&mut self.reads, &o.reads);
        count(&mut self.lists, &o.lists);
        count(&mut self.writes, &o.writes);
        count(&mut self.execs, &o.execs);
        count(&mut self.env, &o.env);
        count(&mut self.denials, &o.denials);
        self.peaks.wall_ms.add(o.wall_ms);
        self.peaks.memory.add(o.memory);
        self.peaks.output_bytes.add(o.output_bytes);
        self.peaks.processes.add(o.processes);
    }

    /// Unions another profile of the same tool into this one (`learn --merge`).
    pub fn merge(&mut self, other: &Profile) {
        self.calls = self.calls.saturating_add(other.calls);
        for (mine, (_, _, theirs)) in self.sets_mut().into_iter().zip(other.sets()) {
            union(mine, theirs);
        }
        self.peaks.wall_ms.merge(other.peaks.wall_ms);
        self.peaks.memory.merge(other.peaks.memory);
        self.peaks.output_bytes.merge(other.peaks.output_bytes);
        self.peaks.processes.merge(other.peaks.processes);
    }

    /// Each counted set: its key in the file, its title for people, the counts.
    pub fn sets(&self) -> [(&'static str, &'static str, &BTreeMap<String, u64>); 9] {
        [
            ("names", "names looked up", &self.names),
            ("dials", "endpoints dialled", &self.dials),
            ("origins", "HTTP origins", &self.origins),
            ("reads", "paths read", &self.reads),
            ("lists", "directories listed", &self.lists),
            ("writes", "paths written", &self.writes),
            ("execs", "programs executed", &self.execs),
            ("env", "variables read", &self.env),
            ("denials", "refusals", &self.denials),
        ]
    }

    /// The sets of [`Profile::sets`], in the same order, to change.
    fn sets_mut(&mut self) -> [&mut BTreeMap<String, u64>; 9] {
        [
            &mut self.names,
            &mut self.dials,
            &mut self.origins,
            &mut self.reads,
            &mut self.lists,
            &mut self.writes,
            &mut self.execs,
            &mut self.env,
            &mut self.denials,
        ]
    }

    /// Parses a profile file's text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let p: Profile = serde_json::from_str(text)
            .map_err(|e| Error::ParseProfile { origin: origin.to_string(), reason: e.to_string() })?;
        if p.version != PROFILE_VERSION {
            return Err(Error::ParseProfile {
                origin: origin.to_string(),
                reason: format!("version {} (this mcp-sandbox reads version {PROFILE_VERSION})", p.version),
            });
        }
        Ok(p)
    }

    /// Parses a file holding one profile or an array of them (`serve --learn` writes one per
    /// tool).
    pub fn parse_many(text: &str, origin: &str) -> Result<Vec<Self>> {
        if text.trim_start().starts_with('[') {
            let values: Vec<serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| Error::ParseProfile { origin: origin.to_string(), reason: e.to_string() })?;
            values.iter().map(|v| Profile::from_json(&v.to_string(), origin)).collect()
        } else {
            Ok(vec![Profile::from_json(text, origin)?])
        }
    }

    /// The profile file's text (pretty JSON, keys sorted, so that files diff well).
    pub fn to_json(&self) -> String {
        // Serialising maps of strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A human-readable summary (`profile show`).
    pub fn render(&self) -> String {
        let mut out = format!("profile of `{}`: {} call(s)\n", self.tool, self.calls);
        for (_, title, map) in self.sets() {
            if map.is_empty() {
                continue;
            }
            out.push_str(&format!("{title}:\n"));
            for (k, n) in map {
                out.push_str(&format!("  {k}  ({n} call{})\n", if *n == 1 { "" } else { "s" }));
            }
        }
        let p = &self.peaks;
        out.push_str(&format!(
            "peaks: wall {} ms, memory {}, output {}, processes {}\n",
            p.wall_ms.max,
            crate::policy::units::format_size(p.memory.max),
            crate::policy::units::format_size(p.output_bytes.max),
            p.processes.max
        ));
        out
    }
}
