//! What the supervisor holds on a tool's behalf (host sockets for its UDP flows, relayed TCP
//! connections, WebAssembly sockets and HTTP requests, look-ups waiting on a resolver) is
//! bounded twice: per call, by the constants below, and for the whole process, by a descriptor
//! budget that leaves [`RESERVED_DESCRIPTORS`] to the server itself (its clients, its audit
//! log, the next call's sandbox). A call asking for more is refused that one resource (the
//! tool sees an ordinary error), audited as a `limit` event, and goes on; no call can take what
//! the server or another call needs to start.
//!
//! The per-call bounds times the concurrent calls of `serve` (16 by default) fit in the budget:
//! the first call takes the soft `RLIMIT_NOFILE` up to its hard limit (at most
//! [`MAX_NOFILE`]), as most network servers do.

use crate::audit::{Auditor, Capability};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// UDP flows (a sender inside and the address it sent to, each with its own host socket) one
/// native call may have open at once. A resolver client uses one per query, most tools one or
/// two in all; 64 at once is far beyond either. A flow quiet for [`UDP_RECLAIM_QUIET`] gives
/// its place to a new one when the call is at the bound.
pub const MAX_UDP_FLOWS: usize = 64;
/// A flow quiet this long (no datagram either way) may be closed to make room for a new one.
pub const UDP_RECLAIM_QUIET: std::time::Duration = std::time::Duration::from_secs(5);
/// TCP connections the broker relays for one native call at once (relays and the HTTP proxy
/// together; each costs two descriptors, the tool's end and the real one, and a third under a
/// just-in-time window: [`Held::Watched`]). Browsers keep about
/// six per origin and HTTP client pools tens; 128 leaves room for a crawler.
pub const MAX_RELAYED_CONNECTIONS: usize = 128;
/// `wasi:sockets` sockets (TCP and UDP, accepted ones included) one WebAssembly call may hold
/// at once: each is a host socket. Creating one beyond fails with `new-socket-limit`.
pub const MAX_WASM_SOCKETS: usize = 64;
/// `wasi:http` requests of one WebAssembly call in flight at once (each a host connection
/// until its response is read). Beyond, a request fails with `connection-limit-reached`.
pub const MAX_HTTP_REQUESTS: usize = 32;
/// Look-ups of one call waiting on the upstream resolver at once (each holds a socket or a
/// resolver thread); beyond, a look-up is refused.
pub const MAX_PENDING_LOOKUPS: usize = 16;
/// Distinct names one call may have resolved (each is kept, pinned, for the call's life, and
/// under a `*.suffix` each is a query upstream); beyond, new names are refused.
pub const MAX_NAMES: usize = 1024;
/// Descriptors no call may take: what the server needs for itself (its clients, audit log,
/// compiled-component cache, the socketpairs and pipes of the next call's sandbox).
pub const RESERVED_DESCRIPTORS: usize = 256;
/// The soft `RLIMIT_NOFILE` the process raises itself to, at most (never above the hard limit).
pub const MAX_NOFILE: u64 = 65_536;

/// A kind of resource held for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    UdpFlow,
    Relayed,
    WasmSocket,
    HttpRequest,
    Lookup,
    /// Under a just-in-time window (`proxy`), a duplicate of the tool's end of a relayed
    /// connection, polled before a call's end closes the window (one per relayed connection).
    Watched,
}

impl Held {
    const ALL: usize = 6;

    fn index(self) -> usize {
        self as usize
    }

    /// The per-call bound.
    pub fn per_call(self) -> usize {
        match self {
            Held::UdpFlow => MAX_UDP_FLOWS,
            Held::Relayed | Held::Watched => MAX_RELAYED_CONNECTIONS,
            Held::WasmSocket => MAX_WASM_SOCKETS,
            Held::HttpRequest => MAX_HTTP_REQUESTS,
            Held::Lookup => MAX_PENDING_LOOKUPS,
        }
    }

    /// Descriptors one costs the process.
    fn descriptors(self) -> usize {
        match self {
            Held::Relayed => 2,
            _ => 1,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Held::UdpFlow => "UDP flows (MAX_UDP_FLOWS)",
            Held::Relayed => "relayed TCP connections (MAX_RELAYED_CONNECTIONS)",
            Held::WasmSocket => "wasi:sockets sockets (MAX_WASM_SOCKETS)",
            Held::HttpRequest => "wasi:http requests in flight (MAX_HTTP_REQUESTS)",
            Held::Lookup => "look-ups in flight (MAX_PENDING_LOOKUPS)",
            Held::Watched => "watched relayed TCP connections (MAX_RELAYED_CONNECTIONS)",
        }
    }
}

