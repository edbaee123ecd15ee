//! Behaviour watch for `serve`: every call's observation (what the executor and the broker saw
//! it do, [`crate::invoke::Outcome::observed`]) learned into the tool's profile
//! (`--learn FILE`), judged against it (`--profile FILE`, each deviation an `anomaly` audit
//! event and one line on stderr), and with `--quarantine`, a tool with a high-severity anomaly
//! withheld, as a rug-pulled tool is: recorded as pending in the pins file until approved with
//! `mcp-sandbox pins approve`.
//!
//! `proxy` uses the same watch over one long-running server (`relay::watch`): what the server
//! did while a call was in flight is that call's observation, and what it did outside every
//! call is learned and judged under [`BETWEEN_CALLS`].

use super::pins::{Pending, PinStore};
use crate::audit::{Auditor, Capability, EventKind};
use crate::error::{Error, Result};
use crate::profile::{Anomaly, Baseline, DeriveOptions, Observation, Profile, Severity, judge};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How many anomalies each tool keeps for status output.
pub const LAST_ANOMALIES: usize = 8;

/// The profile entry what a `proxy`'s server does outside every call (start-up, idle, after
/// the last call) is learned into and judged against, as if it were one more tool. Anomalies
/// there are audited and counted under this name; no tool is to blame, so none is quarantined.
pub const BETWEEN_CALLS: &str = "(between calls)";

/// How the note of a quarantine's pending entry begins (told apart from a rug-pull's).
pub const QUARANTINED: &str = "quarantined after a high-severity anomaly";

/// Where quarantined tools are recorded for review.
#[derive(Debug, Clone)]
pub struct Quarantine {
    pub pins: PathBuf,
    /// The server's name in the pins file.
    pub server: String,
}

/// What a watched tool has done so far this session.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub calls: u64,
    pub anomalies: u64,
    pub last: Vec<Anomaly>,
}

/// The watch of one `serve` session.
#[derive(Debug, Default)]
pub struct Watch {
    baselines: BTreeMap<String, Baseline>,
    learning: Option<(PathBuf, Mutex<BTreeMap<String, Profile>>)>,
    quarantine: Option<Quarantine>,
    counters: Mutex<BTreeMap<String, Counters>>,
}

/// Reads a profile file: one profile, or an array of them.
pub fn read_profiles(path: &Path) -> Result<Vec<Profile>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::ParseProfile { origin: origin.clone(), reason: e.to_string() })?;
    Profile::parse_many(&text, &origin)
}

impl Watch {
    /// A watch judging calls against `profiles` (each names its tool), learning into `learn`
    /// (extended if it exists), quarantining with `quarantine`.
    pub fn new(
        profiles: Vec<Profile>,
        options: &DeriveOptions,
        learn: Option<PathBuf>,
        quarantine: Option<Quarantine>,
    ) -> Result<Watch> {
        let baselines = profiles.into_iter().map(|p| (p.tool.clone(), Baseline::new(p, options.clone()))).collect();
        let learning = match learn {
            Some(path) => {
                let known = if path.exists() { read_profiles(&path)? } else { Vec::new() };
                let map = known.into_iter().map(|p| (p.tool.clone(), p)).collect();
                Some((path, Mutex::new(map)))
            }
            None => None,
        };
        Ok(Watch { baselines, learning, quarantine, counters: Mutex::default() })
    }

    /// Whether calls must be observed (native tools' path calls cost a round trip each).
    pub fn observes(&self) -> bool {
        !self.baselines.is_empty() || self.learning.is_some()
    }

    /// Why `tool` is withheld, when it is quarantined and not approved since.
    pub fn withheld(&self, tool: &str) -> Option<String> {
        let q = self.quarantine.as_ref()?;
        // Fail closed: a pins file that cannot be read may hold this tool's quarantine.
        let store = match PinStore::open(&q.pins) {
            Ok(store) => store,
            Err(e) => return Some(format!("tool `{tool}` is withheld: the quarantine cannot be checked: {e}")),
        };
        let pending = store.servers().get(&q.server)?.pending.get(tool)?;
        let why = pending.note.clone().unwrap_or_else(|| "quarantined".into());
        Some(format!(
            "tool `{tool}` is withheld: {why}; review it, then: mcp-sandbox pins approve --pins {} --server {} {tool}",
            q.pins.display(),
            q.server
        ))
    }

    /// Learns and judges one call of `tool` (whose definition is `definition`); returns the
    /// anomalies found. Audits each; quarantines the tool on a high one when asked to.
    pub fn after_call(&self, tool: &str, definition: &Value, observed: &Observation, audit: &Auditor) -> Vec<Anomaly> {
        let anomalies = self.observe(tool, None, observed, audit);
        if let Some(high) = anomalies.iter().find(|a| a.severity == Severity::High) {
            self.quarantine(tool, definition, high, audit);
        }
        anomalies
    }

