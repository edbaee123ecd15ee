//! What one invocation did, recorded as it runs: every check of its grant (names, dials, HTTP
//! origins), every refusal, and, when the executor observes them, the paths it opened and the
//! programs it ran. The executors hand the result back with the call's outcome
//! ([`crate::invoke::Outcome::observed`]); profiles learn from it and judge it.
//!
//! Unlike the audit log, nothing here is throttled: a profile must see every distinct action.
//! Each set is bounded instead ([`MAX_OBSERVED`]); beyond, the observation is marked truncated.

use super::{AuditEvent, Capability, EventKind};
use crate::profile::{Dial, Observation, Proto};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// Refusal lines kept per invocation for its outcome (what `serve` tells the client); beyond,
/// they are counted and one last line says how many more there were.
pub const MAX_REFUSAL_LINES: usize = 64;

/// Distinct entries kept per kind (names, dials, paths…) per invocation. A call doing more
/// distinct things than this is marked `truncated`, which monitoring treats as a deviation.
pub const MAX_OBSERVED: usize = 4096;

/// How a path was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathUse {
    Read,
    /// A directory opened to list it.
    List,
    Write,
    Exec,
}

/// One refusal as it was audited (a denial, a limit, a missing layer), kept whole for whoever
/// reports the call in structured form (`serve`'s trace spans carry one event each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub event: EventKind,
    pub capability: Option<Capability>,
    pub target: String,
    pub reason: String,
}

#[derive(Debug, Default)]
struct State {
    observed: Observation,
    /// One line per refusal (`denied: …; to allow: …`), the first [`MAX_REFUSAL_LINES`].
    refusals: Vec<String>,
    /// The same refusals, whole.
    refused: Vec<Refused>,
    more_refusals: usize,
    /// Addresses a declared name was pinned to, so that a dial is recorded by name.
    pinned: HashMap<IpAddr, String>,
}

/// The recorder of one invocation; shared by its auditor's clones.
#[derive(Debug, Default)]
pub struct Recorder(Mutex<State>);

fn insert(set: &mut std::collections::BTreeSet<String>, value: String, truncated: &mut bool) {
    if set.len() < MAX_OBSERVED {
        set.insert(value);
    } else if !set.contains(&value) {
        *truncated = true;
    }
}

impl Recorder {
    fn with(&self, f: impl FnOnce(&mut State)) {
        // A poisoned lock only means another recording panicked; the data is still usable.
        let mut s = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s);
    }

    /// A declared name looked up and pinned to `addrs`.
    pub fn looked_up(&self, name: &str, addrs: &[IpAddr]) {
        self.with(|s| {
            let o = &mut s.observed;
            insert(&mut o.names, name.to_string(), &mut o.truncated);
            if s.pinned.len() < MAX_OBSERVED {
                for a in addrs {
                    s.pinned.insert(a.to_canonical(), name.to_string());
                }
            }
        });
    }

    /// An allowed connection or datagram flow to `addr`: recorded by the name pinned to it
    /// when there is one.
    pub fn dialled(&self, addr: SocketAddr, proto: Proto) {
        self.with(|s| {
            let ip = addr.ip().to_canonical();
            let host = s.pinned.get(&ip).cloned().unwrap_or_else(|| ip.to_string());
            let o = &mut s.observed;
            if o.dials.len() < MAX_OBSERVED {
                o.dials.insert(Dial { proto, host, port: addr.port() });
            } else {
                o.truncated = true;
            }
        });
    }

    /// An allowed HTTP request or CONNECT through the sandbox's proxy.
    pub fn origin(&self, tls: bool, host: &str, port: u16) {
        let origin = format!("{}://{host}:{port}", if tls { "https" } else { "http" });
        self.with(|s| insert(&mut s.observed.origins, origin, &mut s.observed.truncated));
    }

    /// A path the tool opened, created, removed or ran (as the executor saw it).
    pub fn path(&self, how: PathUse, path: String) {
        self.with(|s| {
            let o = &mut s.observed;
            match how {
                PathUse::Read => insert(&mut o.reads, path, &mut o.truncated),
                PathUse::List => insert(&mut o.lists, path, &mut o.truncated),
                PathUse::Write => insert(&mut o.writes, path, &mut o.truncated),
                PathUse::Exec => {
                    o.processes = o.processes.saturating_add(1);
                    insert(&mut o.execs, path, &mut o.truncated);
                }
            }
        });
    }

    /// A refusal: a denial, a limit, a refused system call.
    pub fn refused(&self, capability: &str, target: &str) {
        let key = format!("{capability} {target}");
        self.with(|s| insert(&mut s.observed.denials, key, &mut s.observed.truncated));
    }

    /// A refusal, kept as one line and whole for the invocation's outcome.
    pub fn refusal(&self, e: &AuditEvent) {
        let line = super::one_line(e);
        self.with(|s| {
            if s.refusals.len() < MAX_REFUSAL_LINES {
                s.refusals.push(line);
                s.refused.push(Refused {
                    event: e.event,
                    capability: e.capability,
                    target: e.target.clone().unwrap_or_default(),
                    reason: e.reason.clone().unwrap_or_default(),
                });
            } else {
                s.more_refusals += 1;
            }
        });
    }

    /// The refusal lines so far, with one saying how many more were only counted.
    pub fn refusals(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.with(|s| {
            out = s.refusals.clone();
            if s.more_refusals > 0 {
                out.push(format!("{} more refusals were only counted (see the audit log)", s.more_refusals));
            }
        });
        out
    }

    /// The refusals so far, whole (the first [`MAX_REFUSAL_LINES`]).
    pub fn refusals_whole(&self) -> Vec<Refused> {
        let mut out = Vec::new();
        self.with(|s| out = s.refused.clone());
        out
    }

    /// What was recorded so far (the peaks are the executor's to fill).
    pub fn snapshot(&self) -> Observation {
        let mut out = Observation::default();
        self.with(|s| out = s.observed.clone());
        out
    }

    /// Takes what was recorded since the last take (or the start), leaving the recorder empty
    /// but for the names pinned so far (a later dial is still recorded by its name): `proxy`
    /// drains its one server process's recorder at every call's start and end, to attribute
    /// what the server did to the calls in flight then.
    pub fn take(&self) -> Observation {
        let mut out = Observation::default();
        self.with(|s| out = std::mem::take(&mut s.observed));
        out
    }
}
