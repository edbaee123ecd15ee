//! What the kernel refuses a native tool is in the audit log too: a connection that no relay
//! serves (Landlock or the empty namespace refuses it) and a system call outside the seccomp
//! allowlist. Judged first by side effects (what a listener received, what the call returned),
//! then by the log, with the declared connection as the positive control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

#[test]
fn kernel_refusals_are_audited_with_the_invocation() {
    let declared = TcpSink::start("127.0.0.1");
    let other = TcpSink::start("127.0.0.1");
    let script = format!(
        "echo declared > /dev/tcp/127.0.0.1/{}; echo other > /dev/tcp/127.0.0.1/{}; echo far > /dev/tcp/10.9.8.7/{}; \
         python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.syscall(101, 0, 0, 0, 0), ctypes.get_errno())'",
        declared.addr.port(),
        other.addr.port(),
        declared.addr.port()
    );
    let r = run(&["run", "--allow-net", &declared.addr.to_string(), "/bin/bash", "--", "-c", &script]);
    // Side effects: the declared endpoint got its line (positive control), the other nothing;
    // ptrace failed with EPERM (1) rather than hanging or succeeding.
    assert!(declared.received().contains("declared"), "{}", r.stderr);
    assert!(other.received().is_empty());
    assert_eq!(r.stdout.trim(), "-1 1", "{}", r.stderr);

    let invocation = r.events("grant.issued")[0]["invocation"].clone();
    let targets: Vec<String> =
        r.denials("net.connect").iter().map(|e| e["target"].as_str().unwrap().to_string()).collect();
    assert!(targets.contains(&format!("127.0.0.1:{}", other.addr.port())), "{targets:?}");
    assert!(targets.contains(&format!("10.9.8.7:{}", declared.addr.port())), "{targets:?}");
    assert!(!targets.iter().any(|t| t.ends_with(&format!("127.0.0.1:{}", declared.addr.port()))), "{targets:?}");
    let syscalls = r.denials("syscall");
    assert_eq!(syscalls.len(), 1, "{:?}", r.audit);
    assert_eq!(syscalls[0]["target"], "101");
    assert!(r.audit.iter().filter(|e| e["event"] == "deny").all(|e| e["invocation"] == invocation));
    // The one-line report names the fix.
    assert!(r.stderr.contains(&format!("--allow-net 127.0.0.1:{}", other.addr.port())), "{}", r.stderr);
}

#[test]
fn a_flood_of_refusals_is_recorded_up_to_a_cap() {
    let code =
        "import ctypes\nl = ctypes.CDLL(None)\nfor i in range(200):\n    l.syscall(101, 0, 0, 0, 0)\nprint('done')";
    let r = run(&["run", "/usr/bin/python3", "--", "-c", code]);
    assert_eq!((r.code, r.stdout.trim()), (0, "done"), "{}", r.stderr);
    let syscalls = r.denials("syscall");
    assert_eq!(syscalls.len(), 65, "64 records and one saying the rest are not recorded");
    assert!(syscalls[64]["reason"].as_str().unwrap().contains("not recorded"));
}
