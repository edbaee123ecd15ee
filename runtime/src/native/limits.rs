//! The native sandbox's resource bounds, as data and pure decisions: how many processes a
//! sandbox may hold, how `--memory` is enforced where a memory cgroup can or cannot be made,
//! and what an exit through SIGKILL means once the memory cgroup has been asked. The executor
//! (`super::run`) feeds them what the host allowed and what the grant asks.

use crate::invoke::Status;
use crate::policy::units::format_size;

/// Processes and threads one sandbox may hold at once: `pids.max` of its pids cgroup where one
/// can be made, and `RLIMIT_NPROC` always (counted per sandbox: per user namespace and uid).
/// Threads count as processes here, and runtimes size their pools by the host's cores or by
/// the program: a tokio runtime's workers (and a blocking pool of up to 512), the JVM's GC and
/// compiler threads, Go's, node's libuv pool and V8 workers, a Python thread pool of 64. An
/// ordinary server holds tens to a few hundred on a large host; 1024 leaves room for one that
/// starts a few such children, and still stops a fork bomb long before the host's own limit.
pub const PROCESS_LIMIT: u64 = 1024;

/// Without a memory cgroup, and when no memory limit was declared (`--memory`, a policy
/// file's `memory`), each process's data (`RLIMIT_DATA`) is held at this, not at the default
/// 256 MiB: that default bounds a whole tree, and RLIMIT_DATA counts what a process maps
/// writable, not what it uses: every thread's stack counts whole (8 MiB each under the usual
/// `ulimit -s`), so a Python pool of 64 threads needs about 560 MiB of it before it touches any.
pub const UNDECLARED_DATA_LIMIT: u64 = 1 << 30;

/// CPU time (`RLIMIT_CPU`, counted over all of a process's threads) each process may use: a
/// backstop to the wall-clock limit, which the supervisor enforces, never tighter than it. One
/// second past the wall clock for each core the host has, so that a tool busy on every core
/// (V8's and the JVM's parallel collectors, a Python process pool) is stopped by the wall
/// clock (exit 124), not killed early by this (it would read as a SIGKILL, 137).
pub fn cpu_seconds(timeout: std::time::Duration, cores: usize) -> u64 {
    let cores = u64::try_from(cores.max(1)).unwrap_or(u64::MAX);
    (timeout.as_secs().max(1) + 1).saturating_mul(cores)
}

/// How the memory limit holds for one sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBound {
    /// The sandbox's memory cgroup holds the whole process tree at the limit (what it uses:
    /// pages touched, page cache, kernel memory; no swap). No per-process cap: an
    /// address-space limit (`RLIMIT_AS`) breaks every runtime that reserves large virtual
    /// ranges it never touches (V8, Go, the JVM, wasmtime).
    Tree,
    /// No memory cgroup: each process's data is held at this many bytes (`RLIMIT_DATA`: its
    /// heap and private writable mappings, thread stacks included; not `PROT_NONE`
    /// reservations, so V8, Go, the JVM and wasmtime start). Beyond it allocations fail
    /// (`malloc` returns NULL, `MemoryError`, V8's fatal OOM); nothing is killed.
    PerProcess(u64),
}

/// Why a sandbox runs with [`MemoryBound::PerProcess`]; audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// A declared limit, with `--allow-degraded`: a `sandbox.degraded` record (and stderr).
    Degraded(String),
    /// No limit declared: the documented fallback, recorded in the audit log only.
    Undeclared(String),
}

/// How `limit` bytes are enforced. `no_cgroup` says why no memory cgroup could be made (`None`:
/// one holds the tree). A limit the caller declared is never silently weakened: without a
/// cgroup it is refused (one line naming the missing layer and both fixes) unless
/// `allow_degraded`; the default limit falls back to [`UNDECLARED_DATA_LIMIT`] per process, so
/// that an unprivileged user's ordinary `run` and `proxy` work where no cgroup can be made.
pub fn memory_bound(
    limit: u64,
    declared: bool,
    allow_degraded: bool,
    no_cgroup: Option<&str>,
) -> Result<(MemoryBound, Option<Fallback>), String> {
    let Some(why) = no_cgroup else {
        return Ok((MemoryBound::Tree, None));
    };
    let size = format_size(limit);
    if !declared {
        let per = limit.max(UNDECLARED_DATA_LIMIT);
        let note = format!(
            "no memory cgroup ({why}): the default limit holds each process's data at {} (RLIMIT_DATA), not the tree at {size}",
            format_size(per)
        );
        return Ok((MemoryBound::PerProcess(per), Some(Fallback::Undeclared(note))));
    }
    if allow_degraded {
        let note = format!("{why}; each process's data is held at {size} (RLIMIT_DATA), not the process tree");
        return Ok((MemoryBound::PerProcess(limit), Some(Fallback::Degraded(note))));
    }
    Err(format!(
        "memory cgroup cannot be enforced: {why}; the memory limit of {size} needs one over the whole process tree: \
         run mcp-sandbox as root, or pass --allow-degraded to hold each process's data at {size} instead (RLIMIT_DATA)"
    ))
}

