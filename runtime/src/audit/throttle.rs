//! Bounds what one invocation can write to the audit log (and to stderr, which sees the same
//! records). A tool that repeats a denied action (a DNS question per random name, a datagram
//! per source port) would otherwise fill the disk and bury the events that matter.
//!
//! Every `allow`, `deny` and `limit` record passes here (the grant, revocation, exit and
//! degraded records always go through, as do the `mcp.tool` allow records: one per request the
//! MCP client itself sent). Records are grouped in kinds: (event, capability, reason). Per
//! invocation:
//!
//! * a record identical to one already written (same kind and target) is only counted;
//! * each kind writes its first [`MAX_RECORDS_PER_KIND`] distinct targets, then only counts;
//! * at most [`MAX_RECORDS_PER_INVOCATION`] such records are written in all;
//! * at most [`MAX_KINDS`] kinds are told apart; the rest are counted together.
//!
//! What was only counted is written as one `suppressed` record per kind, with the counts,
//! before the grant's `grant.revoked` record (and again before `exit`, or when the last handle
//! goes, for anything counted after that). So the first record of every kind is always there
//! (every distinct target up to the cap), and the log of one invocation stays small whatever
//! the tool does.

use super::{AuditEvent, AuditSink, Capability, EventKind};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Records one kind of event (event, capability, reason) writes per invocation before the rest
/// are only counted: enough to see what a tool was after, few enough that a flood costs a few
/// tens of kilobytes.
pub const MAX_RECORDS_PER_KIND: usize = 64;
/// Once a kind is full, records of targets it has not written yet are still written, this many:
/// a flood of one target (or of a few) cannot hide the first attempt at another.
pub const MAX_NEW_TARGETS_BEYOND: usize = 16;
/// Throttled records (`allow`, `deny`, `limit`) one invocation writes in all, whatever their
/// kinds: bounds the log of one invocation (about 100 KiB) when the reasons themselves vary.
pub const MAX_RECORDS_PER_INVOCATION: usize = 256;
/// Kinds told apart per invocation (each costs a counter, and a `suppressed` record at the
/// end); later kinds are counted under one "other reasons" kind per event and capability.
pub const MAX_KINDS: usize = 64;
/// Targets remembered per invocation to tell new ones from repeats (a hash each).
const MAX_SEEN: usize = 4096;
/// The reason of the kind that collects what [`MAX_KINDS`] leaves out.
const OTHER_REASONS: &str = "other reasons";

type Kind = (EventKind, Option<Capability>, String);

#[derive(Debug, Default)]
struct Bucket {
    written: usize,
    /// Written beyond [`MAX_RECORDS_PER_KIND`], each a new target.
    late: usize,
    /// Counted, identical to a record already written.
    repeated: u64,
    /// Counted, a target not written (beyond the caps).
    beyond: u64,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<Kind, Bucket>,
    /// Order in which kinds first appeared (summaries come out in that order).
    order: Vec<Kind>,
    seen: HashSet<u64>,
    written: usize,
}

/// The throttle of one invocation, shared by every clone of its [`Auditor`](super::Auditor).
/// When the last clone goes, whatever is still only counted is written out.
#[derive(Debug)]
pub(super) struct Throttle {
    sink: Arc<dyn AuditSink>,
    state: Mutex<State>,
    /// The stamp of the summaries: (invocation, tool).
    stamp: (String, String),
}

/// Whether `e` goes through the throttle at all.
fn throttled(e: &AuditEvent) -> bool {
    match e.event {
        EventKind::Deny | EventKind::Limit => true,
        EventKind::Allow => e.capability != Some(Capability::McpTool),
        _ => false,
    }
}

impl Throttle {
    pub(super) fn new(sink: Arc<dyn AuditSink>, invocation: String, tool: String) -> Self {
        Throttle { sink, state: Mutex::new(State::default()), stamp: (invocation, tool) }
    }

