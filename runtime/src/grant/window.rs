//! Just-in-time network windows (`proxy`): a wrapped server's network grant is usable only while
//! one of its `tools/call`s is in flight, and what a call's arguments bind only while that call is.
//!
//! The relay (`mcp::relay`) says when a call starts (relayed to the server) and ends (its reply
//! relayed, cancelled by the client, or the server ended): [`CallWindow`]. Every network check of
//! the grant (the DNS stub's look-ups, relayed connections, HTTP proxy requests, UDP flows, a
//! component's sockets and HTTP requests) goes through [`LiveGrant`], which asks the window
//! first: while no call is in flight, a check fails with [`CLOSED`] as its reason. What a check
//! let through holds a [`Lease`], which ends when the window it was opened in closes, so that the
//! broker cuts it then.
//!
//! Bound endpoints (`--bind TOOL.ARG=connect:PATTERN`) are held per call: each call has its own
//! egress state (its concrete endpoints, resolved and pinned for it). The kernel does not tell
//! which call a server's connection belongs to, so a connection is allowed if any call in flight
//! bound its endpoint (the union), and it is cut when the last of those calls ends.

use super::{Denial, LiveGrant};
use crate::audit::{Auditor, Capability, EventKind};
use crate::egress::resolve::Resolve;
use crate::egress::{Egress, NetGrant};
use crate::policy::endpoint::{self, Endpoint, Transport};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// Why a network check failed while no call was in flight.
pub const CLOSED: &str = "no tools/call in flight: just-in-time egress opens the server's network only while a call runs (closed at start-up and between calls)";

/// The hint of a check that only the window refused.
const JIT_OFF: &str = "--jit off";

/// A grant's window, as issued (shown in `grant.issued` under `window`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WindowSpec {
    /// The grant's own endpoints are open only while a call is in flight (`--jit on`); else for
    /// the whole session, and only what calls bind is windowed.
    pub jit: bool,
    /// What calls' arguments may bind (`--bind`): the sandbox is planned for these patterns
    /// (relays, the DNS stub, the proxy), but only a call's concrete endpoints are granted, to it.
    pub bindable: Vec<Bindable>,
}

/// `--bind TOOL.ARG=connect:PATTERN,…`, as the grant records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bindable {
    pub tool: String,
    pub argument: String,
    pub patterns: Vec<Endpoint>,
}

/// An endpoint a call's argument bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundEndpoint {
    pub argument: String,
    pub endpoint: Endpoint,
}

/// Why a check let something through: the grant's own endpoints, or endpoints bound by calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    Grant,
    Calls(Vec<u64>),
}

/// A call in flight.
#[derive(Debug)]
struct InFlight {
    /// Its bound endpoints' egress state, when it bound any.
    egress: Option<Egress>,
}

#[derive(Debug, Default)]
struct State {
    calls: BTreeMap<u64, Arc<InFlight>>,
    /// Times the window closed (no call left in flight).
    closes: u64,
}

/// How long a call's end waits, at most, for what the server did before it to be relayed
/// (connections it made still queued or being checked, bytes it sent not yet copied out) before
/// the window closes and cuts them: a server that sends and then replies at once loses nothing.
pub const CLOSE_SETTLE: Duration = Duration::from_secs(1);

