//! The native sandbox's resource limits, each observed on its own: where two caps bound the
//! same thing (the pids cgroup and `RLIMIT_NPROC`), either would hide the other's removal from
//! a test of the effect alone. The memory limit is the memory cgroup over the whole tree, with
//! no address-space limit (real runtimes start at the default), and where no memory cgroup can
//! be made, a declared limit is refused unless `--allow-degraded` holds each process instead.
//! A check that needs a cgroup this user cannot make, or that only such a user can make, says
//! SKIPPED (see `support::skipped`); `./dev test` runs these tests both as root and as uid 65534.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::process::Command;
use support::*;

fn run_in(program: &str, flags: &[&str], code: &str) -> Run {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend([program, "--", "-c", code]);
    run(&args)
}

fn python(flags: &[&str], code: &str) -> Run {
    run_in("/usr/bin/python3", flags, code)
}

fn bash(flags: &[&str], script: &str) -> Run {
    run_in("/bin/bash", flags, script)
}

fn run_sh(flags: &[&str], script: &str) -> Run {
    run_in("/bin/sh", flags, script)
}

/// The sandbox's process bound: `RLIMIT_NPROC` (always) and `pids.max` of its cgroup (where
/// one can be made) both hold the runtime's `native::limits::PROCESS_LIMIT`, this number. Each
/// cap would hide the other's removal from the fork bomb, so each is also checked alone below.
const PROCESS_LIMIT: u64 = 1024;

/// `native::limits::UNDECLARED_DATA_LIMIT`: each process's data without a memory cgroup, when
/// no memory limit is declared.
const UNDECLARED_DATA_LIMIT: u64 = 1 << 30;

/// Flags giving a sandbox room for what a test runs: a generous tree where a memory cgroup
/// bounds it; none where not (each process then holds `UNDECLARED_DATA_LIMIT`, and a declared
/// limit would be refused).
fn roomy() -> Vec<&'static str> {
    if cgroup_possible("memory") { vec!["--memory", "4GiB"] } else { vec![] }
}

/// Python that allocates and touches `MiB` (its first argument) mebibytes in one process.
const ALLOCATE: &str =
    "import sys\nx = bytearray(b'\\x01') * (int(sys.argv[1]) << 20)\nprint('touched', len(x) >> 20, flush=True)";

fn allocate(flags: &[&str], mib: u32) -> Run {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    let mib = mib.to_string();
    args.extend(["/usr/bin/python3", "-c", ALLOCATE, &mib]);
    run(&args)
}

/// A soft and hard limit of `/proc/self/limits` inside the sandbox, by the line's name.
fn limit_inside(flags: &[&str], name: &str) -> Vec<String> {
    let r = run_sh(flags, "cat /proc/self/limits");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_default();
    line.get(name.len()..).unwrap_or_default().split_whitespace().take(2).map(String::from).collect()
}

/// Python that forks up to `n` children, each blocking on a pipe so that all are alive at once,
/// prints how many it could start, then releases them.
fn fork_bomb(n: u64) -> String {
    format!(
        "import os\nr, w = os.pipe()\nok = 0\nfor i in range({n}):\n try:\n  if os.fork() == 0:\n   os.close(w); os.read(r, 1); os._exit(0)\n  ok += 1\n except OSError:\n  break\nos.close(w)\nprint(ok, flush=True)\ntry:\n while True: os.wait()\nexcept ChildProcessError:\n pass"
    )
}

#[test]
fn a_fork_bomb_hits_the_process_limit() {
    let tries = PROCESS_LIMIT + 100;
    // Control: on the host, nothing stops the same bomb short of its end.
    let host = Command::new("/usr/bin/python3").args(["-c", &fork_bomb(tries)]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&host.stdout).trim(), tries.to_string(), "host control");
    let mut flags = vec!["--timeout", "60s"];
    flags.extend(roomy());
    let r = python(&flags, &fork_bomb(tries));
    let forked: u64 = r.stdout.trim().parse().unwrap_or(0);
    assert!(forked > 10 && forked < PROCESS_LIMIT, "forked {forked}: {}", r.stderr);
}

/// `RLIMIT_NPROC` alone: the value the tool's processes hold (on the host it is another).
#[test]
fn the_process_rlimit_is_set_for_the_tool() {
    let max_processes = |limits: &str| -> Vec<String> {
        let line = limits.lines().find(|l| l.starts_with("Max processes")).unwrap_or_default();
        line.split_whitespace().skip(2).take(2).map(String::from).collect()
    };
    let on_host = max_processes(&std::fs::read_to_string("/proc/self/limits").unwrap());
    let limit = PROCESS_LIMIT.to_string();
    if on_host == [limit.clone(), limit.clone()] {
        skipped("the_process_rlimit_is_set_for_the_tool", "the host already holds RLIMIT_NPROC at the sandbox's value");
        return;
    }
    let r = bash(&[], "cat /proc/self/limits");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(max_processes(&r.stdout), [limit.clone(), limit], "Max processes, soft and hard, in the sandbox");
}

