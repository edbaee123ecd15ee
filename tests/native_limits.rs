//! The native sandbox's resource limits, each observed on its own: where two caps bound the
//! same thing (the pids cgroup and `RLIMIT_NPROC`; the memory cgroup and `RLIMIT_AS`), either
//! would hide the other's removal from a test of the effect alone. A check that needs a cgroup
//! this user cannot make says SKIPPED (see `support::skipped`).
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
/// one can be made) both hold the runtime's `PROCESS_LIMIT`, this number. Each cap would hide
/// the other's removal from the fork bomb, so each is also checked alone below.
const PROCESS_LIMIT: u64 = 256;

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
    let r = python(&["--timeout", "20s"], &fork_bomb(tries));
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
            "this user cannot make a memory cgroup here: only the per-process limit applies (checked by each_process_is_held_to_the_memory_limit)",
        );
        return;
    }
    // Three processes at once, each under the per-process limit, 150 MB together. Each
    // pipeline's reader takes the first byte (so its `tail` holds all 50 MiB), then waits until
    // all three got that far (or saw their `tail` die), and prints how many bytes it got.
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

/// The documented fallback, in force with or without a cgroup: RLIMIT_AS bounds each process.
/// Where a memory cgroup applies too it would stop the one process as well, so the limit the
/// tool's processes hold is read first.
#[test]
fn each_process_is_held_to_the_memory_limit() {
    let r = run_sh(&["--memory", "96MiB"], "grep '^Max address space' /proc/self/limits");
    let fields: Vec<&str> = r.stdout.split_whitespace().collect();
    assert_eq!(fields.get(3..5), Some(&["100663296", "100663296"][..]), "soft and hard: {}{}", r.stdout, r.stderr);
    let one = "head -c 150M /dev/zero | tail -c 150M | wc -c";
    // Positive control: with room, the one process holds its 150 MiB.
    let r = run_sh(&["--memory", "512MiB"], one);
    assert_eq!(r.stdout.trim(), "157286400", "{}", r.stderr);
    let r = run_sh(&["--memory", "96MiB"], one);
    assert_ne!(r.stdout.trim(), "157286400", "a 96 MiB sandbox let one process hold 150 MiB: {}", r.stderr);
}
