//! The tables' own checks (the compiled filters are checked in `compile` and `bpf`).

use super::*;

#[test]
fn never_and_allowed_do_not_overlap_and_entries_are_unique() {
    let allowed: std::collections::HashSet<i64> = ALLOWED.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(allowed.len(), ALLOWED.len(), "duplicate entry");
    for (nr, why) in NEVER {
        assert!(!allowed.contains(nr), "syscall {nr} ({why}) must never be allowed");
    }
    assert!(ALLOWED.iter().all(|(_, _, why)| !why.is_empty()));
}

#[test]
fn refusals_say_why_and_which_errno() {
    let setuid = refusal(c::SYS_fchmodat, &[c::AT_FDCWD as u64, 0x1000, 0o104755, 0, 0, 0]);
    assert_eq!(setuid.errno, c::EPERM);
    assert!(
        setuid.reason.starts_with("setuid/setgid bits are never allowed") && setuid.reason.ends_with("(mode 4755)")
    );
    let created = refusal(c::SYS_openat, &[0, 0, c::O_CREAT as u64, 0o2700, 0, 0]);
    assert!(created.reason.contains("setuid/setgid") && created.reason.ends_with("(mode 2700)"), "{created:?}");
    let memfd = refusal(c::SYS_memfd_create, &[0; 6]);
    assert_eq!(memfd.errno, c::ENOSYS);
    assert!(memfd.reason.contains("MFD_NOEXEC_SEAL"));
    assert!(refusal(c::SYS_socket, &[c::AF_INET as u64, 1, 262, 0, 0, 0]).reason.contains("MPTCP"));
    assert_eq!(
        refusal(c::SYS_ptrace, &[0; 6]).reason,
        format!("never allowed: {}", never_reason(c::SYS_ptrace).unwrap())
    );
    assert_eq!(refusal(c::SYS_lookup_dcookie + 1000, &[0; 6]).reason, NOT_ALLOWED);
}

#[test]
fn mode_checks_point_at_the_mode_argument() {
    // (syscall, index of the mode argument): as the kernel's prototypes have it.
    let expected = [
        (c::SYS_chmod, 1),
        (c::SYS_fchmod, 1),
        (c::SYS_fchmodat, 2),
        (c::SYS_fchmodat2, 2),
        (c::SYS_creat, 1),
        (c::SYS_open, 2),
        (c::SYS_openat, 3),
    ];
    for (nr, at) in expected {
        let how = ALLOWED.iter().find(|(n, _, _)| *n == nr).map(|(_, how, _)| *how);
        let mode = match how {
            Some(ModeWithoutSetId(m) | CreateWithoutSetId { mode: m, .. }) => m,
            other => panic!("syscall {nr} is {other:?}, not mode-checked"),
        };
        assert_eq!(mode, at, "syscall {nr}");
    }
}
