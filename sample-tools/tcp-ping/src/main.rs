//! `tcp-ping HOST:PORT [MESSAGE]`: a sample TCP client. Resolves HOST via
//! `wasi:sockets/ip-name-lookup` (names only; IPv4 and `[IPv6]` literals are
//! used as-is), connects, sends MESSAGE (default `ping`) plus a newline, reads
//! until the first newline or EOF, and prints `reply: <line>`.
//! Failures print `tcp-ping: lookup|connect|io: ...` to stderr and exit 1.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (target, message) = match args.as_slice() {
        [target] => (target, "ping"),
        [target, message] => (target, message.as_str()),
        _ => {
            eprintln!("usage: tcp-ping HOST:PORT [MESSAGE]");
            return ExitCode::FAILURE;
        }
    };
    let (host, port) = match guest_net::split_host_port(target) {
        Ok(hp) => hp,
        Err(e) => {
            eprintln!("usage: tcp-ping HOST:PORT [MESSAGE] ({e})");
            return ExitCode::FAILURE;
        }
    };
    let addrs = match guest_net::resolve(host, port) {
        Ok(addrs) => addrs,
        Err(e) => {
            eprintln!("tcp-ping: lookup {host}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stream = match guest_net::connect_any(&addrs) {
        Ok(stream) => stream,
        Err(errors) => {
            for (addr, e) in errors {
                eprintln!("tcp-ping: connect {addr}: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    match ping(stream, message) {
        Ok(reply) => {
            println!("reply: {reply}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcp-ping: io: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `message` and a newline, then returns the first line of the reply.
fn ping(mut stream: TcpStream, message: &str) -> std::io::Result<String> {
    stream.write_all(format!("{message}\n").as_bytes())?;
    stream.flush()?;
    // Half-close so that peers which answer at EOF see the end of the request.
    let _ = stream.shutdown(Shutdown::Write);
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while !reply.contains(&b'\n') {
        match stream.read(&mut buf)? {
            0 => break,
            n => reply.extend_from_slice(&buf[..n]),
        }
    }
    let line = reply.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(line).trim_end_matches('\r').to_string())
}
