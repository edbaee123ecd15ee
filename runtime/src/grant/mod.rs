//! Just-in-time capability grants.
//!
//! A [`Grant`] is the concrete set of capabilities issued for exactly one invocation: a
//! random 128-bit id, the tool's digest, the paths, env variables, endpoints and limits,
//! and its validity window. It is frozen once issued and serializable (so that later it can
//! be signed and handed to another process). A [`LiveGrant`] is the grant in force: every
//! capability check goes through it, and once it is revoked (the invocation ended, was
//! cancelled, or someone revoked it from outside) or has expired, every check fails,
//! including those of host tasks still in flight. A grant may also have a [`window`]: its
//! network open only while a `tools/call` is in flight (`proxy`'s just-in-time egress).

mod broker;
pub mod window;

/// Where a refusal's type lives (`audit`); re-exported for the checks that return it.
pub use crate::audit::Denial;
pub use broker::{GrantBroker, GrantRequest};
pub use window::{Basis, BoundEndpoint, CallWindow, Lease, Settle, WindowSpec};

use crate::audit::{Auditor, Capability, EventKind};
use crate::egress::{Egress, NetGrant};
use crate::policy::endpoint::Transport;
use crate::policy::{Limits, PathRule};
use crate::profile::Proto;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// A random 128-bit grant id, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrantId([u8; 16]);

impl GrantId {
    pub fn random() -> Self {
        let mut b = [0u8; 16];
        // The OS RNG failing is not something to paper over: an id must never repeat.
        if getrandom::fill(&mut b).is_err() {
            let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            let h = Sha256::digest(format!("{t:?}{:?}", std::thread::current().id()));
            b.copy_from_slice(&h[..16]);
        }
        GrantId(b)
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({self})")
    }
}

impl Serialize for GrantId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `sha256:<hex>` of a tool's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ToolDigest(String);

impl ToolDigest {
    pub fn of(bytes: &[u8]) -> Self {
        let d = Sha256::digest(bytes);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        ToolDigest(format!("sha256:{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hex part, for file names.
    pub fn hex(&self) -> &str {
        self.0.trim_start_matches("sha256:")
    }
}

impl fmt::Display for ToolDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An env variable with its concrete value. The value is never printed or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=<redacted>", self.name)
    }
}

impl Serialize for EnvVar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// The last instant RFC 3339 can write (9999-12-31T23:59:59.999Z), as time since the epoch.
const LAST_RFC3339: Duration = Duration::from_millis(253_402_300_799_999);

/// Writes `t` as RFC 3339, saturating to the years 1970 to 9999 that the format (and
/// humantime, which panics past them) covers. Limits are bounded where they are parsed, so an
/// expiry is never near either end; this keeps serialising a grant total regardless.
fn rfc3339<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().min(LAST_RFC3339);
    s.collect_str(&humantime::format_rfc3339_millis(SystemTime::UNIX_EPOCH + since))
}

/// The concrete capabilities of one invocation.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub id: GrantId,
    pub tool: ToolDigest,
    pub paths: Vec<PathRule>,
    pub env: Vec<EnvVar>,
    pub net: NetGrant,
    pub limits: Limits,
    #[serde(serialize_with = "rfc3339")]
    pub issued_at: SystemTime,
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: SystemTime,
    /// Just-in-time egress (`proxy`): when the network is open, and what calls may bind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
}

impl Grant {
    /// The endpoints a sandbox must be able to reach at all (what it opens inside is planned
    /// from these): the grant's own, and every pattern a call may bind.
    pub fn planned_endpoints(&self) -> Vec<crate::policy::endpoint::Endpoint> {
        let mut all = self.net.endpoints.clone();
        for b in self.window.iter().flat_map(|w| &w.bindable) {
            all.extend(b.patterns.iter().cloned());
        }
        all
    }
}

#[derive(Debug)]
struct Inner {
    grant: Grant,
    revoked: AtomicBool,
    revoked_tx: watch::Sender<bool>,
    audit: Auditor,
    egress: Egress,
    window: Option<std::sync::Arc<window::Window>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A grant never outlives its last holder in force.
        if !self.revoked.swap(true, Ordering::SeqCst) {
            self.audit.emit(EventKind::GrantRevoked, None, None, Some("dropped".into()), None);
        }
    }
}

/// The grant in force for one invocation. Cheap to clone; all clones share revocation.
#[derive(Debug, Clone)]
pub struct LiveGrant(Arc<Inner>);

/// Revokes a grant from outside the invocation (a cancelled call, an operator).
#[derive(Debug, Clone)]
pub struct RevocationHandle(LiveGrant);

impl RevocationHandle {
    pub fn revoke(&self, reason: &str) {
        self.0.revoke(reason);
    }
}

impl LiveGrant {
    pub fn grant(&self) -> &Grant {
        &self.0.grant
    }

    pub fn id(&self) -> GrantId {
        self.0.grant.id
    }

    pub fn audit(&self) -> &Auditor {
        &self.0.audit
    }

    pub fn revocation_handle(&self) -> RevocationHandle {
        RevocationHandle(self.clone())
    }

    /// Whether checks may still succeed: not revoked and not expired.
    pub fn is_active(&self) -> bool {
        !self.0.revoked.load(Ordering::SeqCst) && SystemTime::now() < self.0.grant.expires_at
    }