/// Descriptors held for all calls of this process.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// The process-wide budget: the soft descriptor limit (raised first) less the reserve.
pub fn descriptor_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let lim = getrlimit(Resource::Nofile);
        let hard = lim.maximum.unwrap_or(MAX_NOFILE);
        let want = hard.min(MAX_NOFILE);
        let soft = match lim.current {
            Some(cur) if cur < want => {
                let raised = Rlimit { current: Some(want), maximum: lim.maximum };
                if setrlimit(Resource::Nofile, raised).is_ok() { want } else { cur }
            }
            Some(cur) => cur,
            None => want,
        };
        usize::try_from(soft).unwrap_or(usize::MAX).saturating_sub(RESERVED_DESCRIPTORS)
    })
}

/// Descriptors currently held for all calls (for tests and diagnostics).
pub fn descriptors_held() -> usize {
    HELD.load(Ordering::SeqCst)
}

/// The resources held for one call.
#[derive(Debug, Default)]
pub struct Quota {
    held: [AtomicUsize; Held::ALL],
}

/// Why a resource was refused: the audit `limit` record's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl Quota {
    pub fn new() -> Arc<Self> {
        Arc::new(Quota::default())
    }

    /// Takes one `what` for this call, or says why not.
    pub fn acquire(self: &Arc<Self>, what: Held) -> Result<Permit, Refused> {
        let mine = &self.held[what.index()];
        if mine.fetch_add(1, Ordering::SeqCst) >= what.per_call() {
            mine.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused(format!(
                "at most {} {} per call; refused until one ends",
                what.per_call(),
                what.what()
            )));
        }
        let n = what.descriptors();
        let budget = descriptor_budget();
        if HELD.fetch_add(n, Ordering::SeqCst) + n > budget {
            HELD.fetch_sub(n, Ordering::SeqCst);
            mine.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused(format!(
                "the server's descriptor budget ({budget}, the open-files limit less {RESERVED_DESCRIPTORS} kept for the server) is in use by all calls; refused"
            )));
        }
        Ok(Permit { quota: self.clone(), what })
    }

    /// Takes one `what`, or audits the refusal (a `limit` record on `target`) and returns `None`.
    pub fn acquire_or_audit(self: &Arc<Self>, what: Held, target: &str, audit: &Auditor) -> Option<Permit> {
        match self.acquire(what) {
            Ok(p) => Some(p),
            Err(Refused(reason)) => {
                audit.limit(Capability::Resources, target, reason);
                None
            }
        }
    }

    /// How many of `what` this call holds.
    pub fn held(&self, what: Held) -> usize {
        self.held[what.index()].load(Ordering::SeqCst)
    }
}

/// One resource held; released when dropped.
#[derive(Debug)]
pub struct Permit {
    quota: Arc<Quota>,
    what: Held,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.quota.held[self.what.index()].fetch_sub(1, Ordering::SeqCst);
        HELD.fetch_sub(self.what.descriptors(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_gets_its_bound_and_no_more_and_gets_it_back() {
        let q = Quota::new();
        let other = Quota::new();
        let before = descriptors_held();
        let held: Vec<Permit> = (0..MAX_UDP_FLOWS).map(|_| q.acquire(Held::UdpFlow).unwrap()).collect();
        let refused = q.acquire(Held::UdpFlow).unwrap_err();
        assert!(refused.0.contains("at most 64 UDP flows"), "{refused:?}");
        assert!(other.acquire(Held::UdpFlow).is_ok(), "another call is not starved");
        assert!(q.acquire(Held::Relayed).is_ok(), "other kinds have their own bound");
        assert!(descriptors_held() >= before + MAX_UDP_FLOWS);
        drop(held);
        assert_eq!(q.held(Held::UdpFlow), 0);
        assert!(q.acquire(Held::UdpFlow).is_ok());
        assert!(descriptor_budget() > 16 * (MAX_UDP_FLOWS + 2 * MAX_RELAYED_CONNECTIONS) / 4);
    }
}
