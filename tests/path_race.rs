//! Issue 9, break 7, and the symlink note: a granted path is checked once, and the descriptor the
//! check opened is what the tool gets.
//!
//! The race: a real `mcp-sandbox serve` runs many calls whose argument names a directory (or a
//! file) under the declared root, while a racer thread swaps that entry, as fast as it can, with
//! a symlink in the same root that leads outside it (`renameat2(RENAME_EXCHANGE)`). Whoever can
//! write in the root can plant such a link: a concurrent call with a write grant there, or
//! anyone else. The verdict is by side effect: no file written outside the root, nothing read
//! from outside it; the calls that ran wrote (or read) inside. Positive controls: without the
//! racer every call writes where asked, and with the outside directory under the root the same
//! tool writes (reads) there, so an empty outside directory means the sandbox held.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use support::{root, run, s, tool};

type Client = RunningService<RoleClient, ()>;

/// Calls made while the racer runs.
const RACED_CALLS: usize = 150;
/// Calls made without it (the positive control).
const CONTROL_CALLS: usize = 12;
/// What the server runs at once (the rest queue), and how many calls the client keeps pending.
const AT_ONCE: &str = "4";
const IN_FLIGHT: usize = 6;
const INSIDE: &str = "INSIDE-CONTENT";
const SECRET: &str = "OUTSIDE-SECRET";

/// The layout every race test uses, in a fresh temporary directory:
/// `root/bound/` (a directory), `root/file.txt`, `root/decoy -> ../outside` and
/// `root/decoy.txt -> ../outside/secret.txt` (relative links, so they resolve the same from
/// any mount namespace), `outside/secret.txt`, and `tools/` with one manifest per tool.
struct Layout {
    dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    tools: PathBuf,
}

impl Layout {
    fn new() -> Layout {
        tool("write-file");
        tool("read-file");
        let dir = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(dir.path()).unwrap();
        let (rootd, outside, tools) = (top.join("root"), top.join("outside"), top.join("tools"));
        for d in [&rootd, &outside, &tools, &rootd.join("bound")] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(rootd.join("file.txt"), INSIDE).unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink("../outside", rootd.join("decoy")).unwrap();
        std::os::unix::fs::symlink("../outside/secret.txt", rootd.join("decoy.txt")).unwrap();
        let script = |name: &str, body: &str| {
            let p = tools.join(name);
            std::fs::write(&p, body).unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        };
        script("write.sh", "#!/bin/sh\nprintf '%s' \"$2\" > \"$1\"\n");
        script("cat.sh", "#!/bin/sh\nexec cat \"$1\"\n");
        let wasm = root().join("sample-tools/target/wasm32-wasip2/release");
        let write_args = r#"args = ["{dir}/{name}", "{text}"]
[input_schema]
type = "object"
required = ["dir", "name", "text"]
properties = { dir = { type = "string" }, name = { type = "string" }, text = { type = "string" } }
[[bind]]
argument = "dir"
access = "write"
"#;
        let read_args = r#"args = ["{path}"]
[input_schema]
type = "object"
required = ["path"]
properties = { path = { type = "string" } }
[[bind]]
argument = "path"
access = "read"
"#;
        let program = |kind: &str| match kind {
            "write-wasm" => format!("wasm = \"{}/write-file.wasm\"", s(&wasm)),
            "read-wasm" => format!("wasm = \"{}/read-file.wasm\"", s(&wasm)),
            "write-native" => format!("command = \"{}/write.sh\"", s(&tools)),
            _ => format!("command = \"{}/cat.sh\"", s(&tools)),
        };
        for kind in ["write-wasm", "write-native", "read-wasm", "read-native"] {
            let body = if kind.starts_with("write") { write_args } else { read_args };
            // `KIND` binds under the root; `KIND-wide` under the whole directory, outside included.
            for (name, within) in [(kind.to_string(), &rootd), (format!("{kind}-wide"), &top)] {
                let manifest = format!(
                    "name = \"{name}\"\n{}\nstdin = \"none\"\n{body}within = [\"{}\"]\n",
                    program(kind),
                    s(within)
                );
                std::fs::write(tools.join(format!("{name}.toml")), manifest).unwrap();
            }
        }
        Layout { dir, root: rootd, outside, tools }
    }

