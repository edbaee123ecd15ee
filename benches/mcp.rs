//! `tools/call` over stdio (`cargo bench --bench mcp`): the real `mcp-sandbox serve` binary
//! driven by rmcp's client, calling `echo-json` with 1 and 16 concurrent callers. Each call is
//! a full JSON-RPC round trip with schema validation, a fresh grant, a fresh WebAssembly
//! instance and output-schema validation. Reports throughput and p50/p99 latency, with and
//! without an audit file; the configurations are interleaved (rounds rotate the order) so
//! machine noise hits them alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use std::path::PathBuf;
use std::time::{Duration, Instant};

type Client = RunningService<RoleClient, ()>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn connect(audit: Option<&std::path::Path>) -> Client {
    let cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
        c.arg("serve").arg("--tools").arg(root().join("tools"));
        if let Some(a) = audit {
            c.arg("--audit").arg(a);
        }
    });
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(std::process::Stdio::null()).spawn().unwrap();
    ().serve(transport).await.unwrap()
}

fn params(i: usize) -> CallToolRequestParams {
    let args = serde_json::json!({ "message": format!("call {i}") });
    CallToolRequestParams::new("echo-json").with_arguments(args.as_object().unwrap().clone())
}

/// `total` calls spread over `callers` concurrent tasks; per-call latencies and wall time.
async fn burst(c: &Client, callers: usize, total: usize) -> (Vec<Duration>, Duration) {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..callers {
        let peer = c.peer().clone();
        set.spawn(async move {
            let mut lat = Vec::new();
            for i in (w..total).step_by(callers) {
                let t = Instant::now();
                let r = peer.call_tool(params(i)).await.unwrap();
                assert_eq!(r.is_error, Some(false));
                lat.push(t.elapsed());
            }
            lat
        });
    }
    let mut all = Vec::new();
    while let Some(l) = set.join_next().await {
        all.extend(l.unwrap());
    }
    (all, start.elapsed())
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(root().join("sample-tools"))
        .status()
        .unwrap();
    assert!(status.success());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let plain = connect(None).await;
    let audited = connect(Some(&audit)).await;
    let configs: [(&str, &Client); 2] = [("no audit file", &plain), ("--audit FILE", &audited)];
    // Warm-up: compiled components cached, instance pools touched.
    for (_, c) in &configs {
        burst(c, 16, 400).await;
    }
    let rounds = 5;
    let mut results: Vec<(String, Vec<Duration>, Duration, usize)> = Vec::new();
    for round in 0..rounds {
        for k in 0..4 {
            let k = (k + round) % 4;
            let (name, c) = configs[k / 2];
            let callers = if k % 2 == 0 { 1 } else { 16 };
            let total = if callers == 1 { 400 } else { 1600 };
            let (lat, wall) = burst(c, callers, total).await;
            let label = format!("{name}, {callers} caller{}", if callers == 1 { "" } else { "s" });
            match results.iter_mut().find(|r| r.0 == label) {
                Some(r) => {
                    r.1.extend(lat);
                    r.2 += wall;
                    r.3 += total;
                }
                None => results.push((label, lat, wall, total)),
            }
        }
    }
    println!("\n| configuration | calls/s | p50 | p99 |\n|---|---|---|---|");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (label, mut lat, wall, total) in results {
        lat.sort();
        let rate = total as f64 / wall.as_secs_f64();
        println!("| {label} | {rate:.0} | {} | {} |", ms(pct(&lat, 0.5)), ms(pct(&lat, 0.99)));
    }
    plain.cancel().await.unwrap();
    audited.cancel().await.unwrap();
}
