//! Holding a call to its tool's profile: what the call did that the profile never showed, or
//! how far it left the learned envelope.
//!
//! Paths are judged against the same collapsed set a derived policy grants, so a call reading
//! another file of a directory the tool was seen reading raises nothing; names, endpoints,
//! origins, programs and refusals must have been seen as such.

use super::derive::DeriveOptions;
use super::paths::{covered, is_under, sensitive_reason};
use super::{Dial, Observation, Profile};
use serde::Serialize;
use std::collections::BTreeSet;

/// How bad a deviation is. `High` ones quarantine a tool under `--quarantine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// What deviated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    NewName,
    NewEndpoint,
    NewOrigin,
    NewRead,
    NewWrite,
    NewExec,
    NewEnv,
    Refusal,
    WallTime,
    Output,
    Memory,
    Processes,
    /// The call did more distinct things than could be recorded.
    Truncated,
}

/// One deviation of a call from its profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub severity: Severity,
    /// What the call did (a name, an endpoint, a path, a measure).
    pub what: String,
    /// By how much, or why it matters.
    pub detail: String,
}

/// Envelope rules: `(measure, floor under which nothing is judged, reason)`. A call beyond
/// the learned peak times the headroom (and the floor) is Medium; beyond [`HIGH_FACTOR`] times
/// the peak, High.
const ENVELOPE: &[(AnomalyKind, u64, &str)] = &[
    (AnomalyKind::WallTime, 2_000, "a call running far longer than any learned one (a hang, a slow exfiltration)"),
    (AnomalyKind::Output, 64 << 10, "output far beyond any learned call's (bulk data leaving through the result)"),
    (AnomalyKind::Memory, 32 << 20, "memory far beyond any learned call's"),
    (AnomalyKind::Processes, 1, "more processes than any learned call (a spawned shell or helper)"),
];

/// A multiple of the learned peak at which an envelope deviation is High instead of Medium.
const HIGH_FACTOR: u64 = 10;

/// A profile prepared for judging calls: the collapsed path sets and the peaks' bounds,
/// computed once.
#[derive(Debug, Clone)]
pub struct Baseline {
    profile: Profile,
    reads: BTreeSet<String>,
    lists: BTreeSet<String>,
    writes: BTreeSet<String>,
    execs: BTreeSet<String>,
    options: DeriveOptions,
}