    /// Files in the outside directory besides its secret.
    fn written_outside(&self) -> Vec<String> {
        names(&self.outside).into_iter().filter(|n| n != "secret.txt").collect()
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

async fn connect(tools: &Path) -> Client {
    let (transport, _stderr) =
        TokioChildProcess::builder(tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
            c.arg("serve").arg("--tools").arg(tools).args(["--max-concurrent", AT_ONCE]);
        }))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("")
}

async fn call(c: &Client, name: &str, a: Value) -> CallToolResult {
    let p = CallToolRequestParams::new(name.to_string()).with_arguments(a.as_object().unwrap().clone());
    c.call_tool(p).await.unwrap()
}

/// Swaps two entries of a directory with `renameat2(RENAME_EXCHANGE)` until stopped; always
/// stops after an even number of swaps, so every name is back where it started.
struct Racer {
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Racer {
    fn start(a: PathBuf, b: PathBuf) -> Racer {
        let (stop, swaps) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (halt, count) = (stop.clone(), swaps.clone());
        let thread = std::thread::spawn(move || {
            use rustix::fs::{CWD, RenameFlags, renameat_with};
            let mut n = 0u64;
            while n % 2 == 1 || !halt.load(Ordering::Relaxed) {
                renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).unwrap();
                n += 1;
                count.store(n, Ordering::Relaxed);
            }
        });
        Racer { stop, swaps, thread }
    }

    fn swaps(&self) -> u64 {
        self.swaps.load(Ordering::Relaxed)
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.swaps.load(Ordering::Relaxed)
    }
}

/// How a batch of calls ended.
#[derive(Debug, Default)]
struct Tally {
    ran: Vec<usize>,
    refused: usize,
    failed: usize,
    tool_errors: usize,
    texts: Vec<String>,
}

/// Makes `n` calls of `name`, the i-th with the arguments `args(i)`, keeping `IN_FLIGHT` of them
/// pending at a time (not all at once: refused calls end at once, and a burst of them would all
/// see the same moment of the race).
async fn calls(c: &Client, name: &str, n: usize, args: impl Fn(usize) -> Value) -> Tally {
    let mut set = tokio::task::JoinSet::new();
    let mut t = Tally::default();
    let mut next = 0;
    loop {
        while next < n && set.len() < IN_FLIGHT {
            let peer = c.peer().clone();
            let p =
                CallToolRequestParams::new(name.to_string()).with_arguments(args(next).as_object().unwrap().clone());
            let i = next;
            set.spawn(async move { (i, peer.call_tool(p).await) });
            next += 1;
        }
        let Some(done) = set.join_next().await else { break };
        let (i, r) = done.unwrap();
        let r = r.unwrap();
        let body = text(&r);
        if r.is_error == Some(false) {
            t.ran.push(i);
        } else if body.starts_with("denied: argument") {
            t.refused += 1;
        } else if body.starts_with("the sandbox could not run") || body.contains("native sandbox setup failed") {
            t.failed += 1;
        } else {
            t.tool_errors += 1;
        }
        t.texts.push(body);
    }
    t
}

