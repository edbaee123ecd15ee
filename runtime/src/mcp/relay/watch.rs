//! Behaviour profiles in `proxy` (`--learn`, `--profile`, `--quarantine`): the watch of
//! [`crate::mcp::watch`] over one long-running server process.
//!
//! The server's grant has one recorder (`audit::Recorder`): every name it looks up, endpoint it
//! dials, HTTP origin it asks for, path it opens or runs (seccomp user notification) and every
//! refusal it meets lands there, whichever call it was for. The relay knows when each call
//! starts (relayed to the server) and ends (its reply read, its cancellation, the server's end),
//! so it drains the recorder at each of those moments:
//!
//! * what was drained while calls were in flight goes to **each** of them (the union): the
//!   kernel cannot tell which of two concurrent calls a process's action served, so each is
//!   judged with everything the server did while it was in flight;
//! * what was drained while no call was in flight (start-up, idle, after the last call) is
//!   learned and judged as [`BETWEEN_CALLS`], a per-server entry of the profile: a server that
//!   reads a new file or is refused the network between calls raises an anomaly there. No tool
//!   is to blame for it, so `--quarantine` withholds none (with `--jit on`, the default, the
//!   server's network is closed between calls anyway: what it tries is a refusal).
//!
//! A call's own measures are its wall time (relayed to replied) and its result's size; a
//! process's memory is not a call's, so memory is not judged in `proxy`.

use super::{Relay, lock};
use crate::mcp::watch::{BETWEEN_CALLS, Watch};
use crate::profile::{Observation, Severity};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A call in flight, and what the server did while it was.
#[derive(Debug)]
struct Open {
    tool: String,
    client_id: Value,
    started: Instant,
    output_bytes: u64,
    observed: Observation,
}

#[derive(Debug, Default)]
struct State {
    open: BTreeMap<u64, Open>,
    /// What the server did since the last call ended while no call was in flight.
    idle: Observation,
}

/// The watch of one `proxy` session.
#[derive(Debug)]
pub struct ProxyWatch {
    watch: Arc<Watch>,
    state: Mutex<State>,
    /// The paths the server's grant holds: what it does in the sandbox's private scratch
    /// elsewhere is not host access, and not judged (as for `serve`'s calls).
    granted: Vec<PathBuf>,
    /// The server's own program and runtime (its interpreter's tree, what `--allow-exec`
    /// grants): the proxy started it, and what is in there is not the server's behaviour.
    own: Vec<PathBuf>,
}

impl ProxyWatch {
    pub fn new(watch: Arc<Watch>, granted: Vec<PathBuf>, own: Vec<PathBuf>) -> Self {
        ProxyWatch { watch, state: Mutex::default(), granted, own }
    }

    /// `o` without what was done in the sandbox's private scratch, nor in the server's own
    /// program and runtime (`own`: its interpreter's tree, loaded lazily by any call).
    fn host_only(&self, mut o: Observation) -> Observation {
        let granted: Vec<&Path> = self.granted.iter().map(PathBuf::as_path).collect();
        crate::sandbox::keep_host_paths(&mut o, &granted);
        let theirs = |p: &String| !self.own.iter().any(|d| Path::new(p).starts_with(d));
        for set in [&mut o.reads, &mut o.lists, &mut o.writes, &mut o.execs] {
            set.retain(theirs);
        }
        o
    }
}

/// Adds what `from` did to `into` (sets unioned, counts summed, peaks kept).
fn union(into: &mut Observation, from: &Observation) {
    into.names.extend(from.names.iter().cloned());
    into.dials.extend(from.dials.iter().cloned());
    into.origins.extend(from.origins.iter().cloned());
    into.reads.extend(from.reads.iter().cloned());
    into.lists.extend(from.lists.iter().cloned());
    into.writes.extend(from.writes.iter().cloned());
    into.execs.extend(from.execs.iter().cloned());
    into.env.extend(from.env.iter().cloned());
    into.denials.extend(from.denials.iter().cloned());
    into.processes = into.processes.saturating_add(from.processes);
    into.memory = into.memory.max(from.memory);
    into.truncated |= from.truncated;
}

impl State {
    /// Attributes what the server did since the last drain: to every call in flight, or, when
    /// none is, to the time between calls.
    fn attribute(&mut self, drained: &Observation) {
        if self.open.is_empty() {
            union(&mut self.idle, drained);
        }
        for call in self.open.values_mut() {
            union(&mut call.observed, drained);
        }
    }
}

impl Relay {
    /// Watches this session's calls (`proxy --learn/--profile`).
    #[must_use]
    pub fn with_watch(mut self, watch: Option<Arc<Watch>>, granted: Vec<PathBuf>, own: Vec<PathBuf>) -> Self {
        self.watch = watch.map(|w| ProxyWatch::new(w, granted, own));
        self
    }

    /// A call is about to be relayed: what the server did before it is attributed (to the
    /// calls in flight, or to the time between calls, judged now), then the call is opened.
    pub(super) fn watch_started(&self, pid: u64, tool: &str, client_id: &Value) {
        let Some(w) = &self.watch else { return };
        let idle = {
            let mut s = lock(&w.state);
            s.attribute(&self.audit.recorder().take());
            let idle = s.open.is_empty().then(|| std::mem::take(&mut s.idle));
            let open = Open {
                tool: tool.to_string(),
                client_id: client_id.clone(),
                started: Instant::now(),
                output_bytes: 0,
                observed: Observation::default(),
            };
            s.open.insert(pid, open);
            idle
        };
        if let Some(idle) = idle {
            self.judge_between(&idle, "before call");
        }
    }

