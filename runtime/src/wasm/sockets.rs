//! `wasi:sockets` socket creation, bounded. wasmtime-wasi checks addresses (our
//! `socket_addr_check`), never the creation of a socket, and each socket is a host descriptor:
//! a component with no grant at all could open sockets until the server has no descriptor
//! left. These replace, in the linker, the three functions that make a socket
//! (`create-tcp-socket`, `create-udp-socket`, and `accept`): each counts the sockets the call
//! holds (its resource table is the truth) and refuses one beyond [`MAX_WASM_SOCKETS`], or
//! beyond the process's descriptor budget, with `new-socket-limit` and a `limit` record;
//! otherwise it calls wasmtime-wasi's own implementation.
//!
//! Under a just-in-time window (a proxied component, [`crate::grant::window`]) `start-connect`
//! is replaced too: each TCP connection takes a [`Lease`](crate::grant::Lease) before its check,
//! and once the window it was opened in has closed, the connection is shut down (both ways)
//! when the guest next returns from a host call, so before it can send anything more on it.

use super::state::StoreState;
use crate::audit::Capability;
use crate::egress::quota::{Held, MAX_WASM_SOCKETS};
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, Network};
use wasmtime_wasi::p2::bindings::sockets::tcp::ShutdownType;
use wasmtime_wasi::p2::bindings::sockets::{tcp, tcp_create_socket, udp_create_socket};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, SocketResult, TcpSocket, UdpSocket};
use wasmtime_wasi::sockets::WasiSocketsView;

const VERSION: &str = "0.2.12";

type Accepted = (Resource<TcpSocket>, Resource<DynInputStream>, Resource<DynOutputStream>);

/// Sockets in `table`.
fn live_sockets(table: &mut ResourceTable) -> usize {
    table.iter_mut().filter(|e| e.is::<TcpSocket>() || e.is::<UdpSocket>()).count()
}

impl StoreState {
    /// Shuts down the TCP connections whose lease is over (the window they were opened in
    /// closed): checked after each host call once a call started or ended.
    pub(crate) fn cut_closed_connections(&mut self) {
        let generation = self.grant.window_generation();
        if self.tcp_leases.is_empty() || generation == self.seen_generation {
            return;
        }
        self.seen_generation = generation;
        let over: Vec<u32> = self.tcp_leases.iter().filter(|(_, l)| l.is_over()).map(|(rep, _)| *rep).collect();
        for rep in over {
            self.tcp_leases.remove(&rep);
            // The socket may be gone (a later one reusing its slot has a lease of its own, and is
            // replaced in the map when it connects): shutting down what is not connected fails.
            let _ = tcp::HostTcpSocket::shutdown(&mut self.sockets(), Resource::new_borrow(rep), ShutdownType::Both);
        }
    }

    /// Whether one more socket may be made; a refusal is audited.
    fn admit_socket(&mut self, what: &str) -> Result<(), ErrorCode> {
        // Places held for sockets the guest has dropped since are given back first.
        let live = live_sockets(&mut self.table);
        self.socket_permits.truncate(live);
        if live >= MAX_WASM_SOCKETS {
            self.grant.audit().limit(
                Capability::Resources,
                what,
                format!("at most {MAX_WASM_SOCKETS} wasi:sockets sockets (MAX_WASM_SOCKETS) per call; refused"),
            );
            return Err(ErrorCode::NewSocketLimit);
        }
        match self.quota.acquire_or_audit(Held::WasmSocket, what, self.grant.audit()) {
            Some(p) => {
                self.socket_permits.push(p);
                Ok(())
            }
            None => Err(ErrorCode::NewSocketLimit),
        }
    }
}

/// A wasmtime-wasi result as the guest sees it: its error code, or a trap.
fn guest<T>(r: SocketResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance(&format!("wasi:sockets/tcp-create-socket@{VERSION}"))?;
    inst.func_wrap("create-tcp-socket", |mut store, (family,): (IpAddressFamily,)| {
        let state = store.data_mut();
        if let Err(e) = state.admit_socket("wasi:sockets tcp socket") {
            return Ok((Err(e),));
        }
        let r = tcp_create_socket::Host::create_tcp_socket(&mut state.sockets(), family);
        Ok((guest(r)?,))
    })?;
    let mut inst = linker.instance(&format!("wasi:sockets/udp-create-socket@{VERSION}"))?;
    inst.func_wrap_async("create-udp-socket", |mut store, (family,): (IpAddressFamily,)| {
        Box::new(async move {
            let state = store.data_mut();
            if let Err(e) = state.admit_socket("wasi:sockets udp socket") {
                return Ok((Err(e),));
            }
            let r = udp_create_socket::Host::create_udp_socket(&mut state.sockets(), family).await;
            Ok((guest(r)?,))
        })
    })?;
    let mut inst = linker.instance(&format!("wasi:sockets/tcp@{VERSION}"))?;
    inst.func_wrap(
        "[method]tcp-socket.start-connect",
        |mut store, (this, network, to): (Resource<TcpSocket>, Resource<Network>, IpSocketAddress)| {
            let state = store.data_mut();
            let rep = this.rep();
            // Taken before the check (which runs as the connection is made).
            let lease = state.grant.has_window().then(|| state.grant.lease());
            let r = tcp::HostTcpSocket::start_connect(&mut state.sockets(), this, network, to);
            if let (Ok(()), Some(lease)) = (&r, lease) {
                state.tcp_leases.insert(rep, lease);
            }
            Ok((guest(r)?,))
        },
    )?;
    inst.func_wrap("[method]tcp-socket.accept", |mut store, (this,): (Resource<TcpSocket>,)| {
        let state = store.data_mut();
        if let Err(e) = state.admit_socket("wasi:sockets accepted connection") {
            return Ok((Err(e),));
        }
        let r: SocketResult<Accepted> = tcp::HostTcpSocket::accept(&mut state.sockets(), this);
        Ok((guest(r)?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