    /// Writes `e`, or only counts it; flushes the counts first when `e` ends the invocation.
    pub(super) fn record(&self, e: &AuditEvent) {
        if matches!(e.event, EventKind::GrantRevoked | EventKind::Exit) {
            self.flush();
        }
        if !throttled(e) || self.admit(e) {
            self.sink.record(e);
        }
    }

    /// Whether `e` is written (else it is counted).
    fn admit(&self, e: &AuditEvent) -> bool {
        let Ok(mut s) = self.state.lock() else { return true };
        let reason = e.reason.clone().unwrap_or_default();
        let mut kind = (e.event, e.capability, reason);
        if !s.buckets.contains_key(&kind) && s.buckets.len() >= MAX_KINDS {
            kind.2 = OTHER_REASONS.into();
        }
        let mut h = DefaultHasher::new();
        (&kind, &e.target).hash(&mut h);
        let h = h.finish();
        if !s.buckets.contains_key(&kind) {
            s.order.push(kind.clone());
        }
        let repeated = s.seen.contains(&h);
        let room = s.written < MAX_RECORDS_PER_INVOCATION;
        let State { buckets, seen, written, .. } = &mut *s;
        let b = buckets.entry(kind).or_default();
        let admitted = room && (b.written < MAX_RECORDS_PER_KIND || (!repeated && b.late < MAX_NEW_TARGETS_BEYOND));
        if !admitted {
            if repeated {
                b.repeated += 1;
            } else {
                b.beyond += 1;
            }
            return false;
        }
        if b.written >= MAX_RECORDS_PER_KIND {
            b.late += 1;
        }
        b.written += 1;
        *written += 1;
        if seen.len() < MAX_SEEN {
            seen.insert(h);
        }
        true
    }

    /// Writes one `suppressed` record per kind with something counted, and resets the counts.
    pub(super) fn flush(&self) {
        let pending: Vec<(Kind, u64, u64)> = {
            let Ok(mut s) = self.state.lock() else { return };
            let State { buckets, order, .. } = &mut *s;
            order
                .iter()
                .filter_map(|k| {
                    let b = buckets.get_mut(k)?;
                    let counts = (b.repeated, b.beyond);
                    (b.repeated, b.beyond) = (0, 0);
                    (counts != (0, 0)).then(|| (k.clone(), counts.0, counts.1))
                })
                .collect()
        };
        for ((event, capability, reason), repeated, beyond) in pending {
            self.sink.record(&summary(&self.stamp, event, capability, reason, repeated, beyond));
        }
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.flush();
    }
}

