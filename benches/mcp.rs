//! `tools/call` over stdio (`cargo bench --bench mcp`): the real `mcp-sandbox serve` binary
//! driven by rmcp's client, calling `echo-json` with 1 and 16 concurrent callers. Each call is
//! a full JSON-RPC round trip with schema validation, a fresh grant, a fresh WebAssembly
//! instance and output-schema validation. Reports throughput and p50/p99 latency, with and
//! without an audit file; the configurations are interleaved (rounds rotate the order) so
//! machine noise hits them alike.
//!
//! Then what behaviour profiles add per `tools/call` (issue 12): each tool (`echo-json`, a
//! WebAssembly component; `line-count`, a native shell script) served plain, with `--learn FILE`
//! (every call observed and merged into a profile) and with `--profile FILE` (every call observed
//! and judged against the profile learned just before), one caller, interleaved.
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
    match audit {
        Some(a) => serve(&[std::ffi::OsStr::new("--audit"), a.as_os_str()]).await,
        None => serve(&[]).await,
    }
}

async fn serve(extra: &[&std::ffi::OsStr]) -> Client {
    let cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
        c.arg("serve").arg("--tools").arg(root().join("tools")).args(extra);
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
    monitoring(dir.path()).await;
}

/// One tool's calls: `(tool, arguments of call i)`.
type Calls = (&'static str, fn(usize) -> serde_json::Value);

fn echo_args(i: usize) -> serde_json::Value {
    serde_json::json!({ "message": format!("call {i}") })
}

fn count_args(_: usize) -> serde_json::Value {
    let data = root().join("sample-tools/data/hello.txt");
    serde_json::json!({ "path": data.to_str().unwrap() })
}

/// `n` sequential calls; per-call latencies.
async fn sequential(c: &Client, (tool, args): Calls, n: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let p = CallToolRequestParams::new(tool).with_arguments(args(i).as_object().unwrap().clone());
        let t = Instant::now();
        let r = c.peer().call_tool(p).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}: {r:?}");
        lat.push(t.elapsed());
    }
    lat
}

/// Per-call cost of `--learn` and `--profile` beside a plain server, for a component and a
/// native tool.
async fn monitoring(dir: &std::path::Path) {
    let tools: [(Calls, usize); 2] = [(("echo-json", echo_args), 200), (("line-count", count_args), 40)];
    println!("\n| tool | plain p50 | `--learn` p50 | `--profile` p50 | `--profile` / plain |\n|---|---|---|---|---|");
    for (calls, n) in tools {
        let learned = dir.join(format!("{}.profile.json", calls.0));
        let learning = dir.join(format!("{}.learning.json", calls.0));
        // The profile judged against: learned over calls like the measured ones.
        let teacher = serve(&["--learn".as_ref(), learned.as_os_str()]).await;
        sequential(&teacher, calls, 20).await;
        teacher.cancel().await.unwrap();
        let clients = [
            serve(&[]).await,
            serve(&["--learn".as_ref(), learning.as_os_str()]).await,
            serve(&["--profile".as_ref(), learned.as_os_str()]).await,
        ];
        for c in &clients {
            sequential(c, calls, n / 4).await;
        }
        let mut lat: [Vec<Duration>; 3] = Default::default();
        for round in 0..5 {
            for k in 0..3 {
                let k = (k + round) % 3;
                lat[k].extend(sequential(&clients[k], calls, n).await);
            }
        }
        let p: Vec<Duration> = lat
            .iter_mut()
            .map(|l| {
                l.sort();
                pct(l, 0.5)
            })
            .collect();
        let ratio = p[2].as_secs_f64() / p[0].as_secs_f64();
        println!("| `{}` | {} | {} | {} | {ratio:.3}× |", calls.0, ms(p[0]), ms(p[1]), ms(p[2]));
        for c in clients {
            c.cancel().await.unwrap();
        }
    }
}
