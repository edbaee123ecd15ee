//! The attack-surface window of a `proxy` session, from its audit records: the share of the
//! session's wall time during which the wrapped server could open a connection.
//!
//! A session runs from its `grant.issued` record to its `exit` record (or `grant.revoked`, or
//! its last record when it has not ended). Under just-in-time egress (`--jit on`) the server's
//! network is open while a call is in flight: from the `net.window` record whose `detail.open`
//! turns true to the one that turns it false. With `--jit off` it is open for the whole session
//! when the grant declares endpoints (100 %), and only while calls that bound endpoints are in
//! flight otherwise; with no endpoint at all it is never open (0 %). Pure: records in, figures
//! out (`mcp-sandbox audit window FILE` prints them).

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// How a session's network was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Open only while calls were in flight (`--jit on`, or only bound endpoints).
    JustInTime,
    /// Open for the whole session (`--jit off` with endpoints declared).
    Persistent,
    /// No endpoint declared or bindable: never open.
    NoNetwork,
}

/// The window figures of one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionWindow {
    /// The session's grant id.
    pub invocation: String,
    pub tool: String,
    pub exposure: Exposure,
    /// Wall time from `grant.issued` to the session's end.
    #[serde(serialize_with = "seconds")]
    pub session: Duration,
    /// Of which the server could open a connection.
    #[serde(serialize_with = "seconds")]
    pub open: Duration,
    /// `open / session` (0 for an empty session).
    pub share: f64,
    /// `tools/call`s relayed.
    pub calls: u64,
    /// Times the window opened.
    pub windows: u64,
    /// Whether the session's end was recorded (else it runs to its last record).
    pub ended: bool,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// What is known of one invocation while its records are read.
#[derive(Debug, Default)]
struct Session {
    tool: String,
    start: Option<SystemTime>,
    end: Option<SystemTime>,
    last: Option<SystemTime>,
    jit: bool,
    windowed: bool,
    endpoints: bool,
    bindable: bool,
    open_since: Option<SystemTime>,
    open: Duration,
    calls: u64,
    windows: u64,
}

fn non_empty(v: &Value) -> bool {
    v.as_array().is_some_and(|a| !a.is_empty())
}

impl Session {
    fn read(&mut self, rec: &Value, ts: SystemTime) {
        self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        let detail = &rec["detail"];
        match rec["event"].as_str().unwrap_or("") {
            "grant.issued" => {
                self.start = Some(ts);
                self.tool = rec["tool"].as_str().unwrap_or("").to_string();
                self.endpoints = non_empty(&detail["net"]["endpoints"]);
                let w = &detail["window"];
                self.windowed = w.is_object();
                self.jit = w["jit"].as_bool().unwrap_or(false);
                self.bindable = non_empty(&w["bindable"]);
            }
            "net.window" => {
                if detail["phase"] == "start" {
                    self.calls += 1;
                }
                match (self.open_since, detail["open"].as_bool()) {
                    (None, Some(true)) => {
                        self.open_since = Some(ts);
                        self.windows += 1;
                    }
                    (Some(since), Some(false)) => {
                        self.open += ts.duration_since(since).unwrap_or_default();
                        self.open_since = None;
                    }
                    _ => {}
                }
            }
            "exit" => self.end = Some(ts),
            "grant.revoked" if self.end.is_none() => self.end = Some(ts),
            _ => {}
        }
    }

    fn finish(self, invocation: String) -> Option<SessionWindow> {
        let start = self.start?;
        let end = self.end.or(self.last)?;
        let session = end.duration_since(start).unwrap_or_default();
        let mut open =
            self.open + self.open_since.map(|s| end.duration_since(s).unwrap_or_default()).unwrap_or_default();
        let exposure = if !self.endpoints && !self.bindable {
            open = Duration::ZERO;
            Exposure::NoNetwork
        } else if self.endpoints && !self.jit {
            open = session;
            Exposure::Persistent
        } else {
            Exposure::JustInTime
        };
        let open = open.min(session);
        let share = if session.is_zero() { 0.0 } else { open.as_secs_f64() / session.as_secs_f64() };
        Some(SessionWindow {
            invocation,
            tool: self.tool,
            exposure,
            session,
            open,
            share,
            calls: self.calls,
            windows: self.windows,
            ended: self.end.is_some(),
        })
    }
}

/// The window of every `proxy` session (an invocation whose grant has a window) in `records`,
/// in the order their grants were issued. Records of other invocations, and records without a
/// readable `ts`, are left out.
pub fn sessions(records: &[Value]) -> Vec<SessionWindow> {
    let mut by_id: BTreeMap<String, Session> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for rec in records {
        let (Some(id), Some(ts)) = (rec["invocation"].as_str(), rec["ts"].as_str()) else { continue };
        let Ok(ts) = humantime::parse_rfc3339_weak(ts) else { continue };
        let s = by_id.entry(id.to_string()).or_insert_with(|| {
            order.push(id.to_string());
            Session::default()
        });
        s.read(rec, ts);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let s = by_id.remove(&id)?;
            if !s.windowed {
                return None;
            }
            s.finish(id)
        })
        .collect()
}