/// The pids cgroup alone: the tool's processes sit in a cgroup whose `pids.max` is the bound.
#[test]
fn the_pids_cgroup_bounds_the_tool() {
    if !cgroup_possible("pids") {
        skipped(
            "the_pids_cgroup_bounds_the_tool",
            "this user cannot make a pids cgroup here (RLIMIT_NPROC alone bounds the tree)",
        );
        return;
    }
    let marker = format!("29.{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--timeout", "10s", "/bin/sh", "--", "-c", &format!("exec sleep {marker}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = poll(std::time::Duration::from_secs(10), || processes_running(&["sleep", &marker]).first().copied());
    let cgroup = pid.map(|p| std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap_or_default());
    let _ = child.kill();
    child.wait().unwrap();
    let cgroup = cgroup.expect("the tool was not found on the host");
    // v1: `N:pids:/path`; v2: `0::/path` (the one hierarchy, under the mount or `unified`).
    let file = cgroup.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':').skip(1);
        let (ctrls, path) = (parts.next()?, parts.next()?.trim_start_matches('/'));
        let dirs = if ctrls.split(',').any(|c| c == "pids") {
            vec![std::path::Path::new("/sys/fs/cgroup/pids").join(path)]
        } else if ctrls.is_empty() {
            vec![
                std::path::Path::new("/sys/fs/cgroup").join(path),
                std::path::Path::new("/sys/fs/cgroup/unified").join(path),
            ]
        } else {
            return None;
        };
        dirs.into_iter().map(|d| d.join("pids.max")).find(|f| f.exists())
    });
    let file = file.unwrap_or_else(|| panic!("the tool is in no pids cgroup: {cgroup}"));
    assert!(
        file.to_string_lossy().contains("/mcp-sandbox-"),
        "the tool is not in the sandbox's cgroup: {}",
        file.display()
    );
    let max = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(max.trim(), PROCESS_LIMIT.to_string(), "{}", file.display());
}

#[test]
fn the_memory_limit_covers_the_whole_process_tree() {
    // Unprivileged runs without a delegated cgroup have the per-process limit only.
    if !cgroup_possible("memory") {
        skipped(
            "the_memory_limit_covers_the_whole_process_tree",
            "this user cannot make a memory cgroup here (a declared limit is refused, or held per process: a_declared_limit_without_a_memory_cgroup_is_refused_unless_degraded)",
        );
        return;
    }
    // Three processes at once, each well under the limit, 150 MB together. Each pipeline's
    // reader takes the first byte (so its `tail` holds all 50 MiB), then waits until all three
    // got that far (or saw their `tail` die), and prints how many bytes it got.
    let script = "mkdir /tmp/ready; for i in 1 2 3; do (head -c 50M /dev/zero | tail -c 50M | { \
        first=$(dd bs=1 count=1 2>/dev/null | wc -c); touch /tmp/ready/$i; \
        while [ $(ls /tmp/ready | wc -l) -lt 3 ]; do sleep 0.01; done; echo $((first + $(wc -c))); }) & done; wait";
    let held = |r: &Run| r.stdout.lines().filter(|l| l.trim() == "52428800").count();
    // Positive control: with room for all three, all three hold their 50 MiB at once.
    let r = run_sh(&["--memory", "512MiB"], script);
    assert_eq!(held(&r), 3, "{} {}", r.stdout, r.stderr);
    let r = run_sh(&["--memory", "96MiB"], script);
    assert_eq!(r.stdout.lines().count(), 3, "every pipeline reports: {} {}", r.stdout, r.stderr);
    assert!(held(&r) < 3, "a 96 MiB sandbox held 150 MB: {} {}", r.stdout, r.stderr);
}

/// No address-space limit, ever (it broke V8, Go, the JVM, wasmtime and Python's threads):
/// the tool holds the host's. Without a memory cgroup, the default limit holds each process's
/// data instead; with one, nothing per process does.
#[test]
fn the_tool_has_no_address_space_limit() {
    let host = std::fs::read_to_string("/proc/self/limits").unwrap();
    let on_host = |name: &str| -> Vec<String> {
        let line = host.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        line.get(name.len()..).unwrap_or_default().split_whitespace().take(2).map(String::from).collect()
    };
    assert_eq!(limit_inside(&[], "Max address space"), on_host("Max address space"));
    let data = limit_inside(&[], "Max data size");
    if cgroup_possible("memory") {
        assert_eq!(data, on_host("Max data size"), "a memory cgroup holds the tree: no per-process data limit");
    } else {
        let n = UNDECLARED_DATA_LIMIT.to_string();
        assert_eq!(data, [n.clone(), n], "no memory cgroup: the default holds each process's data");
    }
}

