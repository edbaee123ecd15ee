//! What a store holds for one invocation: the WASI context built from the grant, the HTTP
//! hooks that check every request against it, the memory limiter (linear memory plus what the
//! host holds for the guest, see [`super::host_memory`]) and the call's resource quota.

use super::host_memory;
use super::http::GrantHttpHooks;
use crate::audit::Capability;
use crate::egress::quota::{Permit, Quota};
use crate::grant::LiveGrant;
use crate::policy::units::format_size;
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub(crate) struct StoreState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub http: WasiHttpCtx,
    pub hooks: GrantHttpHooks,
    pub limiter: Limiter,
    pub grant: LiveGrant,
    /// What the call holds in the supervisor (sockets, HTTP requests).
    pub quota: Arc<Quota>,
    /// A place in the quota per socket the guest made (reconciled with the table when it
    /// makes the next one).
    pub socket_permits: Vec<Permit>,
    /// Host calls so far (what the host holds is counted every few).
    pub host_calls: u64,
    /// When the call is observed (`Call::observe`): the path of each directory descriptor the
    /// guest holds, by resource, so that what it opens is recorded by path ([`super::observe`]).
    pub observed_dirs: Option<std::collections::HashMap<u32, String>>,
    /// TCP connections made under a just-in-time window, by resource, with their lease.
    pub tcp_leases: std::collections::HashMap<u32, crate::grant::Lease>,
    /// The window generation `tcp_leases` were last checked at.
    pub seen_generation: u64,
}

impl StoreState {
    /// After a host call: every [`host_memory::COUNT_EVERY`] calls, counts what the host
    /// holds for the guest and charges it against the memory limit.
    pub(crate) fn after_host_call(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        self.cut_closed_connections();
        if !self.host_calls.is_multiple_of(host_memory::COUNT_EVERY) {
            return Ok(());
        }
        let held = host_memory::held(&mut self.table);
        self.limiter.charge_host(held)
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// The error a limiter raises; found again by downcasting to map onto exit 137.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} exceeded (asked for {asked})")]
pub(crate) struct MemoryLimitExceeded {
    pub limit: String,
    pub asked: String,
}

/// Caps the total linear memory of the store (across all memories) plus what the host holds
/// for it, and table sizes.
pub(crate) struct Limiter {
    pub max_memory: u64,
    /// Linear memory.
    pub used: u64,
    /// What the host held for the guest at the last count.
    pub host: u64,
    /// The high-water mark of linear memory plus what the host held (at its counts): the
    /// call's memory peak, for behaviour profiles.
    pub peak: u64,
    pub grant: LiveGrant,
}

impl Limiter {
    fn exceeded(&self, after: u64) -> MemoryLimitExceeded {
        let err = MemoryLimitExceeded { limit: format_size(self.max_memory), asked: format_size(after) };
        let why = if self.host > 0 {
            format!(
                "{err}: {} linear memory, {} held by the host for the tool",
                format_size(self.used),
                format_size(self.host)
            )
        } else {
            err.to_string()
        };
        self.grant.audit().limit(Capability::Memory, format_size(after), why);
        err
    }

    /// Charges what the host holds for the guest (replacing the last count).
    pub(crate) fn charge_host(&mut self, held: u64) -> wasmtime::Result<()> {
        self.host = held;
        let total = self.used.saturating_add(held);
        self.peak = self.peak.max(total);
        if total > self.max_memory {
            return Err(self.exceeded(total).into());
        }
        Ok(())
    }
}

/// Table elements one store may hold: generous for real programs, bounded for bombs.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let after = self.used.saturating_add(desired.saturating_sub(current) as u64);
        let total = after.saturating_add(self.host);
        if total > self.max_memory {
            return Err(self.exceeded(total).into());
        }
        self.used = after;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
