//! `wasi:sockets/ip-name-lookup`, answered by the grant.
//!
//! wasmtime's own implementation can only allow every look-up or none. This one replaces it
//! in the linker: a declared name gets the addresses the grant resolved and pinned for it;
//! any other name fails inside the tool and no query for it leaves the runtime.

use super::state::StoreState;
use std::net::IpAddr;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress};
use wasmtime_wasi::p2::{DynPollable, Network, Pollable};

/// The interface version wasmtime-wasi links; guests importing any 0.2.x resolve to it.
const INTERFACE: &str = "wasi:sockets/ip-name-lookup@0.2.12";

/// A finished look-up: the pinned addresses still to be handed out.
pub(crate) struct PinnedAddresses(std::vec::IntoIter<IpAddr>);

#[wasmtime_wasi::async_trait]
impl Pollable for PinnedAddresses {
    async fn ready(&mut self) {}
}

type LookupResult = Result<Resource<PinnedAddresses>, ErrorCode>;

pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance(INTERFACE)?;
    inst.resource("resolve-address-stream", ResourceType::host::<PinnedAddresses>(), |mut store, rep| {
        store.data_mut().table.delete(Resource::<PinnedAddresses>::new_own(rep))?;
        Ok(())
    })?;
    inst.func_wrap_async("resolve-addresses", |mut store, (network, name): (Resource<Network>, String)| {
        Box::new(async move {
            // The network handle is the capability to ask at all.
            if store.data_mut().table.get(&network).is_err() {
                return Ok((LookupResult::Err(ErrorCode::InvalidArgument),));
            }
            let grant = store.data().grant.clone();
            let found = match grant.lookup(&name).await {
                Ok(addrs) => addrs,
                Err(_) => return Ok((LookupResult::Err(ErrorCode::PermanentResolverFailure),)),
            };
            let stream = store.data_mut().table.push(PinnedAddresses(found.into_iter()))?;
            Ok((LookupResult::Ok(stream),))
        })
    })?;
    inst.func_wrap(
        "[method]resolve-address-stream.resolve-next-address",
        |mut store, (this,): (Resource<PinnedAddresses>,)| {
            let stream = store.data_mut().table.get_mut(&this)?;
            let next: Result<Option<IpAddress>, ErrorCode> = Ok(stream.0.next().map(Into::into));
            Ok((next,))
        },
    )?;
    inst.func_wrap("[method]resolve-address-stream.subscribe", |mut store, (this,): (Resource<PinnedAddresses>,)| {
        let pollable: Resource<DynPollable> = wasmtime_wasi::p2::subscribe(&mut store.data_mut().table, this)?;
        Ok((pollable,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
