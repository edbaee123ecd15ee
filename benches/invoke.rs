//! Invocation benchmarks (`cargo bench --bench invoke`).
//!
//! 1. warm in-process invocation of `echo-json` through the library API (engine and compiled
//!    component cached): criterion, plus p50/p99 over individually timed invocations;
//! 2. whole-process `mcp-sandbox run echo-json.wasm` with a warm cache, side by side with
//!    `wasmtime run` of the same component (interleaved A/B runs in one process, so machine
//!    noise hits both alike), and `mcp-sandbox run --no-cache` to show what the cache saves.
//!
//! Prints a markdown table for the README at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::Criterion;
use mcp_sandbox_runtime::{CacheSetting, Call, Output, Policy, Sandbox, Stdin};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INPUT: &[u8] = br#"{"query":"weather","days":3}"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn echo_json() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(root().join("sample-tools"))
        .status()
        .expect("cargo build sample-tools");
    assert!(status.success());
    root().join("sample-tools/target/wasm32-wasip2/release/echo-json.wasm")
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn spawn_once(program: &Path, args: &[&str], cache: &Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env("MCP_SANDBOX_CACHE", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(INPUT).unwrap();
    let status = child.wait().unwrap();
    let took = start.elapsed();
    assert!(status.success(), "{} {args:?} failed", program.display());
    took
}

fn find_wasmtime() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WASMTIME") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let candidates = [home.join(".cargo/bin/wasmtime"), PathBuf::from("/usr/local/bin/wasmtime")];
    candidates.into_iter().find(|p| p.exists())
}

fn main() {
    let tool_path = echo_json();
    let cache = root().join("target/bench-component-cache");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sandbox = Sandbox::builder().cache(CacheSetting::Dir(cache.clone())).build().unwrap();
    let tool = sandbox.load(&tool_path).unwrap();
    let policy = Policy::builder().build();
    let call = Call { stdin: Stdin::Bytes(INPUT.to_vec()), output: Output::Capture, ..Call::default() };
    let once = || {
        let out = rt.block_on(sandbox.invoke(&tool, &policy, call.clone())).unwrap();
        assert!(out.status.success());
        out
    };

    let pooled = Sandbox::builder().cache(CacheSetting::Dir(cache.clone())).pooling(16).build().unwrap();
    let pooled_tool = pooled.load(&tool_path).unwrap();
    let once_pooled = || {
        let out = rt.block_on(pooled.invoke(&pooled_tool, &policy, call.clone())).unwrap();
        assert!(out.status.success());
        out
    };

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("invoke/echo-json in-process (warm, on-demand allocation)", |b| b.iter(once));
    c.bench_function("invoke/echo-json in-process (warm, pooling allocation)", |b| b.iter(once_pooled));

    let mut rows = Vec::new();
    let sample = |f: &dyn Fn() -> mcp_sandbox_runtime::Outcome| {
        for _ in 0..200 {
            f();
        }
        let samples: Vec<Duration> = (0..3000)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        percentiles(samples)
    };
    // Interleave the two allocation strategies in blocks so noise hits both.
    let (mut od, mut po) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        od.push(sample(&once));
        po.push(sample(&once_pooled));
    }
    let median_of = |v: &mut Vec<(Duration, Duration)>| {
        v.sort();
        v[v.len() / 2]
    };
    let ((p50, p99), (q50, q99)) = (median_of(&mut od), median_of(&mut po));
    rows.push(format!(
        "| in-process `invoke` of echo-json (warm, on-demand allocation) | {} | {} | target p50 ≤ 100 µs |",
        fmt(p50),
        fmt(p99)
    ));
    rows.push(format!(
        "| in-process `invoke` of echo-json (warm, pooling allocation) | {} | {} | |",
        fmt(q50),
        fmt(q99)
    ));

    let ours = PathBuf::from(env!("CARGO_BIN_EXE_mcp-sandbox"));
    let tool_arg = tool_path.to_str().unwrap();
    let wasmtime = find_wasmtime();
    // Warm both caches.
    spawn_once(&ours, &["run", tool_arg], &cache);
    if let Some(w) = &wasmtime {
        spawn_once(w, &["run", tool_arg], &cache);
    }
    let rounds = 300;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(spawn_once(&ours, &["run", tool_arg], &cache));
        if let Some(w) = &wasmtime {
            b.push(spawn_once(w, &["run", tool_arg], &cache));
        }
    }
    let (a50, a99) = percentiles(a);
    rows.push(format!("| `mcp-sandbox run echo-json.wasm` (warm cache) | {} | {} | |", fmt(a50), fmt(a99)));
    match wasmtime {
        Some(w) => {
            let (b50, b99) = percentiles(b);
            let version = Command::new(&w)
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            rows.push(format!("| `wasmtime run echo-json.wasm` ({version}) | {} | {} | |", fmt(b50), fmt(b99)));
            rows.push(format!(
                "| **ratio** mcp-sandbox / wasmtime (p50) | **{:.2}** | | target ≤ 1.0 |",
                a50.as_secs_f64() / b50.as_secs_f64()
            ));
        }
        None => eprintln!(
            "wasmtime CLI not found: install with `cargo install wasmtime-cli --version 48.0.8 --locked` or set WASMTIME"
        ),
    }
    let cold: Vec<Duration> = (0..10).map(|_| spawn_once(&ours, &["run", "--no-cache", tool_arg], &cache)).collect();
    let (c50, c99) = percentiles(cold);
    rows.push(format!("| `mcp-sandbox run --no-cache` (compiles every run) | {} | {} | |", fmt(c50), fmt(c99)));

    println!("\n| benchmark | p50 | p99 | note |\n|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    c.final_summary();
}
