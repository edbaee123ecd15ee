//! `hog fields COUNT KIB | hog handles COUNT | hog sockets COUNT | hog connect IP:PORT COUNT |
//! hog requests IP:PORT COUNT | hog udp IP:PORT` (each optionally followed by `--hold`)
//!
//! HOSTILE TEST FIXTURE: makes the host hold resources on its behalf, outside its own linear
//! memory, and keeps everything alive until it is done:
//!
//! * `fields`: COUNT `wasi:http` header-field collections of KIB KiB each (one header);
//! * `handles`: COUNT empty field collections (resource-table entries);
//! * `sockets`: COUNT `wasi:sockets` TCP sockets, created and never connected (no grant needed
//!   to create one);
//! * `connect`: COUNT TCP connections to IP:PORT, each sending `hog <n>\n`, all held open;
//! * `requests`: COUNT `wasi:http` GET requests to `http://IP:PORT/hog/<n>`, all handed to the
//!   host at once and their responses never read (each is a host connection until then);
//! * `udp`: one datagram `hog:udp` to IP:PORT.
//!
//! Prints `<what>: <n>` (how many it made) and, if the host refused one, `<what>: refused
//! after <n>: <error>`. With `--hold` it then keeps everything until its stdin ends (so that a
//! test can look at the host meanwhile). Exit 0 if it made all it was asked for, 1 if the host
//! refused one, 2 on bad usage.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::ExitCode;

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, OutgoingRequest, Scheme};
use wasi::sockets::network::IpAddressFamily;
use wasi::sockets::tcp_create_socket::create_tcp_socket;

const USAGE: &str = "usage: hog fields COUNT KIB | hog handles COUNT | hog sockets COUNT | hog connect IP:PORT COUNT \
                     | hog requests IP:PORT COUNT | hog udp IP:PORT  (then optionally --hold)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hold = args.last() == Some(&"--hold");
    if hold {
        args.pop();
    }
    let result = match args.as_slice() {
        ["fields", count, kib] => number(count).and_then(|n| Ok((n, number(kib)?))).map(|(n, k)| fields(n, k, hold)),
        ["handles", count] => number(count).map(|n| fields(n, 0, hold)),
        ["sockets", count] => number(count).map(|n| sockets(n, hold)),
        ["connect", addr, count] => {
            address(addr).and_then(|a| Ok((a, number(count)?))).map(|(a, n)| connect(a, n, hold))
        }
        ["requests", addr, count] => {
            address(addr).and_then(|a| Ok((a, number(count)?))).map(|(a, n)| requests(a, n, hold))
        }
        ["udp", addr] => address(addr).map(udp),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hog: {e}");
            ExitCode::from(2)
        }
    }
}

fn number(s: &str) -> Result<usize, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}\n{USAGE}"))
}

fn address(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| format!("not IP:PORT: {s:?}\n{USAGE}"))
}

/// Reports how far it got (then, with `hold`, waits for the end of stdin while the caller
/// still holds everything); returns whether it got everywhere.
fn report(what: &str, made: usize, count: usize, refused: Option<String>, hold: bool) -> bool {
    println!("{what}: {made}");
    if let Some(e) = refused {
        println!("{what}: refused after {made}: {e}");
    }
    let _ = std::io::stdout().flush();
    if hold {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }
    made == count
}

fn fields(count: usize, kib: usize, hold: bool) -> bool {
    let value = vec![b'h'; kib * 1024];
    let mut held = Vec::with_capacity(count);
    let mut refused = None;
    for _ in 0..count {
        let made =
            if kib == 0 { Ok(Fields::new()) } else { Fields::from_list(&[("x-hog".to_string(), value.clone())]) };
        match made {
            Ok(f) => held.push(f),
            Err(e) => {
                refused = Some(format!("{e:?}"));
                break;
            }
        }
    }
    report(if kib == 0 { "handles" } else { "fields" }, held.len(), count, refused, hold)
}

fn sockets(count: usize, hold: bool) -> bool {
    let mut held = Vec::with_capacity(count);
    let mut refused = None;
    for _ in 0..count {
        match create_tcp_socket(IpAddressFamily::Ipv4) {
            Ok(s) => held.push(s),
            Err(e) => {
                refused = Some(format!("{e:?}"));
                break;
            }
        }
    }
    report("sockets", held.len(), count, refused, hold)
}

fn connect(addr: SocketAddr, count: usize, hold: bool) -> bool {
    let mut held = Vec::with_capacity(count);
    let mut refused = None;
    for n in 0..count {
        match TcpStream::connect(addr).and_then(|mut s| s.write_all(format!("hog {n}\n").as_bytes()).map(|()| s)) {
            Ok(s) => held.push(s),
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    report("connections", held.len(), count, refused, hold)
}

fn requests(addr: SocketAddr, count: usize, hold: bool) -> bool {
    let mut held = Vec::with_capacity(count);
    let mut refused = None;
    for n in 0..count {
        let req = OutgoingRequest::new(Fields::new());
        let set = req
            .set_scheme(Some(&Scheme::Http))
            .and_then(|()| req.set_authority(Some(&addr.to_string())))
            .and_then(|()| req.set_path_with_query(Some(&format!("/hog/{n}"))));
        if set.is_err() {
            return report("requests", 0, count, Some("invalid request".into()), hold);
        }
        match outgoing_handler::handle(req, None) {
            Ok(future) => held.push(future),
            Err(e) => {
                refused = Some(format!("{e:?}"));
                break;
            }
        }
    }
    report("requests", held.len(), count, refused, hold)
}

fn udp(addr: SocketAddr) -> bool {
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let sent = UdpSocket::bind(local).and_then(|s| s.send_to(b"hog:udp", addr));
    match sent {
        Ok(_) => report("udp", 1, 1, None, false),
        Err(e) => report("udp", 0, 1, Some(e.to_string()), false),
    }
}