/// Parses a JSON-lines audit file: the records, and how many lines were not JSON objects.
pub fn parse_lines(text: &str) -> (Vec<Value>, usize) {
    let mut bad = 0;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(v) if v.is_object() => out.push(v),
            _ => bad += 1,
        }
    }
    (out, bad)
}

/// `3.2s`, `1m 02.5s`: a duration for people.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 { format!("{s:.2}s") } else { format!("{}m {:05.2}s", (s / 60.0).floor(), s % 60.0) }
}

/// One line per session, for people.
pub fn describe(w: &SessionWindow) -> String {
    let how = match w.exposure {
        Exposure::JustInTime => "just-in-time",
        Exposure::Persistent => "persistent (--jit off)",
        Exposure::NoNetwork => "no network granted",
    };
    let per_call = if w.calls > 0 && w.exposure == Exposure::JustInTime {
        format!(", {} open per call", human(w.open / u32::try_from(w.calls).unwrap_or(u32::MAX)))
    } else {
        String::new()
    };
    format!(
        "session {} ({how}): {} long, network open {} = {:.1}% of it, {} calls, {} windows{per_call}{}",
        w.invocation,
        human(w.session),
        human(w.open),
        w.share * 100.0,
        w.calls,
        w.windows,
        if w.ended { "" } else { " (not ended: measured to its last record)" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(id: &str, ms: u64, event: &str, detail: Value) -> Value {
        let ts =
            humantime::format_rfc3339_millis(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms));
        json!({ "ts": ts.to_string(), "invocation": id, "tool": "sha256:0", "event": event, "detail": detail })
    }

    fn issued(id: &str, jit: bool, endpoints: Value) -> Value {
        rec(
            id,
            0,
            "grant.issued",
            json!({ "net": { "endpoints": endpoints }, "window": { "jit": jit, "bindable": [] } }),
        )
    }

    fn call(id: &str, from: u64, to: u64, n: &mut u64) -> [Value; 2] {
        *n += 1;
        [
            rec(id, from, "net.window", json!({ "phase": "start", "call": *n, "open": true })),
            rec(id, to, "net.window", json!({ "phase": "end", "call": *n, "open": false })),
        ]
    }

    #[test]
    fn the_share_is_the_union_of_calls_over_the_session() {
        let mut n = 0;
        let mut log = vec![issued("a", true, json!(["127.0.0.1:80"]))];
        log.extend(call("a", 1000, 1500, &mut n));
        log.extend(call("a", 5000, 5500, &mut n));
        // Two calls overlapping: 9000-9800 and 9400-10000 are one window of 1 s.
        log.push(rec("a", 9000, "net.window", json!({ "phase": "start", "open": true })));
        log.push(rec("a", 9400, "net.window", json!({ "phase": "start", "open": true })));
        log.push(rec("a", 9800, "net.window", json!({ "phase": "end", "open": true })));
        log.push(rec("a", 10000, "net.window", json!({ "phase": "end", "open": false })));
        log.push(rec("a", 20000, "exit", json!({ "status": 0 })));
        // Another invocation (a `run`, no window) is not a session.
        log.push(rec("b", 0, "grant.issued", json!({ "net": { "endpoints": ["x.com:1"] } })));
        let s = sessions(&log);
        assert_eq!(s.len(), 1);
        let w = &s[0];
        assert_eq!((w.session, w.open), (Duration::from_secs(20), Duration::from_secs(2)));
        assert_eq!((w.calls, w.windows, w.exposure, w.ended), (4, 3, Exposure::JustInTime, true));
        assert!((w.share - 0.1).abs() < 1e-9, "{}", w.share);
        assert!(describe(w).contains("10.0%"), "{}", describe(w));
    }

    #[test]
    fn jit_off_is_the_whole_session_and_no_endpoint_is_none_of_it() {
        let mut n = 0;
        let mut log = vec![issued("a", false, json!(["127.0.0.1:80"]))];
        log.extend(call("a", 1000, 1500, &mut n));
        log.push(rec("a", 4000, "grant.revoked", json!(null)));
        log.push(issued("c", true, json!([])));
        log.extend(call("c", 100, 200, &mut n));
        log.push(rec("c", 400, "exit", json!(null)));
        let s = sessions(&log);
        let a = s.iter().find(|w| w.invocation == "a").unwrap();
        assert_eq!((a.exposure, a.share, a.open), (Exposure::Persistent, 1.0, Duration::from_secs(4)));
        let c = s.iter().find(|w| w.invocation == "c").unwrap();
        assert_eq!((c.exposure, c.share), (Exposure::NoNetwork, 0.0));
    }

    #[test]
    fn a_session_still_open_runs_to_its_last_record() {
        let log = vec![
            issued("a", true, json!(["127.0.0.1:80"])),
            rec("a", 1000, "net.window", json!({ "phase": "start", "open": true })),
            rec("a", 3000, "deny", json!(null)),
        ];
        let w = &sessions(&log)[0];
        assert_eq!((w.session, w.open, w.ended), (Duration::from_secs(3), Duration::from_secs(2), false));
        let (recs, bad) = parse_lines("{\"a\":1}\nnot json\n\n[1]\n");
        assert_eq!((recs.len(), bad), (1, 2));
    }
}
