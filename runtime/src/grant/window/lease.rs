//! [`Lease`]: what a connection, flow or HTTP request opened under a windowed grant holds.

use super::{Basis, Window};
use crate::grant::LiveGrant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

tokio::task_local! {
    /// The lease of what the current task is checking and opening (see [`Lease::scope`]).
    static CURRENT: Lease;
}

/// What a connection (or flow, or HTTP request) opened under a grant holds: it ends when the
/// grant is revoked or, under a window, when what let it through is gone (the window it was
/// opened in closed; the calls that bound its endpoint ended). Take it before the checks, run
/// them in its [`scope`](Self::scope) (the grant notes there what let each one through), and cut
/// what was opened when [`ended`](Self::ended) resolves.
#[derive(Debug, Clone)]
pub struct Lease {
    grant: LiveGrant,
    /// The window's close count when the lease was taken.
    closes: u64,
    shared: Arc<LeaseState>,
}

/// What the clones of a lease share.
#[derive(Debug, Default)]
struct LeaseState {
    basis: Mutex<Option<Basis>>,
    /// A check in the lease let something through or refused it.
    decided: AtomicBool,
}

impl Lease {
    /// A lease of `grant`, whose window has closed `closes` times so far.
    pub(super) fn new(grant: LiveGrant, closes: u64) -> Lease {
        Lease { grant, closes, shared: Arc::default() }
    }

    /// Runs `work` with this lease current: the grant's checks in it note what let them through.
    pub async fn scope<F: Future>(&self, work: F) -> F::Output {
        CURRENT.scope(self.clone(), work).await
    }

    /// The current task's lease, if it runs in one's scope.
    pub fn current() -> Option<Lease> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Notes `basis` in the current task's lease, if any.
    pub(in crate::grant) fn note_current(basis: Basis) {
        let _ = CURRENT.try_with(|l| l.note(basis));
    }

    /// Notes in the current task's lease, if any, that a check refused.
    pub(in crate::grant) fn refused_current() {
        let _ = CURRENT.try_with(|l| l.shared.decided.store(true, Ordering::SeqCst));
    }

    /// Whether the lease's grant has a window (what it holds may be cut before the grant ends).
    pub fn is_windowed(&self) -> bool {
        self.grant.has_window()
    }

    /// Whether a check in this lease let something through.
    pub fn is_allowed(&self) -> bool {
        self.shared.basis.lock().map(|b| b.is_some()).unwrap_or(false)
    }

    /// Whether a check in this lease was decided (let through or refused).
    pub fn is_decided(&self) -> bool {
        self.shared.decided.load(Ordering::SeqCst)
    }

    fn note(&self, basis: Basis) {
        self.shared.decided.store(true, Ordering::SeqCst);
        let mut b = self.shared.basis.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *b = match (b.take(), basis) {
            (Some(Basis::Grant), _) | (_, Basis::Grant) => Some(Basis::Grant),
            (Some(Basis::Calls(mut a)), Basis::Calls(more)) => {
                a.extend(more);
                a.sort_unstable();
                a.dedup();
                Some(Basis::Calls(a))
            }
            (None, more) => Some(more),
        };
    }

    fn over(&self, w: &Window) -> bool {
        let basis = self.shared.basis.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let s = w.state();
        let closed_since = s.closes > self.closes;
        match basis {
            Some(Basis::Calls(calls)) => closed_since || !calls.iter().any(|c| s.calls.contains_key(c)),
            _ => w.spec.jit && closed_since,
        }
    }

    /// Whether what the lease holds must be cut now.
    pub fn is_over(&self) -> bool {
        self.grant.is_revoked() || self.grant.0.window.as_ref().is_some_and(|w| self.over(w))
    }

    /// Resolves when what the lease holds must be cut.
    pub async fn ended(&self) {
        let Some(w) = &self.grant.0.window else {
            return self.grant.revoked().await;
        };
        let mut changes = w.changes.subscribe();
        loop {
            if self.over(w) {
                return;
            }
            tokio::select! {
                r = changes.changed() => {
                    if r.is_err() {
                        return self.grant.revoked().await;
                    }
                }
                () = self.grant.revoked() => return,
            }
        }
    }
}
