//! Native sandbox benchmarks (`cargo bench --bench native`), interleaved so that machine noise
//! hits every variant alike; prints a markdown table for the README.
//!
//! 1. start-up: bare `/bin/true`, `bwrap --unshare-all … /bin/true`, `mcp-sandbox run
//!    /bin/true` (all layers), and the same with the egress broker ready (DNS stub, relay, proxy);
//! 2. the broker's relay: connect+round-trip latency and bulk throughput through a relay,
//!    against a direct loopback connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn time(cmd: &[&str]) -> Duration {
    let t = Instant::now();
    let st = Command::new(cmd[0]).args(&cmd[1..]).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    let took = t.elapsed();
    assert!(st.success(), "{cmd:?} failed");
    took
}

/// An echo server for latency, and a sink that times bulk transfers (first to last byte).
/// Bytes received and first-to-last-byte time, per bulk connection.
type Transfers = Arc<Mutex<Vec<(usize, Duration)>>>;

fn servers() -> (u16, u16, Transfers) {
    let echo = TcpListener::bind("127.0.0.1:0").unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in echo.incoming().flatten() {
            std::thread::spawn(move || {
                let mut c = c;
                let mut b = [0u8; 64];
                while let Ok(n) = c.read(&mut b) {
                    if n == 0 || c.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let sink = TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_port = sink.local_addr().unwrap().port();
    let results = Arc::new(Mutex::new(Vec::new()));
    let r = results.clone();
    std::thread::spawn(move || {
        for c in sink.incoming().flatten() {
            let mut c = c;
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0;
            let mut first = None;
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 {
                    break;
                }
                first.get_or_insert_with(Instant::now);
                total += n;
            }
            if let Some(f) = first {
                r.lock().unwrap().push((total, f.elapsed()));
            }
        }
    });
    (echo_port, sink_port, results)
}

const LATENCY: &str = "import socket, sys, time
port = int(sys.argv[1]); samples = []
for _ in range(300):
    t = time.perf_counter()
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'x'); s.recv(1); s.close()
    samples.append(time.perf_counter() - t)
samples.sort(); print(samples[len(samples) // 2])";

fn main() {
    let ours = env!("CARGO_BIN_EXE_mcp-sandbox");
    let bwrap = [
        "/usr/bin/bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "/bin/true",
    ];
    let has_bwrap = std::path::Path::new(bwrap[0]).exists();
    let (echo_port, sink_port, bulk) = servers();
    let net = format!("127.0.0.1:{echo_port}");
    let variants: Vec<(&str, Vec<&str>)> = vec![
        ("bare `/bin/true`", vec!["/bin/true"]),
        ("`bwrap --unshare-all … /bin/true`", if has_bwrap { bwrap.to_vec() } else { vec![] }),
        ("`mcp-sandbox run /bin/true` (all layers)", vec![ours, "run", "/bin/true"]),
        (
            "`mcp-sandbox run --allow-net … /bin/true` (all layers, broker ready)",
            vec![ours, "run", "--allow-net", &net, "/bin/true"],
        ),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    // The order rotates every round: a network namespace is torn down asynchronously after its
    // process exits, which slows whichever variant runs next.
    for round in 0..150 {
        for k in 0..variants.len() {
            let i = (k + round) % variants.len();
            let cmd = &variants[i].1;
            if cmd.is_empty() {
                continue;
            }
            let d = time(cmd);
            if round >= 10 {
                samples[i].push(d);
            }
        }
    }
    let medians: Vec<Option<Duration>> = samples.into_iter().map(|s| (!s.is_empty()).then(|| p50(s))).collect();
    println!("\n| start-up (p50 of 140 interleaved runs) | time | × bare | × bwrap |\n|---|---|---|---|");
    let bare = medians[0].unwrap();
    for ((name, _), m) in variants.iter().zip(&medians) {
        let Some(m) = m else {
            println!("| {name} | not installed (`apt-get install bubblewrap`) | | |");
            continue;
        };
        let vs_bwrap = medians[1].map_or("".to_string(), |b| format!("{:.2}", m.as_secs_f64() / b.as_secs_f64()));
        println!("| {name} | {} | {:.1} | {vs_bwrap} |", ms(*m), m.as_secs_f64() / bare.as_secs_f64());
    }

    // Relay latency: 300 connect + 1-byte round trips in one process, inside and outside.
    let echo = echo_port.to_string();
    let direct = Command::new("/usr/bin/python3").args(["-c", LATENCY, &echo]).output().unwrap();
    let relayed = Command::new(ours)
        .args(["run", "--allow-net", &net, "/usr/bin/python3", "--", "-c", LATENCY, &echo])
        .output()
        .unwrap();
    let parse =
        |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().unwrap_or(f64::NAN) * 1e6;
    let (d, r) = (parse(&direct), parse(&relayed));
    // Bulk: 512 MiB, timed by the receiver from first to last byte.
    let send = format!("head -c 536870912 /dev/zero > /dev/tcp/127.0.0.1/{sink_port}");
    let sink_net = format!("127.0.0.1:{sink_port}");
    let mut direct_bps = Vec::new();
    let mut relayed_bps = Vec::new();
    for _ in 0..3 {
        time(&["/bin/bash", "-c", &send]);
        time(&[ours, "run", "--allow-net", &sink_net, "--timeout", "60s", "/bin/bash", "--", "-c", &send]);
    }
    std::thread::sleep(Duration::from_millis(200));
    for (i, (bytes, took)) in bulk.lock().unwrap().iter().enumerate() {
        let gbps = *bytes as f64 / took.as_secs_f64() / 1e9;
        if i % 2 == 0 { direct_bps.push(gbps) } else { relayed_bps.push(gbps) }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (dg, rg) = (med(direct_bps), med(relayed_bps));
    println!("\n| broker relay | direct loopback | through the relay | ratio |\n|---|---|---|---|");
    println!("| connect + 1-byte round trip (p50 of 300) | {d:.0} µs | {r:.0} µs | {:.2}× |", r / d);
    println!(
        "| bulk throughput (512 MiB, median of 3) | {dg:.2} GB/s | {rg:.2} GB/s | {:.0} % of direct |",
        rg / dg * 100.0
    );
}
