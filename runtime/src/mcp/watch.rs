//! Behaviour watch for `serve`: every call's observation (what the executor and the broker saw
//! it do, [`crate::invoke::Outcome::observed`]) learned into the tool's profile
//! (`--learn FILE`), judged against it (`--profile FILE`, each deviation an `anomaly` audit
//! event and one line on stderr), and with `--quarantine`, a tool with a high-severity anomaly
//! withheld, as a rug-pulled tool is: recorded as pending in the pins file until approved with
//! `mcp-sandbox pins approve`.

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
        let store = PinStore::open(&q.pins).ok()?;
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
        for a in &anomalies {
            let reason = format!("{:?} {}: {}", a.kind, a.what, a.detail);
            eprintln!("mcp-sandbox: anomaly: tool `{tool}` ({:?}): {reason}", a.severity);
            let detail = json!({ "kind": a.kind, "severity": a.severity, "what": a.what, "detail": a.detail });
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
        if let Some(high) = anomalies.iter().find(|a| a.severity == Severity::High) {
            self.quarantine(tool, definition, high, audit);
        }
        anomalies
    }

    fn quarantine(&self, tool: &str, definition: &Value, why: &Anomaly, audit: &Auditor) {
        let Some(q) = &self.quarantine else { return };
        let note = format!("quarantined after a high-severity anomaly: {:?} {} ({})", why.kind, why.what, why.detail);
        let saved = PinStore::lock(&q.pins).and_then(|_lock| {
            let mut store = PinStore::open(&q.pins)?;
            store.hold(&q.server, tool, definition, &note);
            store.save()
        });
        match saved {
            Ok(()) => {
                eprintln!("mcp-sandbox: {}", self.withheld(tool).unwrap_or_else(|| note.clone()));
                audit.emit(EventKind::Anomaly, Some(Capability::McpTool), Some(tool.into()), Some(note), None);
            }
            Err(e) => eprintln!("mcp-sandbox: cannot quarantine tool `{tool}`: {e}"),
        }
    }

    /// Calls and anomalies per tool this session.
    pub fn counters(&self) -> BTreeMap<String, Counters> {
        self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
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
