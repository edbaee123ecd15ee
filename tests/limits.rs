//! Resource limits: wall clock (124) and memory (137), each with a control that the same
//! tool runs to completion within a limit it does not exceed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

#[test]
fn spin_is_stopped_by_the_wall_clock_limit() {
    let pol = policy("spin");
    let r = run(&["run", "--policy", s(&pol), s(&tool("spin"))]);
    assert_eq!(r.code, 124, "{}", r.stderr);
    assert!(r.stderr.contains("tool stopped after 2s"), "{}", r.stderr);
    let limit = r.events("limit");
    assert_eq!(limit[0]["capability"], "limit.time");
    assert_eq!(r.events("grant.revoked")[0]["reason"], "timeout");
    // Control: a flag overrides the file, and a tool that finishes in time exits normally.
    let r = run(&["run", "--timeout", "1s", "--policy", s(&pol), s(&tool("spin"))]);
    assert!(r.stderr.contains("tool stopped after 1s"), "{}", r.stderr);
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