/// Node (V8 reserves a large code range it never touches) starts at the default limit, and
/// starts its worker threads. Under the address-space limit it had, it died at once with
/// `Failed to reserve virtual memory for CodeRange` (exit 133).
#[test]
fn node_and_its_worker_threads_start_at_the_default_memory_limit() {
    let node = "/usr/bin/node";
    if !std::path::Path::new(node).exists() {
        skipped(
            "node_and_its_worker_threads_start_at_the_default_memory_limit",
            "no /usr/bin/node (apt-get install nodejs)",
        );
        return;
    }
    let script = "const { Worker } = require('worker_threads'); let n = 0; \
        for (let i = 0; i < 4; i++) new Worker('require(\"worker_threads\").parentPort.postMessage(1)', { eval: true }) \
        .on('message', () => { if (++n === 4) console.log('workers ok'); });";
    // Control: on the host.
    let host = Command::new(node).args(["-e", script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&host.stdout).trim(), "workers ok", "host control");
    let r = run(&["run", node, "-e", script]);
    assert_eq!((r.code, r.stdout.trim()), (0, "workers ok"), "{}", r.stderr);
}

/// A Python server's thread pool of 64, all alive at once, at the default limit. Under the
/// address-space limit it had (8 MiB stacks against 256 MiB), it failed with `can't start new
/// thread`.
#[test]
fn a_python_thread_pool_of_64_starts_at_the_default_memory_limit() {
    let pool = "import concurrent.futures, threading\nb = threading.Barrier(64, timeout=10)\n\
        def work(i):\n    b.wait()\n    return i\n\
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as ex:\n    print(sum(ex.map(work, range(64))))";
    let host = Command::new("/usr/bin/python3").args(["-c", pool]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&host.stdout).trim(), "2016", "host control");
    let r = python(&[], pool);
    assert_eq!((r.code, r.stdout.trim()), (0, "2016"), "{}", r.stderr);
}

/// A process that really allocates and touches more than `--memory` is killed by the memory
/// cgroup, and the sandbox says it was for memory: exit 137, a `limit.memory` record, one line
/// on stderr. Control: the same program with room succeeds.
#[test]
fn a_tree_past_its_memory_limit_is_killed_and_reported_as_a_memory_kill() {
    if !cgroup_possible("memory") {
        skipped(
            "a_tree_past_its_memory_limit_is_killed_and_reported_as_a_memory_kill",
            "this user cannot make a memory cgroup here (the per-process fallback is checked by a_declared_limit_without_a_memory_cgroup_is_refused_unless_degraded)",
        );
        return;
    }
    let r = allocate(&["--memory", "512MiB"], 200);
    assert_eq!((r.code, r.stdout.trim()), (0, "touched 200"), "control: {}", r.stderr);
    let r = allocate(&["--memory", "128MiB"], 200);
    assert_eq!(r.code, 137, "{} {}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("touched"), "the limit did not hold: {}", r.stdout);
    let limits: Vec<_> = r.events("limit").into_iter().filter(|e| e["capability"] == "limit.memory").collect();
    assert_eq!(limits.len(), 1, "{:?}", r.audit);
    assert!(limits[0]["reason"].as_str().unwrap().contains("memory cgroup"), "{}", limits[0]);
    assert!(r.stderr.contains("reached its memory limit of 128MiB"), "{}", r.stderr);
}

/// A SIGKILL the memory cgroup did not send is not called a memory kill (it was, always, before
/// the sandbox asked the cgroup).
#[test]
fn a_sigkill_not_for_memory_is_not_reported_as_one() {
    let r = run_sh(&[], "kill -9 $$");
    assert_eq!(r.code, 137, "{}", r.stderr);
    assert!(!r.events("limit").iter().any(|e| e["capability"] == "limit.memory"), "{:?}", r.audit);
    assert!(!r.stderr.contains("memory"), "{}", r.stderr);
}

/// Where no memory cgroup can be made (uid 65534 on this host), a declared `--memory` is
/// refused with the missing layer and the fix; followed, the fix holds each process's data at
/// the limit (RLIMIT_DATA): one process cannot hold 150 MiB under 96 MiB, and can under 512.
#[test]
fn a_declared_limit_without_a_memory_cgroup_is_refused_unless_degraded() {
    if cgroup_possible("memory") {
        skipped(
            "a_declared_limit_without_a_memory_cgroup_is_refused_unless_degraded",
            "this user can make a memory cgroup here (./dev test checks this as uid 65534)",
        );
        return;
    }
    let r = allocate(&["--memory", "96MiB"], 150);
    assert_eq!(r.code, 125, "{} {}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("touched"));
    let line = r.stderr.trim();
    assert!(!line.contains('\n') && line.contains("memory cgroup cannot be enforced"), "{line}");
    assert!(line.contains("or pass --allow-degraded"), "{line}");
    // The fix, followed: each process is held.
    let degraded = ["--allow-degraded", "--memory", "96MiB"];
    assert_eq!(limit_inside(&degraded, "Max data size"), ["100663296", "100663296"]);
    let r = allocate(&degraded, 150);
    assert_ne!(r.code, 0, "one process held 150 MiB under 96 MiB: {} {}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("touched") && r.stderr.contains("MemoryError"), "{} {}", r.stdout, r.stderr);
    let degraded_events = r.events("sandbox.degraded");
    assert!(degraded_events.iter().any(|e| e["target"] == "memory cgroup"), "{:?}", r.audit);
    // Control: with room, the same process holds it.
    let r = allocate(&["--allow-degraded", "--memory", "512MiB"], 150);
    assert_eq!((r.code, r.stdout.trim()), (0, "touched 150"), "{}", r.stderr);
}