fn summary(
    (invocation, tool): &(String, String),
    event: EventKind,
    capability: Option<Capability>,
    reason: String,
    repeated: u64,
    beyond: u64,
) -> AuditEvent {
    AuditEvent {
        ts: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        invocation: invocation.clone(),
        tool: tool.clone(),
        event: EventKind::Suppressed,
        capability,
        target: None,
        reason: Some(reason),
        hint: None,
        detail: Some(serde_json::json!({
            "event": event.as_str(),
            "count": repeated + beyond,
            "repeated": repeated,
            "beyond_cap": beyond,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Auditor, MemorySink};
    use super::*;
    use crate::audit::Denial;

    fn flood(a: &Auditor, n: usize, target: impl Fn(usize) -> String) {
        for i in 0..n {
            a.deny(&Denial::new(Capability::NetDns, &target(i), "name not declared", None));
        }
    }

    #[test]
    fn a_flood_of_distinct_denials_writes_the_first_of_each_kind_and_a_count() {
        let sink = Arc::new(MemorySink::default());
        let a = Auditor::new(sink.clone(), "g".into(), "t".into());
        flood(&a, 10_000, |i| format!("x{i}.evil.example"));
        a.deny(&Denial::new(Capability::NetConnect, "tcp://10.0.0.5:443", "not declared", None));
        a.emit(EventKind::GrantRevoked, None, None, Some("exit".into()), None);
        let ev = sink.events();
        let dns: Vec<_> =
            ev.iter().filter(|e| e.event == EventKind::Deny && e.capability == Some(Capability::NetDns)).collect();
        assert_eq!(dns.len(), MAX_RECORDS_PER_KIND + MAX_NEW_TARGETS_BEYOND);
        assert_eq!(dns[0].target.as_deref(), Some("x0.evil.example"), "the first is there");
        let connect: Vec<_> = ev.iter().filter(|e| e.capability == Some(Capability::NetConnect)).collect();
        assert_eq!(connect.len(), 1, "not buried: {connect:?}");
        let sums: Vec<_> = ev.iter().filter(|e| e.event == EventKind::Suppressed).collect();
        assert_eq!(sums.len(), 1);
        let count = 10_000 - MAX_RECORDS_PER_KIND - MAX_NEW_TARGETS_BEYOND;
        assert_eq!(sums[0].detail.as_ref().unwrap()["count"], count);
        assert_eq!(ev.last().unwrap().event, EventKind::GrantRevoked, "summaries come before the end");
    }

    #[test]
    fn a_flood_of_one_target_cannot_hide_a_new_one() {
        let sink = Arc::new(MemorySink::default());
        let a = Auditor::new(sink.clone(), "g".into(), "t".into());
        flood(&a, 1_000, |_| "same.evil.example".into());
        flood(&a, 1, |_| "new.evil.example".into());
        flood(&a, 1_000, |_| "same.evil.example".into());
        drop(a);
        let ev = sink.events();
        let targets: Vec<_> =
            ev.iter().filter(|e| e.event == EventKind::Deny).map(|e| e.target.clone().unwrap()).collect();
        assert_eq!(targets.len(), MAX_RECORDS_PER_KIND + 1);
        assert_eq!(targets.last().map(String::as_str), Some("new.evil.example"));
        let sum = ev.iter().find(|e| e.event == EventKind::Suppressed).unwrap();
        assert_eq!(sum.detail.as_ref().unwrap()["repeated"], 2_000 - MAX_RECORDS_PER_KIND);
    }

    #[test]
    fn the_total_and_the_kinds_are_bounded_whatever_the_reasons() {
        let run = |reason: &dyn Fn(usize) -> String| {
            let sink = Arc::new(MemorySink::default());
            let a = Auditor::new(sink.clone(), "g".into(), "t".into());
            for i in 0..5_000 {
                a.deny(&Denial::new(Capability::NetDns, &format!("n{i}"), &reason(i), None));
            }
            drop(a);
            let ev = sink.events();
            let written = ev.iter().filter(|e| e.event == EventKind::Deny).count();
            let sums: Vec<_> = ev.iter().filter(|e| e.event == EventKind::Suppressed).collect();
            assert!(sums.len() <= MAX_KINDS + 1, "{}", sums.len());
            let counted: u64 = sums.iter().map(|e| e.detail.as_ref().unwrap()["count"].as_u64().unwrap()).sum();
            assert_eq!(counted as usize + written, 5_000, "every record is written or counted");
            written
        };
        // Distinct reasons: each kind writes one, until the kinds run out.
        assert_eq!(run(&|i| format!("reason {i}")), MAX_KINDS + MAX_RECORDS_PER_KIND + MAX_NEW_TARGETS_BEYOND);
        // Few kinds, many targets each: the total cap.
        assert_eq!(run(&|i| format!("why {}", i % 40)), MAX_RECORDS_PER_INVOCATION);
    }

    #[test]
    fn lifecycle_records_and_mcp_calls_are_never_throttled() {
        let sink = Arc::new(MemorySink::default());
        let a = Auditor::new(sink.clone(), "g".into(), "t".into());
        for _ in 0..100 {
            a.allow(Capability::McpTool, "echo", "relayed");
            a.emit(EventKind::Exit, None, None, None, None);
        }
        assert_eq!(sink.events().len(), 200);
    }
}
