//! The grant broker: turns a tool's declared policy into a fresh grant for one invocation.
//!
//! Extension points kept open on purpose: a [`GrantRequest`] will carry capabilities derived
//! from a call's arguments (narrowed to the declared roots) and a time-to-live shorter than
//! the run; a [`Grant`] serializes for signing and hand-off to another process; a
//! [`RevocationHandle`](super::RevocationHandle) revokes from outside. A request with a
//! [`WindowSpec`] gets a grant whose network is open only while calls are in flight.

use super::window::{Window, WindowSpec};
use super::{EnvVar, Grant, GrantId, Inner, LiveGrant, ToolDigest};
use crate::audit::{AuditSink, Auditor, EventKind};
use crate::egress::resolve::{Resolve, SystemResolver};
use crate::egress::{Egress, NetGrant};
use crate::policy::{EnvRule, Policy};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// What one invocation asks for.
#[derive(Debug, Clone)]
pub struct GrantRequest<'a> {
    pub tool: ToolDigest,
    pub policy: &'a Policy,
    /// How long the grant is valid; defaults to the policy's timeout, and is never longer.
    pub ttl: Option<Duration>,
    /// Just-in-time egress: the network open only while calls are in flight (`proxy`).
    pub window: Option<WindowSpec>,
}

/// Issues grants. One broker serves many invocations; it holds no grant itself.
#[derive(Debug, Clone)]
pub struct GrantBroker {
    resolver: Arc<dyn Resolve>,
    audit: Arc<dyn AuditSink>,
    host_env: fn(&str) -> Option<String>,
}

impl GrantBroker {
    /// A broker using the host's resolver and environment.
    pub fn new(audit: Arc<dyn AuditSink>) -> Self {
        GrantBroker { resolver: Arc::new(SystemResolver), audit, host_env: |n| std::env::var(n).ok() }
    }

    /// Resolves declared names with `resolver` instead of the host's.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    pub fn audit_sink(&self) -> &Arc<dyn AuditSink> {
        &self.audit
    }

    /// Issues a fresh grant, never reused: a new random id every time.
    pub fn issue(&self, req: GrantRequest<'_>) -> LiveGrant {
        let p = req.policy;
        let ttl = req.ttl.map_or(p.limits.timeout, |t| t.min(p.limits.timeout));
        let issued_at = SystemTime::now();
        let env = p
            .env
            .iter()
            .filter_map(|r| match r {
                EnvRule::Set(n, v) => Some(EnvVar { name: n.clone(), value: v.clone() }),
                EnvRule::Pass(n) => (self.host_env)(n).map(|v| EnvVar { name: n.clone(), value: v }),
            })
            .collect();
        let grant = Grant {
            id: GrantId::random(),
            tool: req.tool,
            paths: p.paths.clone(),
            env,
            net: NetGrant { endpoints: p.endpoints.clone(), listen: p.listen.clone(), pins: p.pins.clone() },
            limits: p.limits,
            issued_at,
            expires_at: issued_at + ttl,
            window: req.window,
        };
        let audit = Auditor::new(self.audit.clone(), grant.id.to_string(), grant.tool.to_string());
        if audit.enabled() {
            let mut detail = serde_json::json!({
                "paths": grant.paths,
                "env": grant.env,
                "net": grant.net,
                "limits": grant.limits,
                "issued_at": humantime::format_rfc3339_millis(grant.issued_at).to_string(),
                "expires_at": humantime::format_rfc3339_millis(grant.expires_at).to_string(),
            });
            if let Some(w) = &grant.window {
                detail["window"] = serde_json::json!(w);
            }
            audit.emit(EventKind::GrantIssued, None, None, None, Some(detail));
        }
        let (revoked_tx, _) = watch::channel(false);
        let egress = Egress::new(grant.net.clone(), self.resolver.clone());
        let window = grant
            .window
            .clone()
            .map(|spec| Arc::new(Window::new(spec, &grant.net, self.resolver.clone(), audit.clone())));
        LiveGrant(Arc::new(Inner { grant, revoked: AtomicBool::new(false), revoked_tx, audit, egress, window }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::MemorySink;
    use crate::policy::endpoint::Transport;

    #[tokio::test]
    async fn grants_are_fresh_and_die_on_revocation() {
        let sink = Arc::new(MemorySink::default());
        let broker = GrantBroker::new(sink.clone());
        let policy = Policy::builder().allow_net("10.0.0.5:443").unwrap().allow_env("SECRET=hunter2").unwrap().build();
        let req = || GrantRequest { tool: ToolDigest::of(b"tool"), policy: &policy, ttl: None, window: None };
        let (a, b) = (broker.issue(req()), broker.issue(req()));
        assert_ne!(a.id(), b.id(), "never reused");
        let addr = "10.0.0.5:443".parse().unwrap();
        assert!(a.check_connect(addr, Transport::Tcp).await.is_ok());
        a.revoke("exit");
        a.revoke("again");
        let d = a.check_connect(addr, Transport::Tcp).await.unwrap_err();
        assert_eq!(d.reason, "grant revoked");
        assert!(b.check_connect(addr, Transport::Tcp).await.is_ok(), "revoking one grant leaves others");
        let log = serde_json::to_string(&sink.events()).unwrap();
        assert!(!log.contains("hunter2"), "env values never reach the audit log");
        let kinds: Vec<_> = sink.take(&a.id().to_string()).iter().map(|e| e.event).collect();
        assert_eq!(kinds, [EventKind::GrantIssued, EventKind::Allow, EventKind::GrantRevoked, EventKind::Deny]);
    }

    #[tokio::test]
    async fn expiry_shorter_than_the_run_is_enforced() {
        let broker = GrantBroker::new(Arc::new(MemorySink::default()));
        let policy = Policy::builder().allow_net("10.0.0.5:443").unwrap().build();
        let g = broker.issue(GrantRequest {
            tool: ToolDigest::of(b"t"),
            policy: &policy,
            ttl: Some(Duration::from_millis(1)),
            window: None,
        });
        std::thread::sleep(Duration::from_millis(5));
        let d = g.check_connect("10.0.0.5:443".parse().unwrap(), Transport::Tcp).await.unwrap_err();
        assert_eq!(d.reason, "grant expired");
    }
}