/// The write race for one executor: `tool` writes `dir/name` with `dir` = `root/bound`.
async fn write_race(tool: &str) {
    let l = Layout::new();
    let c = connect(&l.tools).await;
    let bound = l.root.join("bound");
    let args = |prefix: &'static str| {
        let dir = s(&bound).to_string();
        move |i: usize| json!({ "dir": dir, "name": format!("{prefix}-{i}"), "text": "x" })
    };
    // Positive control, no racer: every call writes in the bound directory.
    let control = calls(&c, tool, CONTROL_CALLS, args("control")).await;
    assert_eq!(control.ran.len(), CONTROL_CALLS, "{control:?}");
    assert_eq!(names(&bound).len(), CONTROL_CALLS);
    // The same tool with the outside directory under its root writes there: the racer's target
    // is reachable to this tool whenever it is granted.
    let wide = format!("{tool}-wide");
    let r = call(&c, &wide, json!({ "dir": s(&l.outside), "name": "granted", "text": "x" })).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(l.written_outside(), ["granted"]);
    std::fs::remove_file(l.outside.join("granted")).unwrap();
    // The link itself, named as the argument: refused, nothing written.
    let r = call(&c, tool, json!({ "dir": s(&l.root.join("decoy")), "name": "direct", "text": "x" })).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(l.written_outside().is_empty());

    let racer = Racer::start(bound.clone(), l.root.join("decoy"));
    let before = racer.swaps();
    let raced = calls(&c, tool, RACED_CALLS, args("race")).await;
    let during = racer.swaps() - before;
    let swaps = racer.stop();
    c.cancel().await.unwrap();
    let outside = l.written_outside();
    eprintln!(
        "{tool}: {RACED_CALLS} raced calls over {swaps} swaps ({during} while calls ran): {} ran, {} refused, \
         {} failed to start, {} tool errors; {} files written outside the root",
        raced.ran.len(),
        raced.refused,
        raced.failed,
        raced.tool_errors,
        outside.len()
    );
    assert!(during > RACED_CALLS as u64, "the racer ran while the calls did ({during} swaps)");
    assert!(outside.is_empty(), "written outside the root: {outside:?}");
    // Every call that ran wrote into the bound directory, which is back at its name.
    let inside = names(&bound);
    for i in &raced.ran {
        assert!(inside.contains(&format!("race-{i}")), "call {i} ran but its file is not in the bound directory");
    }
    assert!(!raced.ran.is_empty(), "no raced call ran at all: {raced:?}");
    drop(l.dir);
}

