//! Egress decisions: may this invocation look up this name, connect to this address, bind
//! this port, send an HTTP request to this origin?
//!
//! Names are resolved by the runtime, at most once per invocation, and pinned: a tool only
//! ever reaches the addresses the runtime resolved for a declared name. Undeclared names are
//! refused before any resolver is asked, so DNS cannot be used as a side channel. `localhost`
//! and the names under `.localhost` are the loopback addresses, asked of no resolver.
//!
//! A refusal carries the flag that allows it ([`hint`]): the real host and port, a declared
//! name rather than its address where the tool reached the address through the name.

pub mod addr;
pub mod dns;
pub mod hint;
pub mod http;
pub mod quota;
pub mod resolve;

use crate::audit::Denial;
use crate::audit::{Auditor, Capability};
use crate::policy::endpoint::{self, Endpoint, HostPattern, LOCALHOST, Scheme, Transport};
use quota::{Held, Quota};
use resolve::Resolve;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The network part of a grant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetGrant {
    pub endpoints: Vec<Endpoint>,
    pub listen: Vec<Endpoint>,
    pub pins: BTreeMap<String, Vec<IpAddr>>,
}

impl NetGrant {
    /// Whether the name `name` (as a tool wrote it) is declared, exactly or under a `*.suffix`.
    pub fn declares_name(&self, name: &str) -> bool {
        endpoint::normalize_name(name).is_ok_and(|n| self.endpoints.iter().any(|e| e.host.matches_name(&n)))
    }

    /// The refusal of a connection (`t`) to `host:port` by a name that is not declared, before
    /// any look-up: with the port known, its hint names it (a look-up alone cannot). `None`
    /// when `host` is an address, is declared, or is no valid name (the look-up says why).
    pub fn undeclared_name(&self, host: &str, port: u16, t: Transport) -> Option<Denial> {
        let name = endpoint::normalize_name(host).ok()?;
        if host.parse::<IpAddr>().is_ok() || self.declares_name(&name) {
            return None;
        }
        let target = format!("{}://{name}:{port}", hint::scheme(t));
        Some(Denial::new(
            Capability::NetConnect,
            &target,
            "name not declared; no query was sent",
            hint::connect(&name, port, t),
        ))
    }

    /// Where a connection the tool dialled to `dialled` may go, in order: that address, and,
    /// when it is a loopback address `localhost` stands for and an endpoint names a localhost
    /// name for this port and transport, the other one too. (A client that looked `localhost`
    /// up dials `::1` first; a server on this host often listens on 127.0.0.1 only.)
    pub fn loopback_alternatives(&self, dialled: SocketAddr, t: Transport) -> Vec<SocketAddr> {
        let ip = dialled.ip().to_canonical();
        let named = self.endpoints.iter().any(|e| {
            matches!(&e.host, HostPattern::Name(n) if endpoint::is_localhost(n))
                && e.scheme.covers(t)
                && e.ports.contains(dialled.port())
        });
        if !named || !LOCALHOST.contains(&ip) {
            return vec![dialled];
        }
        let others = LOCALHOST.iter().filter(|a| **a != ip).map(|a| SocketAddr::new(*a, dialled.port()));
        std::iter::once(SocketAddr::new(ip, dialled.port())).chain(others).collect()
    }
}

/// A name's resolution failed, or only gave addresses the rebinding guard refuses.
#[derive(Debug, Clone)]
struct Unresolved {
    reason: String,
    /// What allows the name anyway (`--resolve NAME:ADDR` for a refused address).
    hint: Option<String>,
}

type Resolution = Arc<OnceCell<Result<Vec<IpAddr>, Unresolved>>>;

/// The live egress state of one invocation: its grant's network part plus the names it has
/// resolved so far.
#[derive(Debug)]
pub struct Egress {
    net: NetGrant,
    resolver: Arc<dyn Resolve>,
    resolved: Mutex<HashMap<String, Resolution>>,
    /// Look-ups waiting on the resolver ([`quota::MAX_PENDING_LOOKUPS`]).
    quota: Arc<Quota>,
}

