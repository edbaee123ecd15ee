//! The few raw operations that need `unsafe`, each with its reason. Everything else uses
//! rustix's safe wrappers.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Takes ownership of a descriptor number handed to this process by its parent.
pub fn take_inherited_fd(fd: RawFd) -> Option<OwnedFd> {
    if fd < 3 || rustix::io::fcntl_getfd(unsafe_borrow(fd)?).is_err() {
        return None;
    }
    // SAFETY: `fd` is open (checked just above), above stdio, and was placed at this number by
    // our own parent (`pass_fd`) for this process alone; nothing else in this process owns it,
    // and it is taken exactly once, at start-up, before any other descriptor is opened.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn unsafe_borrow(fd: RawFd) -> Option<std::os::fd::BorrowedFd<'static>> {
    if fd < 0 {
        return None;
    }
    // SAFETY: only used for the one `fcntl(F_GETFD)` probe above, which is harmless on any
    // number; the borrow does not outlive that call in practice.
    Some(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })
}

/// Arranges for `fd` to appear as descriptor `target` in the child `cmd` starts, and only there.
pub fn pass_fd(cmd: &mut Command, fd: OwnedFd, target: RawFd) {
    use std::os::fd::AsRawFd;
    let raw = fd.as_raw_fd();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: `dup2` and `fcntl` are, and nothing allocates. `fd`
    // is moved into the closure, so it stays open in the parent until the command is dropped.
    // When the descriptor already has the target number, `dup2` would keep its close-on-exec
    // flag, so the flag is cleared instead.
    unsafe {
        cmd.pre_exec(move || {
            let _keep = &fd;
            let r = if raw == target { libc::fcntl(raw, libc::F_SETFD, 0) } else { libc::dup2(raw, target) };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Enters new user, mount, PID, network, IPC, UTS and cgroup namespaces.
pub fn unshare_all() -> std::io::Result<()> {
    use rustix::thread::UnshareFlags as F;
    let flags = F::NEWUSER | F::NEWNS | F::NEWPID | F::NEWNET | F::NEWIPC | F::NEWUTS | F::NEWCGROUP;
    // SAFETY: the danger of unshare is `CLONE_FILES`/`CLONE_FS` splitting state between
    // threads; neither flag is passed, and the caller is the single-threaded init stage.
    unsafe { rustix::thread::unshare_unsafe(flags) }.map_err(Into::into)
}

/// Forks the calling process. Returns `Ok(None)` in the child and `Ok(Some(pid))` in the parent.
///
/// Callers must be single-threaded (the init stage is: it has started no thread, and after
/// unsharing its PID namespace it could not start one), so the child can go on running Rust
/// code. The child keeps the capabilities its parent holds in the new user namespace, which an
/// `exec` as an unprivileged uid would drop before the sandbox is built.
pub fn fork_single_threaded() -> std::io::Result<Option<rustix::process::Pid>> {
    // SAFETY: the process is single-threaded (see above), so no lock or allocator state can be
    // held by another thread at the fork; the child continues with a consistent copy.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        p => Ok(rustix::process::Pid::from_raw(p)),
    }
}
