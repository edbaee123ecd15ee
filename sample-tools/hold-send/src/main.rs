//! `hold-send IP:PORT`: a sample TCP client that holds its connection. It connects, sends
//! `first`, waits for a line from the peer, then tries to send `second` and prints what became of
//! it (`second: sent`, or `second: <error>`). The tests of just-in-time windows close the window
//! while it waits: its second send must not get out.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(target) = std::env::args().nth(1) else {
        eprintln!("usage: hold-send IP:PORT");
        return ExitCode::FAILURE;
    };
    let stream = match TcpStream::connect(target.as_str()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hold-send: connect {target}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = (&stream).write_all(b"first\n") {
        eprintln!("hold-send: first: {e}");
        return ExitCode::FAILURE;
    }
    let mut line = String::new();
    let read = BufReader::new(&stream).read_line(&mut line);
    println!("peer: {}", read.map_or_else(|e| e.to_string(), |_| line.trim().to_string()));
    match (&stream).write_all(b"second\n").and_then(|()| (&stream).flush()) {
        Ok(()) => println!("second: sent"),
        Err(e) => println!("second: {e}"),
    }
    ExitCode::SUCCESS
}