/// The read race: `tool` reads `root/file.txt` while it is swapped with a link to the secret.
async fn read_race(tool: &str) {
    let l = Layout::new();
    let c = connect(&l.tools).await;
    let file = s(&l.root.join("file.txt")).to_string();
    let control = calls(&c, tool, CONTROL_CALLS, |_| json!({ "path": file })).await;
    assert_eq!(control.ran.len(), CONTROL_CALLS, "{control:?}");
    assert!(control.texts.iter().all(|t| t == INSIDE), "{control:?}");
    // Granted, the secret is readable by the same tool.
    let r = call(&c, &format!("{tool}-wide"), json!({ "path": s(&l.outside.join("secret.txt")) })).await;
    assert_eq!(text(&r), SECRET, "{r:?}");
    let r = call(&c, tool, json!({ "path": s(&l.root.join("decoy.txt")) })).await;
    assert!(r.is_error == Some(true) && !text(&r).contains(SECRET), "{r:?}");

    let racer = Racer::start(l.root.join("file.txt"), l.root.join("decoy.txt"));
    let before = racer.swaps();
    let raced = calls(&c, tool, RACED_CALLS, |_| json!({ "path": file })).await;
    let during = racer.swaps() - before;
    let swaps = racer.stop();
    c.cancel().await.unwrap();
    let leaked = raced.texts.iter().filter(|t| t.contains(SECRET)).count();
    eprintln!(
        "{tool}: {RACED_CALLS} raced calls over {swaps} swaps ({during} while calls ran): {} ran, {} refused, \
         {} failed to start, {} tool errors; {leaked} read the outside secret",
        raced.ran.len(),
        raced.refused,
        raced.failed,
        raced.tool_errors
    );
    assert!(during > RACED_CALLS as u64, "the racer ran while the calls did ({during} swaps)");
    assert_eq!(leaked, 0, "read from outside the root");
    if let Some(t) = raced.texts.iter().find(|t| t.contains("setup failed")) {
        eprintln!("e.g. {t}");
    }
    assert!(!raced.ran.is_empty(), "no raced call ran at all: {raced:?}");
    drop(l.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raced_write_binding_never_writes_outside_its_root_wasm() {
    write_race("write-wasm").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raced_write_binding_never_writes_outside_its_root_native() {
    write_race("write-native").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raced_file_binding_never_reads_outside_its_root_wasm() {
    read_race("read-wasm").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raced_file_binding_never_reads_outside_its_root_native() {
    read_race("read-native").await;
}

/// The symlink note: a link planted earlier (`work/notes -> ../secrets`) named in `--allow-read`
/// would grant its target. It is refused, in one line that names the target, and the flag it
/// suggests works; a path below the link, and the same in a policy file and for a native
/// tool, are refused the same way. Judged by what the tool could read.
#[test]
fn a_granted_path_through_a_symlink_is_refused_and_the_hint_names_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let top = std::fs::canonicalize(dir.path()).unwrap();
    let (secrets, work) = (top.join("secrets"), top.join("work"));
    std::fs::create_dir(&secrets).unwrap();
    std::fs::create_dir(&work).unwrap();
    std::fs::write(secrets.join("key.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink("../secrets", work.join("notes")).unwrap();
    let notes = work.join("notes");
    let reader = tool("read-file");
    let hint_of = |stderr: &str| -> String {
        let line = stderr.trim();
        assert_eq!(line.lines().count(), 1, "one line: {stderr}");
        line.split_once("name it: --allow-read ").unwrap_or_else(|| panic!("no hint: {line}")).1.to_string()
    };
    for (granted, read, target) in [
        (notes.clone(), notes.join("key.txt"), secrets.clone()),
        (notes.join("key.txt"), notes.join("key.txt"), secrets.join("key.txt")),
    ] {
        let r = run(&["run", "--allow-read", s(&granted), s(&reader), "--", s(&read)]);
        assert_eq!(r.code, 125, "{r:?}");
        assert!(!r.stdout.contains(SECRET), "nothing ran: {r:?}");
        assert!(r.stderr.contains(&format!("{} is a symlink (to ../secrets)", s(&notes))), "{}", r.stderr);
        let hint = hint_of(&r.stderr);
        assert_eq!(hint, s(&target), "{}", r.stderr);
        // Followed, the hint grants the target itself, which the tool then reads.
        let ok = run(&["run", "--allow-read", &hint, s(&reader), "--", s(&secrets.join("key.txt"))]);
        assert_eq!((ok.code, ok.stdout.as_str()), (0, SECRET), "{ok:?}");
    }
    // A native tool: the same refusal, and the same grant once the target is named.
    let r = run(&["run", "--allow-read", s(&notes), "/bin/cat", s(&notes.join("key.txt"))]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(!r.stdout.contains(SECRET));
    let ok = run(&["run", "--allow-read", &hint_of(&r.stderr), "/bin/cat", s(&secrets.join("key.txt"))]);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, SECRET), "{ok:?}");
    // A policy file: `file:line:col`, and the entry to write instead.
    let policy = top.join("p.toml");
    std::fs::write(&policy, "[filesystem]\nread = [\"work/notes\"]\n").unwrap();
    let r = run(&["run", "--policy", s(&policy), s(&reader), "--", s(&notes.join("key.txt"))]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(r.stderr.contains("p.toml:2:9: invalid path `work/notes`"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("write it instead: {:?}", s(&secrets))), "{}", r.stderr);
    assert!(!r.stdout.contains(SECRET));
}

/// `serve`: an argument through a symlink that stays under the root is refused too (the tool
/// would be shown the path it was given, which the grant would not hold), with the path to pass
/// instead, which works; one that leads outside is refused as outside. Judged by what the tool
/// read.
#[tokio::test]
async fn a_bound_argument_through_a_symlink_is_refused_with_the_path_to_pass() {
    let l = Layout::new();
    std::os::unix::fs::symlink("file.txt", l.root.join("alias.txt")).unwrap();
    let c = connect(&l.tools).await;
    let r = call(&c, "read-wasm", json!({ "path": s(&l.root.join("alias.txt")) })).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let body = text(&r);
    let hint = format!("pass the path it leads to: {}", s(&l.root.join("file.txt")));
    assert!(body.contains("is a symlink (to file.txt)") && body.contains(&hint), "{body}");
    let r = call(&c, "read-wasm", json!({ "path": s(&l.root.join("file.txt")) })).await;
    assert_eq!(text(&r), INSIDE, "{r:?}");
    let r = call(&c, "read-wasm", json!({ "path": s(&l.root.join("decoy.txt")) })).await;
    assert!(text(&r).contains("outside the declared roots") && !text(&r).contains(SECRET), "{r:?}");
    c.cancel().await.unwrap();
}
