//! What the host holds on a WebAssembly tool's behalf, counted against its `--memory`.
//!
//! The store's limiter sees linear memory only, while a guest can make the host hold memory for
//! it: `wasi:http` header fields (up to 128 KiB each, as many as it likes), buffered outgoing
//! bodies, and resource-table entries themselves. So:
//!
//! * the resource table holds at most [`MAX_RESOURCES`] entries;
//! * every [`COUNT_EVERY`] host calls (a call hook), the table is walked and what it holds is
//!   charged: [`RESOURCE_COST`] per entry, the bytes of every distinct header map, and
//!   [`OUTGOING_BODY_COST`] per outgoing body that can still buffer;
//! * linear memory plus that must stay within `--memory`; beyond it the call ends as a memory
//!   limit (exit 137, a `limit` record), as for linear memory.
//!
//! Between two counts a guest can add at most [`COUNT_EVERY`] host calls' worth (each call adds
//! at most one header map of 128 KiB or one body chunk of [`OUTGOING_BODY_CHUNK`]), about
//! 4 MiB. What is bounded elsewhere is not counted here: captured stdout and stderr (the output
//! limit), response bodies in flight (hyper's buffers, per request; requests in flight are
//! bounded by `egress::quota::MAX_HTTP_REQUESTS`), socket buffers (kernel memory, sockets bounded
//! by `egress::quota::MAX_WASM_SOCKETS`).

use http::HeaderMap;
use std::any::Any;
use std::collections::HashSet;
use wasmtime::component::ResourceTable;
use wasmtime_wasi_http::FieldMap;
use wasmtime_wasi_http::p2::body::HostOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostIncomingResponse, HostOutgoingRequest, HostOutgoingResponse};

/// Resource-table entries (files, streams, pollables, sockets, HTTP objects) one WebAssembly
/// call may hold at once. wasmtime's default is a million; real tools hold tens. Beyond it, the
/// call ends as a memory limit.
pub const MAX_RESOURCES: usize = 16_384;
/// What each resource-table entry is charged against `--memory` on top of its contents (the
/// entry, its box, a small host object): 16,384 entries cost 4 MiB.
pub const RESOURCE_COST: u64 = 256;
/// Host calls between two counts of what the host holds.
pub const COUNT_EVERY: u64 = 32;
/// The most one write to an outgoing HTTP body may buffer (wasmtime's default is 1 MiB).
pub const OUTGOING_BODY_CHUNK: usize = 64 * 1024;
/// What an outgoing body that can still buffer is charged: its channel holds two chunks.
pub const OUTGOING_BODY_COST: u64 = 2 * OUTGOING_BODY_CHUNK as u64;
/// Charged per header (name and value) on top of their bytes: the map's entry and indices.
const HEADER_COST: u64 = 64;

/// Bytes the host holds for the guest through `table`.
pub(crate) fn held(table: &mut ResourceTable) -> u64 {
    let mut maps = HashSet::new();
    let mut total = 0u64;
    for entry in table.iter_mut() {
        let e: &dyn Any = entry;
        total += RESOURCE_COST;
        if let Some(f) = e.downcast_ref::<FieldMap>() {
            total += fields(f, &mut maps);
        } else if let Some(r) = e.downcast_ref::<HostOutgoingRequest>() {
            total += fields(&r.headers, &mut maps) + if r.body.is_some() { OUTGOING_BODY_COST } else { 0 };
        } else if let Some(r) = e.downcast_ref::<HostOutgoingResponse>() {
            total += fields(&r.headers, &mut maps) + if r.body.is_some() { OUTGOING_BODY_COST } else { 0 };
        } else if let Some(r) = e.downcast_ref::<HostIncomingResponse>() {
            total += fields(&r.headers, &mut maps);
        } else if e.is::<HostOutgoingBody>() {
            total += OUTGOING_BODY_COST;
        }
    }
    total
}

/// The bytes of a header map, once per map (clones share theirs until changed).
fn fields(f: &FieldMap, seen: &mut HashSet<usize>) -> u64 {
    let map: &HeaderMap = f;
    if !seen.insert(std::ptr::from_ref(map) as usize) {
        return 0;
    }
    map.iter().map(|(name, value)| (name.as_str().len() + value.len()) as u64 + HEADER_COST).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_maps_are_charged_once_and_entries_each() {
        let mut table = ResourceTable::new();
        let mut f = FieldMap::new_mutable(1 << 20);
        f.append(wasmtime_wasi_http::default_hooks(), "x-big".into(), vec![b'a'; 100_000]).unwrap();
        let clone = f.clone();
        table.push(f).unwrap();
        table.push(clone).unwrap();
        table.push(7u32).unwrap();
        let got = held(&mut table);
        assert_eq!(got, 3 * RESOURCE_COST + 5 + 100_000 + HEADER_COST, "the shared map counts once");
    }
}