/// What one sandbox's ending means: `code` as PID 1 reported it (128 + N for a signal),
/// `oom_kills` the memory cgroup's count of processes it killed (`None` without one). Returns
/// the status and, when the memory cgroup killed something, the reason for a `limit.memory`
/// record. A SIGKILL the cgroup did not count is not called a memory kill: the tool, one of its
/// processes or, without a memory cgroup, the host's own OOM killer sent it.
pub fn ending(code: i32, oom_kills: Option<u64>, limit: u64) -> (Status, Option<String>) {
    let size = format_size(limit);
    match oom_kills {
        Some(n) if n > 0 && code == 128 + libc::SIGKILL => {
            let why = format!(
                "killed by the kernel: the process tree reached its memory limit of {size} (the memory cgroup)"
            );
            (Status::MemoryExceeded(why.clone()), Some(why))
        }
        Some(n) if n > 0 => {
            let why = format!(
                "{n} of the tool's processes killed by the kernel at the memory limit of {size} (the memory cgroup); \
                 the tool went on and ended with status {code}"
            );
            (Status::Exited(code), Some(why))
        }
        _ => (Status::Exited(code), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_memory_cgroup_bounds_the_tree_and_nothing_per_process() {
        for (declared, degraded) in [(false, false), (true, false), (true, true)] {
            assert_eq!(memory_bound(256 * MIB, declared, degraded, None), Ok((MemoryBound::Tree, None)));
        }
    }

    #[test]
    fn a_declared_limit_without_a_cgroup_is_refused_unless_degraded() {
        let e = memory_bound(512 * MIB, true, false, Some("EACCES")).unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with("memory cgroup cannot be enforced: EACCES;"), "{e}");
        assert!(e.contains("--allow-degraded") && e.contains("512MiB") && e.contains("root"), "{e}");
        let (bound, note) = memory_bound(512 * MIB, true, true, Some("EACCES")).unwrap();
        assert_eq!(bound, MemoryBound::PerProcess(512 * MIB));
        assert!(matches!(note, Some(Fallback::Degraded(n)) if n.contains("RLIMIT_DATA")));
    }

    #[test]
    fn the_default_limit_without_a_cgroup_falls_back_per_process() {
        let (bound, note) = memory_bound(256 * MIB, false, false, Some("EACCES")).unwrap();
        assert_eq!(bound, MemoryBound::PerProcess(UNDECLARED_DATA_LIMIT));
        assert!(matches!(note, Some(Fallback::Undeclared(n)) if n.contains("EACCES") && n.contains("1GiB")));
        // A larger default (a library's own limits) is kept.
        assert_eq!(memory_bound(4 << 30, false, false, Some("x")).unwrap().0, MemoryBound::PerProcess(4 << 30));
    }

    #[test]
    fn the_cpu_limit_stays_behind_the_wall_clock_on_every_core() {
        let thirty = std::time::Duration::from_secs(30);
        assert_eq!(cpu_seconds(thirty, 1), 31);
        assert_eq!(cpu_seconds(thirty, 8), 248);
        assert_eq!(cpu_seconds(std::time::Duration::from_millis(10), 0), 2);
        assert_eq!(cpu_seconds(crate::policy::units::MAX_TIMEOUT, usize::MAX), u64::MAX);
    }

    #[test]
    fn only_a_kill_the_memory_cgroup_counted_is_a_memory_kill() {
        let (s, why) = ending(137, Some(1), 96 * MIB);
        assert!(matches!(&s, Status::MemoryExceeded(m) if m.contains("96MiB")), "{s:?}");
        assert_eq!(s.exit_code(), 137);
        assert!(why.is_some());
        // Another SIGKILL, with a cgroup that counted none, or without a cgroup.
        assert_eq!(ending(137, Some(0), 96 * MIB), (Status::Exited(137), None));
        assert_eq!(ending(137, None, 96 * MIB), (Status::Exited(137), None));
        // A child killed for memory while the tool went on: audited, the tool's status kept.
        let (s, why) = ending(1, Some(2), 96 * MIB);
        assert_eq!(s, Status::Exited(1));
        assert!(why.is_some_and(|w| w.starts_with("2 of the tool's processes")));
        assert_eq!(ending(0, None, MIB), (Status::Exited(0), None));
    }
}