impl Baseline {
    pub fn new(profile: Profile, options: DeriveOptions) -> Self {
        let c = &options.collapse;
        let writes: BTreeSet<String> = c.apply(profile.writes.keys()).into_keys().collect();
        let mut reads: BTreeSet<String> = c.apply(profile.reads.keys()).into_keys().collect();
        reads.extend(writes.iter().cloned());
        // A listed directory covers listing it again, not reading what is in it, nor listing
        // what is below it (see `judge`).
        let lists: BTreeSet<String> = profile.lists.keys().cloned().collect();
        let execs = c.apply(profile.execs.keys()).into_keys().collect();
        Baseline { profile, reads, lists, writes, execs, options }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn implicit(&self, path: &str) -> bool {
        self.options.implicit.iter().any(|i| is_under(path, i))
    }
}

fn peak_of(p: &Profile, kind: AnomalyKind) -> u64 {
    match kind {
        AnomalyKind::WallTime => p.peaks.wall_ms.max,
        AnomalyKind::Output => p.peaks.output_bytes.max,
        AnomalyKind::Memory => p.peaks.memory.max,
        _ => p.peaks.processes.max,
    }
}

fn value_of(o: &Observation, kind: AnomalyKind) -> u64 {
    match kind {
        AnomalyKind::WallTime => o.wall_ms,
        AnomalyKind::Output => o.output_bytes,
        AnomalyKind::Memory => o.memory,
        _ => o.processes,
    }
}

/// Every way `o` deviates from `b`'s profile, most severe first.
pub fn judge(b: &Baseline, o: &Observation) -> Vec<Anomaly> {
    let p = &b.profile;
    let home = b.options.collapse.home.as_deref();
    let mut out = Vec::new();
    let mut push = |kind, severity, what: &str, detail: String| {
        out.push(Anomaly { kind, severity, what: what.to_string(), detail });
    };
    for n in o.names.iter().filter(|n| !p.names.contains_key(*n)) {
        push(AnomalyKind::NewName, Severity::High, n, "a name never looked up while learning".into());
    }
    for d in o.dials.iter().map(Dial::to_string).filter(|d| !p.dials.contains_key(d)) {
        push(AnomalyKind::NewEndpoint, Severity::High, &d, "an endpoint never dialled while learning".into());
    }
    for origin in o.origins.iter().filter(|x| !p.origins.contains_key(*x)) {
        push(AnomalyKind::NewOrigin, Severity::High, origin, "an HTTP origin never asked for while learning".into());
    }
    // Listing is known exactly (a directory listed while learning) or under a read grant;
    // the others under their learned grants.
    let listed = |x: &str| b.lists.contains(x) || covered(x, &b.reads);
    let read = |x: &str| covered(x, &b.reads);
    let written = |x: &str| covered(x, &b.writes);
    let run = |x: &str| covered(x, &b.execs);
    type Known<'a> = &'a dyn Fn(&str) -> bool;
    let paths: [(&BTreeSet<String>, Known, AnomalyKind, &str); 4] = [
        (&o.reads, &read, AnomalyKind::NewRead, "read"),
        (&o.lists, &listed, AnomalyKind::NewRead, "listed"),
        (&o.writes, &written, AnomalyKind::NewWrite, "written"),
        (&o.execs, &run, AnomalyKind::NewExec, "executed"),
    ];
    for (seen, known, kind, verb) in paths {
        // Programs run are judged wherever they lie: a shell from the system view is news.
        let exempt = |x: &str| kind != AnomalyKind::NewExec && b.implicit(x);
        for path in seen.iter().filter(|x| !known(x) && !exempt(x)) {
            let (severity, detail) = match sensitive_reason(path, home) {
                Some(r) => (Severity::High, format!("never {verb} while learning, and sensitive: {r}")),
                None if kind == AnomalyKind::NewRead => {
                    (Severity::Medium, format!("outside every path {verb} while learning"))
                }
                None => (Severity::High, format!("outside every path {verb} while learning")),
            };
            push(kind, severity, path, detail);
        }
    }
    for v in o.env.iter().filter(|v| !p.env.contains_key(*v)) {
        push(AnomalyKind::NewEnv, Severity::Medium, v, "a variable never read while learning".into());
    }
    for d in o.denials.iter().filter(|d| !p.denials.contains_key(*d)) {
        push(AnomalyKind::Refusal, Severity::High, d, "refused by the sandbox; no learned call was".into());
    }
    if o.truncated {
        push(
            AnomalyKind::Truncated,
            Severity::High,
            "observation",
            "more distinct actions than one call records".into(),
        );
    }
    let h = b.options.headroom;
    for (kind, floor, why) in ENVELOPE {
        let (peak, value) = (peak_of(p, *kind), value_of(o, *kind));
        // Memory is 0 where the executor could not measure it (a native tool with no memory
        // cgroup): nothing to judge, either way.
        if *kind == AnomalyKind::Memory && (peak == 0 || value == 0) {
            continue;
        }
        let bound = ((peak as f64 * h).ceil() as u64).max(*floor);
        if value > bound {
            let high = value > peak.max(1).saturating_mul(HIGH_FACTOR).max(*floor);
            let severity = if high { Severity::High } else { Severity::Medium };
            let ratio = if peak > 0 {
                format!("{:.1}× the learned peak {peak}", value as f64 / peak as f64)
            } else {
                format!("learned peak {peak}")
            };
            push(*kind, severity, &value.to_string(), format!("{ratio} (bound {bound}): {why}"));
        }
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.severity));
    out
}
