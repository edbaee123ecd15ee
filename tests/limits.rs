//! Resource limits: wall clock (124) and memory (137), each with a control that the same
//! tool runs to completion within a limit it does not exceed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::time::Duration;
use support::*;

/// Longer than any run here should take: past it the run is killed and the test fails.
const WATCHDOG: Duration = Duration::from_secs(30);

fn timed(args: &[&str]) -> (Run, Duration) {
    run_watched(args, b"", &[], Some(WATCHDOG))
}

#[test]
fn spin_is_stopped_by_the_wall_clock_limit() {
    let pol = policy("spin");
    // spin never ends by itself: only the limit (2 s in its policy) can stop it, and the wall
    // clock says which limit did.
    let (r, took) = timed(&["run", "--policy", s(&pol), s(&tool("spin"))]);
    assert_eq!(r.code, 124, "{}", r.stderr);
    assert!(r.stderr.contains("tool stopped after 2s"), "{}", r.stderr);
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(4), "stopped after {took:?}");
    let limit = r.events("limit");
    assert_eq!(limit[0]["capability"], "limit.time");
    assert_eq!(r.events("grant.revoked")[0]["reason"], "timeout");
    // A flag overrides the file: stopped after 1 s, well before the file's 2 s.
    let (r, took) = timed(&["run", "--timeout", "1s", "--policy", s(&pol), s(&tool("spin"))]);
    assert_eq!(r.code, 124, "{}", r.stderr);
    assert!(r.stderr.contains("tool stopped after 1s"), "{}", r.stderr);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(2), "stopped after {took:?}");
    // Control: a tool that finishes in time exits normally.
    let r = run_with_stdin(&["run", "--policy", s(&pol), s(&tool("echo-json"))], b"{}");
    assert_eq!(r.code, 0);
}

#[test]
fn balloon_is_stopped_by_the_memory_limit() {
    let pol = policy("balloon");
    let r = run(&["run", "--policy", s(&pol), s(&tool("balloon")), "--", "200"]);
    assert_eq!(r.code, 137, "{}", r.stderr);
    assert!(!r.stdout.contains("allocated 200 MiB"));
    assert_eq!(r.events("limit")[0]["capability"], "limit.memory");
    // Positive control: with room for it, the same allocation completes.
    let r = run(&["run", "--memory", "512MiB", s(&tool("balloon")), "--", "200"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("allocated 200 MiB"));
}