    /// The size of what the server replied to call `pid` (its `result` or `error`, as JSON).
    pub(super) fn watch_reply(&self, pid: u64, reply: &Map<String, Value>) {
        let Some(w) = &self.watch else { return };
        let body = reply.get("result").or_else(|| reply.get("error"));
        let bytes = body.map_or(0, |b| b.to_string().len());
        if let Some(open) = lock(&w.state).open.get_mut(&pid) {
            open.output_bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        }
    }

    /// Calls `pids` ended (their window about to close): what the server did since the last
    /// drain goes to every call in flight; each ended call is learned and judged, and with
    /// `--quarantine` its tool is withheld on a high anomaly.
    pub(super) fn watch_ended(&self, pids: &[u64]) {
        let Some(w) = &self.watch else { return };
        let ended: Vec<(u64, Open)> = {
            let mut s = lock(&w.state);
            s.attribute(&self.audit.recorder().take());
            pids.iter().filter_map(|pid| s.open.remove(pid).map(|o| (*pid, o))).collect()
        };
        for (pid, mut call) in ended {
            call.observed = w.host_only(call.observed);
            call.observed.wall_ms = u64::try_from(call.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            call.observed.output_bytes = call.output_bytes;
            let id = json!({ "id": call.client_id, "proxy_id": pid });
            let anomalies = w.watch.observe(&call.tool, Some(&id), &call.observed, &self.audit);
            let high = anomalies.iter().find(|a| a.severity == Severity::High);
            if let (Some(high), true) = (high, w.watch.quarantines()) {
                let definition = lock(&self.state).definitions.get(&call.tool).cloned();
                let note = definition.and_then(|d| w.watch.quarantine(&call.tool, &d, high, &self.audit));
                if let Some(note) = note {
                    let mut state = lock(&self.state);
                    state.allowed.remove(&call.tool);
                    state.withheld.insert(call.tool.clone(), note);
                }
            }
        }
    }

    /// The session ended: what the server did since the last call (or in all, if it never had
    /// one) is judged as between calls; calls left open go with it.
    pub(super) fn watch_finish(&self) {
        let Some(w) = &self.watch else { return };
        let idle = {
            let mut s = lock(&w.state);
            let mut idle = std::mem::take(&mut s.idle);
            union(&mut idle, &self.audit.recorder().take());
            for call in std::mem::take(&mut s.open).into_values() {
                union(&mut idle, &call.observed);
            }
            idle
        };
        self.judge_between(&idle, "after the last call");
    }

    fn judge_between(&self, idle: &Observation, when: &str) {
        let Some(w) = &self.watch else { return };
        let mut idle = w.host_only(idle.clone());
        // Idle time and no result: only what the server did is judged, not for how long.
        idle.wall_ms = 0;
        idle.output_bytes = 0;
        w.watch.observe(BETWEEN_CALLS, Some(&json!({ "between_calls": when })), &idle, &self.audit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Auditor, MemorySink, PathUse};
    use crate::mcp::manifest::Derived;
    use crate::mcp::pins::PinStore;
    use crate::mcp::proxy::ProxyOptions;
    use crate::mcp::watch::read_profiles;
    use crate::profile::DeriveOptions;

    #[test]
    fn concurrent_calls_each_get_the_union_and_idle_time_is_between_calls() {
        let dir = tempfile::tempdir().unwrap();
        let learned = dir.path().join("learned.json");
        let watch = Watch::new(Vec::new(), &DeriveOptions::default(), Some(learned.clone()), None).unwrap();
        let audit = Auditor::new(Arc::new(MemorySink::default()), "t".into(), "sha256:0".into());
        let pins = dir.path().join("pins.json");
        let options = ProxyOptions::new("srv".into(), pins.clone(), false);
        let derived = Derived { read_only: true, destructive: false, open_world: false };
        let r = Relay::new(PinStore::open(&pins).unwrap(), options, audit.clone(), derived).with_watch(
            Some(Arc::new(watch)),
            Vec::new(),
            Vec::new(),
        );
        let read = |p: &str| audit.recorder().path(PathUse::Read, p.to_string());
        read("/srv/startup");
        r.watch_started(1, "one", &json!(10));
        read("/srv/y");
        r.watch_started(2, "two", &json!(11));
        read("/srv/z");
        r.watch_ended(&[1]);
        read("/srv/w");
        r.watch_ended(&[2]);
        read("/srv/idle");
        r.watch_finish();
        let all = read_profiles(&learned).unwrap();
        let reads = |tool: &str| -> Vec<String> {
            all.iter().find(|p| p.tool == tool).unwrap().reads.keys().cloned().collect()
        };
        assert_eq!(reads("one"), ["/srv/y", "/srv/z"], "what happened while 1 and 2 overlapped is both's");
        assert_eq!(reads("two"), ["/srv/w", "/srv/z"]);
        assert_eq!(reads(BETWEEN_CALLS), ["/srv/idle", "/srv/startup"], "outside every call");
    }
}