    /// Whether the grant has been revoked (by the invocation's end or from outside).
    pub fn is_revoked(&self) -> bool {
        self.0.revoked.load(Ordering::SeqCst)
    }

    /// Ends the grant; idempotent. Every later check fails and in-flight host tasks that
    /// wait on [`LiveGrant::revoked`] are cut.
    pub fn revoke(&self, reason: &str) {
        if !self.0.revoked.swap(true, Ordering::SeqCst) {
            self.0.revoked_tx.send_replace(true);
            self.0.audit.emit(EventKind::GrantRevoked, None, None, Some(reason.to_string()), None);
        }
    }

    /// Resolves when the grant is revoked.
    pub async fn revoked(&self) {
        let mut rx = self.0.revoked_tx.subscribe();
        // The sender lives as long as `self`, so this only ends by revocation.
        let _ = rx.wait_for(|r| *r).await;
    }

    fn active(&self, cap: Capability, target: &str) -> Result<(), Denial> {
        if self.0.revoked.load(Ordering::SeqCst) {
            return Err(Denial::new(cap, target, "grant revoked", None));
        }
        if SystemTime::now() >= self.0.grant.expires_at {
            return Err(Denial::new(cap, target, "grant expired", None));
        }
        Ok(())
    }

    fn audited<T>(&self, r: Result<(T, String), Denial>, cap: Capability, target: &str) -> Result<T, Denial> {
        match r {
            Ok((v, why)) => {
                self.0.audit.allow(cap, target, why);
                Ok(v)
            }
            Err(d) => {
                self.0.audit.deny(&d);
                Err(d)
            }
        }
    }

    /// A tool's name look-up.
    pub async fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, Denial> {
        let r = match self.active(Capability::NetDns, name) {
            Ok(()) => self.windowed_lookup(name).await,
            Err(d) => Err(d),
        };
        match &r {
            Ok(addrs) => self.0.audit.recorder().looked_up(name, addrs),
            Err(d) => {
                self.0.audit.deny(d);
                Lease::refused_current();
            }
        }
        r
    }

    /// An outgoing TCP connection or UDP datagram. What let it through is noted in the
    /// current task's [`Lease`], if any.
    pub async fn check_connect(&self, addr: SocketAddr, t: Transport) -> Result<(), Denial> {
        let target = format!("{}://{addr}", if t == Transport::Udp { "udp" } else { "tcp" });
        let r = match self.active(Capability::NetConnect, &target) {
            Ok(()) => self.windowed_connect(addr, t, &target).await,
            Err(d) => Err(d),
        };
        let r = self
            .audited(r, Capability::NetConnect, &target)
            .map(Lease::note_current)
            .inspect_err(|_| Lease::refused_current());
        if r.is_ok() {
            let proto = if t == Transport::Udp { Proto::Udp } else { Proto::Tcp };
            self.0.audit.recorder().dialled(addr, proto);
        }
        r
    }

    /// Binding (and, with `listen`, listening on) a local address.
    pub fn check_bind(&self, addr: SocketAddr, t: Transport, listen: bool) -> Result<(), Denial> {
        let target = format!("{}://{addr}", if t == Transport::Udp { "udp" } else { "tcp" });
        let r = self
            .active(Capability::NetBind, &target)
            .and_then(|()| self.0.egress.check_bind(addr, t, listen))
            .map(|why| ((), why));
        self.audited(r, Capability::NetBind, &target)
    }

    /// An HTTP request: returns the pinned addresses to connect to. What let it through is
    /// noted in the current task's [`Lease`], if any.
    pub async fn route_http(&self, tls: bool, host: &str, port: u16) -> Result<Vec<SocketAddr>, Denial> {
        let target = format!("{}://{host}:{port}", if tls { "https" } else { "http" });
        let r = match self.active(Capability::NetHttp, &target) {
            Ok(()) => self.windowed_http(tls, host, port, &target).await.map(|(basis, a)| {
                let by = match &basis {
                    Basis::Grant => "declared origin".to_string(),
                    Basis::Calls(c) => format!("bound by call {}", join(c)),
                };
                let why = format!("{by}; pinned to {}", join(&a));
                ((basis, a), why)
            }),
            Err(d) => Err(d),
        };
        let r = self.audited(r, Capability::NetHttp, &target).map(|(basis, a)| {
            Lease::note_current(basis);
            a
        });
        if r.is_ok() {
            self.0.audit.recorder().origin(tls, host, port);
        }
        r.inspect_err(|_| Lease::refused_current())
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(t: SystemTime) -> String {
        #[derive(Serialize)]
        struct T(#[serde(serialize_with = "rfc3339")] SystemTime);
        serde_json::to_string(&T(t)).unwrap()
    }

    /// Issue 9: a grant expiring past year 9999 panicked in the formatter.
    #[test]
    fn expiry_formatting_saturates() {
        let epoch = SystemTime::UNIX_EPOCH;
        assert_eq!(written(epoch + Duration::from_secs(86_400)), "\"1970-01-02T00:00:00.000Z\"");
        assert_eq!(written(epoch + LAST_RFC3339), "\"9999-12-31T23:59:59.999Z\"");
        assert_eq!(written(epoch + Duration::from_secs(10_000 * 31_557_600)), "\"9999-12-31T23:59:59.999Z\"");
        assert_eq!(written(epoch - Duration::from_secs(1)), "\"1970-01-01T00:00:00.000Z\"");
    }
}
