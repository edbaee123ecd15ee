//! What a store holds for one invocation: the WASI context built from the grant, the HTTP
//! hooks that check every request against it, and the memory limiter.

use super::http::GrantHttpHooks;
use crate::audit::Capability;
use crate::grant::LiveGrant;
use crate::policy::units::format_size;
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

/// Caps the total linear memory of the store (across all memories) and table sizes.
pub(crate) struct Limiter {
    pub max_memory: u64,
    pub used: u64,
    pub grant: LiveGrant,
}

/// Table elements one store may hold: generous for real programs, bounded for bombs.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let after = self.used.saturating_add(desired.saturating_sub(current) as u64);
        if after > self.max_memory {
            let err = MemoryLimitExceeded { limit: format_size(self.max_memory), asked: format_size(after) };
            self.grant.audit().limit(Capability::Memory, format_size(after), err.to_string());
            return Err(err.into());
        }
        self.used = after;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