/// What relays the server's network (the native egress broker): waits until it has caught up
/// with what the server did so far.
pub trait Settle: Send + Sync + std::fmt::Debug {
    fn settle(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The window of one grant.
#[derive(Debug)]
pub(crate) struct Window {
    /// What to wait for before a call's end cuts anything ([`Settle`]).
    settler: Mutex<Option<Weak<dyn Settle>>>,
    spec: WindowSpec,
    state: Mutex<State>,
    /// Bumped at every call start and end.
    changes: watch::Sender<u64>,
    resolver: Arc<dyn Resolve>,
    pins: BTreeMap<String, Vec<IpAddr>>,
    audit: Auditor,
}

impl Window {
    pub(crate) fn new(spec: WindowSpec, net: &NetGrant, resolver: Arc<dyn Resolve>, audit: Auditor) -> Self {
        let (changes, _) = watch::channel(0);
        Window {
            settler: Mutex::new(None),
            spec,
            state: Mutex::default(),
            changes,
            resolver,
            pins: net.pins.clone(),
            audit,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_open(&self) -> bool {
        !self.state().calls.is_empty()
    }

    /// The calls in flight that bound endpoints.
    fn bound(&self) -> Vec<(u64, Arc<InFlight>)> {
        self.state().calls.iter().filter(|(_, c)| c.egress.is_some()).map(|(k, c)| (*k, c.clone())).collect()
    }

    fn record(&self, call: u64, tool: &str, reason: String, detail: Value) {
        self.audit.emit(
            EventKind::NetWindow,
            None,
            Some(format!("tools/call {tool} (call {call})")),
            Some(reason),
            Some(detail),
        );
    }
}

/// The relay's side of a window: calls start and end.
#[derive(Debug, Clone)]
pub struct CallWindow(Arc<Window>);

impl CallWindow {
    /// Before `calls` end: if their end would cut anything (the window closes, or one bound
    /// endpoints), waits (at most [`CLOSE_SETTLE`]) until what the server did so far is relayed.
    pub async fn settle_before_ending(&self, calls: &[u64]) {
        let w = &self.0;
        let cuts = {
            let s = w.state();
            let left = s.calls.keys().filter(|c| !calls.contains(c)).count();
            let ending: Vec<&Arc<InFlight>> = calls.iter().filter_map(|c| s.calls.get(c)).collect();
            !ending.is_empty() && ((left == 0 && w.spec.jit) || ending.iter().any(|c| c.egress.is_some()))
        };
        let settler = w.settler.lock().ok().and_then(|s| s.as_ref().and_then(Weak::upgrade));
        if let (true, Some(settler)) = (cuts, settler)
            && tokio::time::timeout(CLOSE_SETTLE, settler.settle()).await.is_err()
        {
            let ids: Vec<String> = calls.iter().map(ToString::to_string).collect();
            w.audit.limit(
                Capability::Resources,
                format!("call {}", ids.join(", ")),
                format!(
                    "what the server did before its call ended was not all relayed within {} (CLOSE_SETTLE); the rest is cut with the window",
                    humantime::format_duration(CLOSE_SETTLE)
                ),
            );
        }
    }

    /// A call was relayed to the server: the window opens (if it was closed) and what its
    /// arguments bound is granted, until [`end`](Self::end). `client_id` is only audited.
    pub fn start(&self, call: u64, tool: &str, client_id: &Value, bound: Vec<BoundEndpoint>) {
        let w = &self.0;
        let egress = (!bound.is_empty()).then(|| {
            let net = NetGrant {
                endpoints: bound.iter().map(|b| b.endpoint.clone()).collect(),
                listen: Vec::new(),
                pins: w.pins.clone(),
            };
            Egress::new(net, w.resolver.clone())
        });
        let in_flight = {
            let mut s = w.state();
            if s.calls.contains_key(&call) {
                return;
            }
            s.calls.insert(call, Arc::new(InFlight { egress }));
            s.calls.len()
        };
        w.changes.send_modify(|g| *g += 1);
        let mut reason = if in_flight == 1 {
            format!("window opened: call {call} in flight")
        } else {
            format!("call {call} started; the window was open already ({in_flight} calls in flight)")
        };
        if !bound.is_empty() {
            let eps: Vec<String> = bound.iter().map(|b| format!("{}={}", b.argument, b.endpoint)).collect();
            reason.push_str(&format!("; bound for this call: {}", eps.join(", ")));
        }
        let detail = json!({
            "phase": "start", "call": call, "client_id": client_id, "tool": tool,
            "open": true, "in_flight": in_flight, "jit": w.spec.jit, "bound": bound,
        });
        w.record(call, tool, reason, detail);
    }

    /// A call ended (`why`: its reply was relayed, it was cancelled, the server ended): what it
    /// bound is taken back, and the window closes if no call is left; what was opened in it is
    /// cut ([`Lease`]). Idempotent.
    pub fn end(&self, call: u64, tool: &str, why: &str) {
        let w = &self.0;
        let in_flight = {
            let mut s = w.state();
            if s.calls.remove(&call).is_none() {
                return;
            }
            if s.calls.is_empty() {
                s.closes += 1;
            }
            s.calls.len()
        };
        w.changes.send_modify(|g| *g += 1);
        let reason = if in_flight == 0 {
            format!("window closed: call {call} ended ({why})")
        } else {
            format!("call {call} ended ({why}); the window stays open ({in_flight} calls in flight)")
        };
        let detail = json!({
            "phase": "end", "call": call, "tool": tool, "open": in_flight > 0,
            "in_flight": in_flight, "jit": w.spec.jit, "ended": why,
        });
        w.record(call, tool, reason, detail);
    }
}

/// What the grant's own endpoints declare, judged without resolving anything (a name, not its
/// addresses): whether `--jit off` alone would let a refused check through.
enum Asked<'a> {
    Name(&'a str),
    Connect(SocketAddr, Transport),
    Http(bool, &'a str, u16),
}

fn declares(net: &NetGrant, asked: &Asked<'_>) -> bool {
    let name_or_ip = |e: &Endpoint, host: &str| {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => e.host.names_ip(ip.to_canonical()),
            Err(_) => endpoint::normalize_name(host).is_ok_and(|n| e.host.matches_name(&n)),
        }
    };
    net.endpoints.iter().any(|e| match *asked {
        Asked::Name(n) => name_or_ip(e, n),
        Asked::Connect(a, t) => {
            e.scheme.covers(t) && e.ports.contains(a.port()) && e.host.names_ip(a.ip().to_canonical())
        }
        Asked::Http(tls, h, p) => e.scheme.covers(Transport::Http { tls }) && e.ports.contains(p) && name_or_ip(e, h),
    })
}

impl LiveGrant {
    /// Registers what relays this grant's network, to be waited for before a call's end cuts
    /// anything ([`CallWindow::settle_before_ending`]).
    pub fn set_settler(&self, settler: Weak<dyn Settle>) {
        if let Some(w) = &self.0.window
            && let Ok(mut s) = w.settler.lock()
        {
            *s = Some(settler);
        }
    }

    /// Whether the grant has a just-in-time window.
    pub fn has_window(&self) -> bool {
        self.0.window.is_some()
    }

    /// The relay's handle on this grant's window, if it has one.
    pub fn call_window(&self) -> Option<CallWindow> {
        self.0.window.clone().map(CallWindow)
    }

    /// A lease for what is about to be checked and opened: take it before the checks.
    pub fn lease(&self) -> Lease {
        let closes = self.0.window.as_ref().map_or(0, |w| w.state().closes);
        Lease::new(self.clone(), closes)
    }

    /// Changes every time a call starts or ends (0 without a window): a refusal remembered
    /// (a denied UDP flow) is checked again once this moved.
    pub fn window_generation(&self) -> u64 {
        self.0.window.as_ref().map_or(0, |w| *w.changes.borrow())
    }

    /// The window's refusal, when no call is in flight and the window gates the grant.
    fn closed(&self, cap: Capability, target: &str, asked: &Asked<'_>) -> Result<(), Denial> {
        let Some(w) = &self.0.window else { return Ok(()) };
        if !w.spec.jit || w.is_open() {
            return Ok(());
        }
        Err(if declares(&self.0.grant.net, asked) {
            Denial::new(cap, target, CLOSED, Some(JIT_OFF.into()))
        } else {
            Denial::new(cap, target, &format!("{CLOSED}; not declared either"), None)
        })
    }

    /// A look-up: the window, the grant's endpoints, then what calls in flight bound.
    pub(super) async fn windowed_lookup(&self, name: &str) -> Result<Vec<IpAddr>, Denial> {
        self.closed(Capability::NetDns, name, &Asked::Name(name))?;
        let first = self.0.egress.lookup(name, &self.0.audit).await;
        let Err(denied) = first else { return first };
        for (_, call) in self.0.window.as_ref().map(|w| w.bound()).unwrap_or_default() {
            if let Some(e) = &call.egress
                && let Ok(addrs) = e.lookup(name, &self.0.audit).await
            {
                return Ok(addrs);
            }
        }
        Err(denied)
    }

    /// A connection or datagram: the window, the grant's endpoints, then what calls bound.
    pub(super) async fn windowed_connect(
        &self,
        addr: SocketAddr,
        t: Transport,
        target: &str,
    ) -> Result<(Basis, String), Denial> {
        self.closed(Capability::NetConnect, target, &Asked::Connect(addr, t))?;
        let denied = match self.0.egress.check_connect(addr, t, &self.0.audit).await {
            Ok(why) => return Ok((Basis::Grant, why)),
            Err(d) => d,
        };
        let mut calls = Vec::new();
        let mut why = None;
        for (id, call) in self.0.window.as_ref().map(|w| w.bound()).unwrap_or_default() {
            if let Some(e) = &call.egress
                && let Ok(w) = e.check_connect(addr, t, &self.0.audit).await
            {
                calls.push(id);
                why.get_or_insert(w);
            }
        }
        match why {
            Some(w) => Ok((Basis::Calls(calls.clone()), format!("{w}; bound by {}", calls_text(&calls)))),
            None => Err(denied),
        }
    }

    /// An HTTP request: the window, the grant's origins, then what calls bound.
    pub(super) async fn windowed_http(
        &self,
        tls: bool,
        host: &str,
        port: u16,
        target: &str,
    ) -> Result<(Basis, Vec<SocketAddr>), Denial> {
        self.closed(Capability::NetHttp, target, &Asked::Http(tls, host, port))?;
        let denied = match self.0.egress.route_http(tls, host, port, &self.0.audit).await {
            Ok(a) => return Ok((Basis::Grant, a)),
            Err(d) => d,
        };
        let mut calls = Vec::new();
        let mut addrs = None;
        for (id, call) in self.0.window.as_ref().map(|w| w.bound()).unwrap_or_default() {
            if let Some(e) = &call.egress
                && let Ok(a) = e.route_http(tls, host, port, &self.0.audit).await
            {
                calls.push(id);
                addrs.get_or_insert(a);
            }
        }
        match addrs {
            Some(a) => Ok((Basis::Calls(calls), a)),
            None => Err(denied),
        }
    }
}

/// `call 3` or `calls 3, 5`.
fn calls_text(calls: &[u64]) -> String {
    let ids: BTreeSet<String> = calls.iter().map(ToString::to_string).collect();
    let ids: Vec<String> = ids.into_iter().collect();
    format!("{} {}", if ids.len() == 1 { "call" } else { "calls" }, ids.join(", "))
}

mod lease;
#[cfg(test)]
mod tests;

pub use lease::Lease;