impl Egress {
    pub fn new(net: NetGrant, resolver: Arc<dyn Resolve>) -> Self {
        Egress { net, resolver, resolved: Mutex::new(HashMap::new()), quota: Quota::new() }
    }

    pub fn grant(&self) -> &NetGrant {
        &self.net
    }

    fn covering(&self, t: Transport, port: u16) -> impl Iterator<Item = &Endpoint> {
        self.net.endpoints.iter().filter(move |e| e.scheme.covers(t) && e.ports.contains(port))
    }

    fn declared_name(&self, name: &str) -> bool {
        self.net.endpoints.iter().any(|e| e.host.matches_name(name))
    }

    fn named_literally(&self, ip: IpAddr) -> bool {
        self.net.endpoints.iter().any(|e| e.host.names_ip(ip))
    }

    /// A tool's name look-up. Only declared names (exact or under a declared `*.suffix`)
    /// are resolved; IP literals are returned as they are, without any query. A localhost name
    /// is the loopback addresses, declared or not (no query either; a native tool's
    /// `/etc/hosts` says the same): what may be reached there is the connection's question.
    pub async fn lookup(&self, name: &str, audit: &Auditor) -> Result<Vec<IpAddr>, Denial> {
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Ok(vec![ip.to_canonical()]);
        }
        let asked = name;
        let name = endpoint::normalize_name(name)
            .map_err(|_| Denial::new(Capability::NetDns, asked, "not a valid host name", None))?;
        if !self.declared_name(&name) && !endpoint::is_localhost(&name) {
            // The port the tool will use is not known yet: the hint names the most common one
            // (a connection that follows on another port is refused naming its own).
            let hint = hint::allow_net(&format!("{name}:443"));
            return Err(Denial::new(Capability::NetDns, asked, "name not declared; no query was sent", hint));
        }
        self.resolve_declared(&name, audit).await
    }

    /// Resolves a name already known to be declared (or a localhost name), once per invocation, dropping any
    /// address in a special range that no entry names literally (DNS-rebinding guard). A pin
    /// wins; localhost names are the loopback addresses without a query.
    async fn resolve_declared(&self, name: &str, audit: &Auditor) -> Result<Vec<IpAddr>, Denial> {
        if let Some(pinned) = self.net.pins.get(name) {
            audit.allow(Capability::NetDns, name, format!("pinned to {}", join(pinned)));
            return Ok(pinned.clone());
        }
        let refuse = |reason: String| Denial::new(Capability::NetDns, name, &reason, None);
        let cell = {
            let mut map = self.resolved.lock().map_err(|_| refuse("internal lock poisoned".into()))?;
            if !map.contains_key(name) && map.len() >= quota::MAX_NAMES {
                return Err(refuse(format!(
                    "at most {} distinct names (MAX_NAMES) are resolved per call; refused",
                    quota::MAX_NAMES
                )));
            }
            map.entry(name.to_string()).or_default().clone()
        };
        // A look-up that will ask the resolver holds a place among those in flight.
        let _pending = match cell.get() {
            Some(_) => None,
            None => Some(self.quota.acquire(Held::Lookup).map_err(|r| refuse(r.0))?),
        };
        let result = cell
            .get_or_init(|| async {
                if endpoint::is_localhost(name) {
                    audit.allow(
                        Capability::NetDns,
                        name,
                        format!("localhost: {} (no resolver asked)", join(&LOCALHOST)),
                    );
                    return Ok(LOCALHOST.to_vec());
                }
                let failed = |reason: String| Unresolved { reason, hint: None };
                let addrs = self.resolver.resolve(name).await.map_err(|e| failed(format!("resolution failed: {e}")))?;
                let (ok, refused): (Vec<IpAddr>, Vec<IpAddr>) = addrs
                    .into_iter()
                    .map(|a| a.to_canonical())
                    .partition(|a| addr::special_range(*a).is_none() || self.named_literally(*a));
                let pin = |a: &IpAddr| Some(format!("--resolve {name}:{}", hint::host_part(&a.to_string())));
                for a in &refused {
                    let why = addr::special_range(*a).unwrap_or("special range");
                    let reason = format!("resolved to {a}: {why}; refused as DNS rebinding");
                    audit.deny(&Denial::new(Capability::NetDns, name, &reason, pin(a)));
                }
                if ok.is_empty() {
                    return Err(match refused.first() {
                        None => failed("no addresses".into()),
                        Some(a) => Unresolved { reason: "only refused addresses".into(), hint: pin(a) },
                    });
                }
                audit.allow(Capability::NetDns, name, format!("resolved to {} and pinned", join(&ok)));
                Ok(ok)
            })
            .await;
        result.clone().map_err(|u| Denial::new(Capability::NetDns, name, &u.reason, u.hint))
    }

    /// Addresses already pinned for names matching `pattern` (resolving an exact name if needed).
    async fn pinned_for(&self, pattern: &HostPattern, audit: &Auditor) -> Vec<IpAddr> {
        match pattern {
            HostPattern::Name(n) => self.resolve_declared(n, audit).await.unwrap_or_default(),
            HostPattern::Suffix(_) => {
                let cells: Vec<(String, Resolution)> = self
                    .resolved
                    .lock()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let mut out: Vec<IpAddr> = cells
                    .into_iter()
                    .filter(|(n, _)| pattern.matches_name(n))
                    .filter_map(|(_, c)| c.get().and_then(|r| r.clone().ok()))
                    .flatten()
                    .collect();
                out.extend(self.net.pins.iter().filter(|(n, _)| pattern.matches_name(n)).flat_map(|(_, a)| a.clone()));
                out
            }
            _ => Vec::new(),
        }
    }

    /// Why an endpoint covering `t` allows `ip:port`, if one does: it names the address
    /// (among those `literal` accepts), or it is a name that was pinned to it (among those
    /// `by_name` accepts: an `http(s)://` origin is its name, not its address).
    async fn allowing(
        &self,
        ip: IpAddr,
        port: u16,
        t: Transport,
        (literal, by_name): (impl Fn(&Endpoint) -> bool, impl Fn(&Endpoint) -> bool),
        audit: &Auditor,
    ) -> Option<String> {
        if let Some(e) = self.covering(t, port).find(|e| e.host.names_ip(ip) && literal(e)) {
            return Some(format!("matches {e}"));
        }
        for e in self.covering(t, port).filter(|e| e.host.is_name() && by_name(e)) {
            if self.pinned_for(&e.host, audit).await.contains(&ip) {
                return Some(format!("pinned address of {e}"));
            }
        }
        None
    }

    /// A declared name this call resolved or pinned to `ip`: what a tool that dialled the
    /// address most likely looked up, and what the user declares.
    fn name_for(&self, ip: IpAddr) -> Option<String> {
        let pinned = self.net.pins.iter().filter(|(n, a)| a.contains(&ip) && self.declared_name(n)).map(|(n, _)| n);
        let resolved: Vec<String> = self
            .resolved
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|(_, c)| c.get().is_some_and(|r| r.as_ref().is_ok_and(|a| a.contains(&ip))))
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default();
        pinned.cloned().chain(resolved).min()
    }

    /// An outgoing TCP connection or UDP datagram to `addr`.
    pub async fn check_connect(&self, addr: SocketAddr, t: Transport, audit: &Auditor) -> Result<String, Denial> {
        let ip = addr.ip().to_canonical();
        let target = SocketAddr::new(ip, addr.port());
        if let Some(why) = self.allowing(ip, addr.port(), t, (|_: &Endpoint| true, |_: &Endpoint| true), audit).await {
            return Ok(why);
        }
        let host = self.name_for(ip).unwrap_or_else(|| ip.to_string());
        let hint = hint::connect(&host, addr.port(), t);
        Err(Denial::new(Capability::NetConnect, &format!("{}://{target}", hint::scheme(t)), "not declared", hint))
    }

    /// Binding a local address (`listen` = also listening for connections).
    pub fn check_bind(&self, addr: SocketAddr, t: Transport, listen: bool) -> Result<String, Denial> {
        let ip = addr.ip().to_canonical();
        let declared =
            self.net.listen.iter().any(|e| e.scheme.covers(t) && e.ports.contains(addr.port()) && e.host.names_ip(ip));
        if declared {
            return Ok("declared listener".into());
        }
        // A client socket needs an ephemeral local port; that is not a listener. A TCP
        // socket bound so cannot accept (listening is checked on its own); a UDP one could
        // receive datagrams, so it needs a declared UDP endpoint.
        if !listen && addr.port() == 0 {
            if t == Transport::Tcp {
                return Ok("ephemeral port for a client connection".into());
            }
            if self.net.endpoints.iter().any(|e| e.scheme.covers(t)) {
                return Ok("ephemeral port for a declared UDP endpoint".into());
            }
            return Err(Denial::new(
                Capability::NetBind,
                &format!("{}://{addr}", hint::scheme(t)),
                "no UDP endpoint is declared (declare where the tool sends: --allow-net udp://host:port)",
                None,
            ));
        }
        let scheme = if t == Transport::Udp { "udp://" } else { "" };
        Err(Denial::new(
            Capability::NetBind,
            &format!("{}://{addr}", hint::scheme(t)),
            if listen { "listening is not declared" } else { "binding is not declared" },
            Some(format!("--allow-listen {scheme}{addr}")),
        ))
    }

    /// An HTTP request to `scheme://host:port`: checked by scheme, host and port, then
    /// routed to the pinned addresses of the host (never to what a header says). Allowed by
    /// an `http(s)://` origin, or by an endpoint without a scheme or `tcp://` (the tool could
    /// dial it itself); an address by an origin naming it, or by such an endpoint whose name
    /// was pinned to it.
    pub async fn route_http(
        &self,
        tls: bool,
        host: &str,
        port: u16,
        audit: &Auditor,
    ) -> Result<Vec<SocketAddr>, Denial> {
        let t = Transport::Http { tls };
        let shown = hint::host_part(host);
        let origin = format!("{}://{shown}:{port}", hint::scheme(t));
        let hint = hint::connect(host, port, t);
        let deny = |reason: &str| Denial::new(Capability::NetHttp, &origin, reason, hint.clone());
        // What the tool could dial itself (an origin is its name, not its address).
        let connectable = |e: &Endpoint| matches!(e.scheme, Scheme::Any | Scheme::Tcp);
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return match self.allowing(ip, port, t, (|_: &Endpoint| true, connectable), audit).await {
                Some(_) => Ok(vec![SocketAddr::new(ip, port)]),
                None => Err(deny("origin not declared")),
            };
        }
        let name = endpoint::normalize_name(host).map_err(|_| deny("not a valid host name"))?;
        if !self.covering(t, port).any(|e| e.host.matches_name(&name)) {
            // `localhost` is the loopback addresses: an endpoint the tool could dial at one of
            // them allows the request there, as it allows the connection.
            if endpoint::is_localhost(&name) && !self.net.pins.contains_key(&name) {
                let mut to = Vec::new();
                for ip in LOCALHOST {
                    if self.allowing(ip, port, t, (connectable, connectable), audit).await.is_some() {
                        to.push(SocketAddr::new(ip, port));
                    }
                }
                if !to.is_empty() {
                    return Ok(to);
                }
            }
            return Err(deny("origin not declared"));
        }
        // Declared: what is left to allow is the name's resolution (its own hint, never the
        // flag already given).
        let addrs = self
            .resolve_declared(&name, audit)
            .await
            .map_err(|d| Denial::new(Capability::NetHttp, &origin, &d.reason, d.hint))?;
        Ok(addrs.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }
}

fn join(addrs: &[IpAddr]) -> String {
    addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