    /// Learns `observed` into `tool`'s profile (with `--learn`) and judges it against the
    /// profile (with `--profile`): each deviation is an `anomaly` audit event whose `detail`
    /// names the `call` when one is given (`proxy`: the client's JSON-RPC id and the proxy's
    /// own), and one stderr line. Counted for status output. Quarantines nothing.
    pub fn observe(&self, tool: &str, call: Option<&Value>, observed: &Observation, audit: &Auditor) -> Vec<Anomaly> {
        if let Some((path, profiles)) = &self.learning {
            let mut map = profiles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(tool.to_string()).or_insert_with(|| Profile::new(tool)).learn(observed);
            let all: Vec<&Profile> = map.values().collect();
            let text = serde_json::to_string_pretty(&all).unwrap_or_default() + "\n";
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("mcp-sandbox: cannot write the learned profiles to {}: {e}", path.display());
            }
        }
        let Some(baseline) = self.baselines.get(tool) else { return Vec::new() };
        let anomalies = judge(baseline, observed);
        let during = call.map(|c| format!(" call {c}")).unwrap_or_default();
        for a in &anomalies {
            let reason = format!("{:?} {}: {}", a.kind, a.what, a.detail);
            eprintln!("mcp-sandbox: anomaly: tool `{tool}`{during} ({:?}): {reason}", a.severity);
            let mut detail = json!({ "kind": a.kind, "severity": a.severity, "what": a.what, "detail": a.detail });
            if let Some(c) = call {
                detail["call"] = c.clone();
            }
            audit.emit(
                EventKind::Anomaly,
                Some(Capability::McpTool),
                Some(tool.to_string()),
                Some(reason),
                Some(detail),
            );
        }
        {
            let mut c = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let e = c.entry(tool.to_string()).or_default();
            e.calls += 1;
            e.anomalies += anomalies.len() as u64;
            e.last.extend(anomalies.iter().cloned());
            let excess = e.last.len().saturating_sub(LAST_ANOMALIES);
            e.last.drain(..excess);
        }
        anomalies
    }

    /// Whether a high-severity anomaly withholds its tool (`--quarantine`).
    pub fn quarantines(&self) -> bool {
        self.quarantine.is_some()
    }

    /// Withholds `tool` for `why` (with `--quarantine`): records `definition` as pending review
    /// in the pins file, audits it. Returns the note recorded, `None` when nothing was held.
    pub fn quarantine(&self, tool: &str, definition: &Value, why: &Anomaly, audit: &Auditor) -> Option<String> {
        let q = self.quarantine.as_ref()?;
        let note = format!("{QUARANTINED}: {:?} {} ({})", why.kind, why.what, why.detail);
        let saved = PinStore::lock(&q.pins).and_then(|_lock| {
            let mut store = PinStore::open(&q.pins)?;
            store.hold(&q.server, tool, definition, &note);
            store.save()
        });
        match saved {
            Ok(()) => {
                eprintln!("mcp-sandbox: {}", self.withheld(tool).unwrap_or_else(|| note.clone()));
                audit.emit(EventKind::Anomaly, Some(Capability::McpTool), Some(tool.into()), Some(note.clone()), None);
                Some(note)
            }
            Err(e) => {
                eprintln!("mcp-sandbox: cannot quarantine tool `{tool}`: {e}");
                None
            }
        }
    }

    /// Calls and anomalies per tool this session.
    pub fn counters(&self) -> BTreeMap<String, Counters> {
        self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Whether `pending` is a quarantine's hold (not a changed or poisoned definition).
pub fn is_hold(pending: &Pending) -> bool {
    pending.vet.is_none() && pending.note.as_deref().is_some_and(|n| n.starts_with(QUARANTINED))
}

impl PinStore {
    /// Records `definition` of `tool` as pending review with `note`, whatever its pin says:
    /// the tool is withheld until `pins approve` pins it again.
    pub fn hold(&mut self, server: &str, tool: &str, definition: &Value, note: &str) {
        let seen = Pending {
            sha256: super::pins::digest(definition),
            seen_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            definition: definition.clone(),
            note: Some(note.to_string()),
            vet: None,
        };
        self.servers_mut().entry(server.into()).or_default().pending.insert(tool.to_string(), seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(pins: PathBuf) -> Watch {
        let q = Quarantine { pins, server: "s".into() };
        Watch::new(Vec::new(), &DeriveOptions::default(), None, Some(q)).unwrap()
    }

    #[test]
    fn a_pins_file_that_cannot_be_read_withholds_the_tool() {
        let dir = tempfile::tempdir().unwrap();
        let pins = dir.path().join("pins.json");
        // Control: no quarantine recorded (no file yet), the tool is served.
        assert_eq!(watch(pins.clone()).withheld("t"), None);
        std::fs::write(&pins, "{ torn").unwrap();
        let why = watch(pins).withheld("t").unwrap();
        assert!(why.contains("cannot be checked"), "{why}");
    }
}
