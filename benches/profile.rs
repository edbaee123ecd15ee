//! What behaviour profiles cost (`cargo bench --bench profile`), interleaved so that machine
//! noise hits every variant alike; prints a markdown table for the README.
//!
//! 1. observation: `mcp-sandbox run TOOL` against `mcp-sandbox learn -o /dev/null TOOL` (every
//!    open, exec, create and remove handed to the supervisor and recorded, then a profile and a
//!    policy derived) for `/bin/true`, a Python start-up, and a program opening 2000 files;
//! 2. judging: `profile::judge` of one call against a learned profile (what `--profile` adds
//!    to each `tools/call` beyond observation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::profile::{Baseline, DeriveOptions, Dial, Observation, Profile, Proto, judge};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 30;

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn time(args: &[&str]) -> Duration {
    let t = Instant::now();
    let st = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let took = t.elapsed();
    assert!(st.success(), "{args:?} failed");
    took
}

const MANY_FILES: &str = "import os, sys
d = sys.argv[1]
for i in range(2000):
    open(os.path.join(d, str(i % 50))).close()
";

fn observation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for i in 0..50 {
        std::fs::write(data.join(i.to_string()), "x").unwrap();
    }
    let script = dir.path().join("many.py");
    std::fs::write(&script, MANY_FILES).unwrap();
    let (data, script) = (data.to_str().unwrap(), script.to_str().unwrap());
    let read = format!("--allow-read={data}");
    let read_script = format!("--allow-read={script}");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("`/bin/true`", vec!["/bin/true"]),
        ("`python3 -c pass` (≈100 files opened)", vec!["/usr/bin/python3", "-c", "pass"]),
        ("Python opening 2000 files", vec![&read, &read_script, "/usr/bin/python3", script, data]),
    ];
    println!("| observation (p50 of {ROUNDS} interleaved runs) | `run` | `learn` (observed) | ratio |");
    println!("|---|---|---|---|");
    for (name, args) in cases {
        let (mut plain, mut observed) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let mut run = vec!["run"];
            run.extend(&args);
            let mut learn = vec!["learn", "-o", "/dev/null"];
            learn.extend(&args);
            // Alternate which goes first.
            if round % 2 == 0 {
                plain.push(time(&run));
                observed.push(time(&learn));
            } else {
                observed.push(time(&learn));
                plain.push(time(&run));
            }
        }
        let (a, b) = (p50(plain), p50(observed));
        println!("| {name} | {} | {} | {:.2}× |", ms(a), ms(b), b.as_secs_f64() / a.as_secs_f64());
    }
}

fn judging() {
    let mut p = Profile::new("bench");
    for i in 0..20 {
        let mut o = Observation::default();
        for f in 0..30 {
            o.reads.insert(format!("/srv/data/{i}/{f}.json"));
        }
        o.dials.insert(Dial { proto: Proto::Tcp, host: "api.example.org".into(), port: 443 });
        o.names.insert("api.example.org".into());
        o.wall_ms = 100 + i;
        p.learn(&o);
    }
    let b = Baseline::new(p, DeriveOptions::default());
    let mut call = Observation::default();
    for f in 0..100 {
        call.reads.insert(format!("/srv/data/3/{f}.json"));
    }
    call.reads.insert("/home/u/.ssh/id_rsa".into());
    call.dials.insert(Dial { proto: Proto::Tcp, host: "203.0.113.7".into(), port: 443 });
    let n = 2000;
    let t = Instant::now();
    let mut found = 0;
    for _ in 0..n {
        found += judge(&b, &call).len();
    }
    let each = t.elapsed() / n;
    assert!(found > 0);
    println!();
    println!("| judging one call (101 paths, 1 dial) against a 20-call profile | {:.1} µs |", each.as_secs_f64() * 1e6);
    println!("|---|---|");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    observation();
    judging();
}
