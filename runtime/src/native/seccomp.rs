//! The seccomp-bpf policy for native tools: an allowlist with a deny default, in the spirit of
//! Docker's default profile, broad enough for Python, Node, Go and shell tools. A denied call
//! is handed to the supervisor (`SECCOMP_RET_USER_NOTIF`), which audits it, with the reason
//! its kind carries here, and fails it (EPERM, or ENOSYS where a program should fall back;
//! `super::notify`); so are `sendto` with an address, which the supervisor audits when it
//! leads nowhere the sandbox provides and then lets the kernel decide (the namespace's routes
//! enforce), and `connect`, which the supervisor makes itself (`super::connect`).
//! Policy is data: every entry carries a one-line reason. Two filters are installed (compiled
//! in [`compile`]): a small one that answers the [`Enosys`] entries with ENOSYS (their
//! arguments sit behind a pointer, so they cannot be inspected; libc then falls back to a call
//! whose arguments can be), and the allowlist.
//!
//! Files: no call may give a file setuid or setgid bits ([`ModeWithoutSetId`],
//! [`CreateWithoutSetId`]). A writable grant shows the invoking user's files as the tool's
//! (`super::identity`), so such a file would run as that user, root included, for anyone on
//! the host who can reach it; `nosuid` protects only the sandbox's own view. No call may make
//! an executable memory file either ([`MemfdNoExecSeal`]): the kernel would run it without any
//! exec grant (Landlock does not see memfds, and their mount is not `noexec`).
//!
//! Only the native ABI is allowed: the filter checks the architecture (x32 and ia32 calls use
//! other numbers or another audit arch, and match nothing here).

use libc as c;

mod compile;
pub mod observe;
#[cfg(test)]
pub(crate) use compile::allow_rules;
pub use compile::{compile, compile_for};

/// How a syscall is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// Any arguments.
    Always,
    /// `clone` without namespace-creating flags.
    CloneWithoutNamespaces,
    /// `socket`: AF_UNIX stream and seqpacket sockets (never datagram: `sendmsg` could aim one
    /// at a host daemon's socket file, by a name behind a pointer); AF_INET/AF_INET6 stream
    /// sockets with protocol 0 or TCP, datagram sockets with protocol 0 or UDP (no raw, packet,
    /// netlink, MPTCP, UDP-Lite, SCTP…).
    InetOrUnixSocket,
    /// `socketpair`: AF_UNIX stream and seqpacket only (a datagram pair could `sendmsg` to any
    /// socket file, as above).
    UnixSocketPair,
    /// `ioctl` except TIOCSTI and TIOCLINUX (terminal input injection).
    IoctlExceptTerminalInjection,
    /// The mode in argument `.0` has no setuid or setgid bit (the `chmod` family).
    ModeWithoutSetId(u8),
    /// When the flags in argument `flags` create a file (`O_CREAT`, `O_TMPFILE`), the mode in
    /// argument `mode` has no setuid or setgid bit (the kernel ignores the mode otherwise).
    CreateWithoutSetId { flags: u8, mode: u8 },
    /// `memfd_create` only with `MFD_NOEXEC_SEAL` (never executable, and sealed so); without
    /// it, answered ENOSYS, as a kernel without memfds would, so that programs fall back.
    MemfdNoExecSeal,
    /// Answered ENOSYS by the first filter and never let through: the argument that matters
    /// sits behind a pointer, so libc falls back to a call whose arguments can be checked.
    Enosys,
    /// `sendto` without a destination address (connected sockets); with one, it is audited
    /// like [`Audited`].
    WithoutAddress,
    /// Handed to the supervisor, which audits where it goes, then lets it proceed: the
    /// kernel's other layers decide.
    Audited,
}

use Allow::*;

/// The reason recorded for a call the allowlist does not know at all.
pub const NOT_ALLOWED: &str = "not in the sandbox's seccomp allowlist";
/// The reason recorded for a mode with setuid or setgid bits.
pub const SETID: &str = "setuid/setgid bits are never allowed: the file would keep them on the host, \
                         where it runs as its owner for anyone who can reach it";

impl Allow {
    /// What a call of this kind gets when its arguments do not pass: the errno and the reason
    /// the audit log records.
    pub fn refusal(self) -> (i32, &'static str) {
        match self {
            CloneWithoutNamespaces => (c::EPERM, "new namespaces are never allowed"),
            InetOrUnixSocket => (
                c::EPERM,
                "only unix stream and seqpacket sockets, and TCP or UDP sockets over IPv4 or IPv6, are allowed \
                 (no unix datagram, raw, packet, netlink, MPTCP, UDP-Lite or other protocol)",
            ),
            UnixSocketPair => (c::EPERM, "only unix stream and seqpacket socket pairs are allowed (no datagram pairs)"),
            IoctlExceptTerminalInjection => {
                (c::EPERM, "terminal input injection (TIOCSTI, TIOCLINUX) is never allowed")
            }
            ModeWithoutSetId(_) | CreateWithoutSetId { .. } => (c::EPERM, SETID),
            MemfdNoExecSeal => (
                c::ENOSYS,
                "memfd_create without MFD_NOEXEC_SEAL: the kernel would execute its file, outside every \
                 exec grant (answered ENOSYS, so that programs fall back)",
            ),
            Always | Enosys | WithoutAddress | Audited => (c::EPERM, NOT_ALLOWED),
        }
    }
}

/// `(syscall, how, reason)`.
#[cfg(target_arch = "x86_64")]
pub const ALLOWED: &[(i64, Allow, &str)] = &[
    // Files and descriptors (what may be opened is Landlock's and the mount namespace's job).
    (c::SYS_read, Always, "read from a descriptor"),
    (c::SYS_write, Always, "write to a descriptor"),
    (c::SYS_readv, Always, "vectored read"),
    (c::SYS_writev, Always, "vectored write"),
    (c::SYS_pread64, Always, "positional read"),
    (c::SYS_pwrite64, Always, "positional write"),
    (c::SYS_preadv, Always, "positional vectored read"),
    (c::SYS_pwritev, Always, "positional vectored write"),
    (c::SYS_preadv2, Always, "positional vectored read with flags"),
    (c::SYS_pwritev2, Always, "positional vectored write with flags"),
    (c::SYS_open, CreateWithoutSetId { flags: 1, mode: 2 }, "open or create a file (legacy)"),
    (c::SYS_openat, CreateWithoutSetId { flags: 2, mode: 3 }, "open or create a file"),
    (c::SYS_openat2, Enosys, "open with resolve flags: its mode sits behind a pointer (libc falls back to openat)"),
    (c::SYS_creat, ModeWithoutSetId(1), "create a file (legacy)"),
    (c::SYS_close, Always, "close a descriptor"),
    (c::SYS_close_range, Always, "close many descriptors"),
    (c::SYS_lseek, Always, "seek"),
    (c::SYS_stat, Always, "file status (legacy)"),
    (c::SYS_fstat, Always, "file status of a descriptor"),
    (c::SYS_lstat, Always, "link status (legacy)"),
    (c::SYS_newfstatat, Always, "file status"),
    (c::SYS_statx, Always, "extended file status"),
    (c::SYS_statfs, Always, "filesystem status"),
    (c::SYS_fstatfs, Always, "filesystem status of a descriptor"),
    (c::SYS_access, Always, "check access (legacy)"),
    (c::SYS_faccessat, Always, "check access"),
    (c::SYS_faccessat2, Always, "check access with flags"),
    (c::SYS_readlink, Always, "read a symlink (legacy)"),
    (c::SYS_readlinkat, Always, "read a symlink"),
    (c::SYS_getdents, Always, "list a directory (legacy)"),
    (c::SYS_getdents64, Always, "list a directory"),
    (c::SYS_getcwd, Always, "current directory"),
    (c::SYS_chdir, Always, "change directory"),
    (c::SYS_fchdir, Always, "change directory by descriptor"),
    (c::SYS_mkdir, Always, "make a directory (legacy; the kernel drops setuid/setgid from its mode)"),
    (c::SYS_mkdirat, Always, "make a directory (the kernel drops setuid/setgid from its mode)"),
    (c::SYS_rmdir, Always, "remove a directory"),
    (c::SYS_rename, Always, "rename (legacy)"),
    (c::SYS_renameat, Always, "rename"),
    (c::SYS_renameat2, Always, "rename with flags"),
    (c::SYS_unlink, Always, "remove a file (legacy)"),
    (c::SYS_unlinkat, Always, "remove a file"),
    (c::SYS_link, Always, "hard link (legacy; within one mount only, so never to a system program)"),
    (c::SYS_linkat, Always, "hard link (within one mount only: across mounts the kernel answers EXDEV)"),
    (c::SYS_symlink, Always, "symlink (legacy)"),
    (c::SYS_symlinkat, Always, "symlink"),
    (c::SYS_chmod, ModeWithoutSetId(1), "change mode (legacy)"),
    (c::SYS_fchmod, ModeWithoutSetId(1), "change mode by descriptor"),
    (c::SYS_fchmodat, ModeWithoutSetId(2), "change mode"),
    (c::SYS_fchmodat2, ModeWithoutSetId(2), "change mode with flags (glibc's lchmod)"),
    (c::SYS_chown, Always, "change owner (no capabilities: own files only)"),
    (c::SYS_fchown, Always, "change owner by descriptor"),
    (c::SYS_lchown, Always, "change owner of a link"),
    (c::SYS_fchownat, Always, "change owner"),
    (c::SYS_truncate, Always, "truncate a file"),
    (c::SYS_ftruncate, Always, "truncate by descriptor"),
    (c::SYS_fallocate, Always, "preallocate file space"),
    (c::SYS_fsync, Always, "flush a file"),
    (c::SYS_fdatasync, Always, "flush file data"),
    (c::SYS_sync_file_range, Always, "flush part of a file"),
    (c::SYS_flock, Always, "advisory lock"),
    (c::SYS_fcntl, Always, "descriptor control"),
    (c::SYS_dup, Always, "duplicate a descriptor"),
    (c::SYS_dup2, Always, "duplicate a descriptor"),
    (c::SYS_dup3, Always, "duplicate a descriptor with flags"),
    (c::SYS_pipe, Always, "pipe (legacy)"),
    (c::SYS_pipe2, Always, "pipe"),
    (c::SYS_utime, Always, "set times (legacy)"),
    (c::SYS_utimes, Always, "set times (legacy)"),
    (c::SYS_utimensat, Always, "set times"),
    (c::SYS_futimesat, Always, "set times (legacy)"),
    (c::SYS_umask, Always, "file creation mask"),
    (c::SYS_sendfile, Always, "copy between descriptors"),
    (c::SYS_splice, Always, "move data through a pipe"),
    (c::SYS_tee, Always, "duplicate pipe data"),
    (c::SYS_copy_file_range, Always, "copy between files"),
    (c::SYS_fadvise64, Always, "access pattern hint"),
    (c::SYS_readahead, Always, "read-ahead hint"),
    (c::SYS_getxattr, Always, "read an extended attribute"),
    (c::SYS_lgetxattr, Always, "read an extended attribute of a link"),
    (c::SYS_fgetxattr, Always, "read an extended attribute by descriptor"),
    (c::SYS_listxattr, Always, "list extended attributes"),
    (c::SYS_llistxattr, Always, "list extended attributes of a link"),
    (c::SYS_flistxattr, Always, "list extended attributes by descriptor"),
    (c::SYS_setxattr, Always, "set an extended attribute (security.capability needs CAP_SETFCAP: none here)"),
    (c::SYS_lsetxattr, Always, "set an extended attribute of a link"),
    (c::SYS_fsetxattr, Always, "set an extended attribute by descriptor"),
    (c::SYS_removexattr, Always, "remove an extended attribute"),
    (c::SYS_lremovexattr, Always, "remove an extended attribute of a link"),
    (c::SYS_fremovexattr, Always, "remove an extended attribute by descriptor"),
    (c::SYS_inotify_init, Always, "watch files (legacy)"),
    (c::SYS_inotify_init1, Always, "watch files"),
    (c::SYS_inotify_add_watch, Always, "watch a file"),
    (c::SYS_inotify_rm_watch, Always, "stop watching a file"),
    (c::SYS_memfd_create, MemfdNoExecSeal, "anonymous memory file, never executable"),
    // Memory.
    (c::SYS_brk, Always, "grow the heap"),
    (c::SYS_mmap, Always, "map memory"),
    (c::SYS_munmap, Always, "unmap memory"),
    (c::SYS_mremap, Always, "remap memory"),
    (c::SYS_mprotect, Always, "change memory protection (JITs)"),
    (c::SYS_madvise, Always, "memory advice"),
    (c::SYS_msync, Always, "flush mapped memory"),
    (c::SYS_mincore, Always, "page residency"),
    (c::SYS_mlock, Always, "lock memory (bounded by RLIMIT_MEMLOCK)"),
    (c::SYS_mlock2, Always, "lock memory"),
    (c::SYS_munlock, Always, "unlock memory"),
    (c::SYS_munlockall, Always, "unlock all memory"),
    (c::SYS_membarrier, Always, "memory barrier across threads (runtimes)"),
    (c::SYS_pkey_alloc, Always, "memory protection key"),
    (c::SYS_pkey_free, Always, "memory protection key"),
    (c::SYS_pkey_mprotect, Always, "memory protection with a key"),
    // Processes and threads (inside their own PID namespace).
    (c::SYS_clone, CloneWithoutNamespaces, "threads and processes, never new namespaces"),
    (c::SYS_clone3, Enosys, "threads and processes: its flags sit behind a pointer (libc falls back to clone)"),
    (c::SYS_fork, Always, "new process (legacy)"),
    (c::SYS_vfork, Always, "new process sharing memory (posix_spawn)"),
    (c::SYS_execve, Always, "run a program (what it may run is Landlock's job)"),
    (c::SYS_execveat, Always, "run a program by descriptor (noexec mounts and Landlock decide, as for execve)"),
    (c::SYS_exit, Always, "end a thread"),
    (c::SYS_exit_group, Always, "end the process"),
    (c::SYS_wait4, Always, "wait for a child"),
    (c::SYS_waitid, Always, "wait for a child"),
    (c::SYS_kill, Always, "signal a process (Landlock scopes signals to the sandbox)"),
    (c::SYS_tkill, Always, "signal a thread"),
    (c::SYS_tgkill, Always, "signal a thread"),
    (c::SYS_getpid, Always, "own process id"),
    (c::SYS_getppid, Always, "parent process id"),
    (c::SYS_gettid, Always, "own thread id"),
    (c::SYS_getuid, Always, "user id"),
    (c::SYS_geteuid, Always, "effective user id"),
    (c::SYS_getgid, Always, "group id"),
    (c::SYS_getegid, Always, "effective group id"),
    (c::SYS_getgroups, Always, "supplementary groups"),
    (c::SYS_getresuid, Always, "user ids"),
    (c::SYS_getresgid, Always, "group ids"),
    (c::SYS_setuid, Always, "no capabilities: can only drop"),
    (c::SYS_setgid, Always, "no capabilities: can only drop"),
    (c::SYS_setreuid, Always, "no capabilities: can only drop"),
    (c::SYS_setregid, Always, "no capabilities: can only drop"),
    (c::SYS_setresuid, Always, "no capabilities: can only drop"),
    (c::SYS_setresgid, Always, "no capabilities: can only drop"),
    (c::SYS_getpgid, Always, "process group"),
    (c::SYS_setpgid, Always, "process group (shells)"),
    (c::SYS_getpgrp, Always, "process group"),
    (c::SYS_getsid, Always, "session"),
    (c::SYS_setsid, Always, "new session (daemons die with the PID namespace anyway)"),
    (c::SYS_prctl, Always, "process settings (seccomp can only be narrowed)"),
    (c::SYS_arch_prctl, Always, "thread-local storage setup"),
    (c::SYS_set_tid_address, Always, "thread start-up"),
    (c::SYS_set_robust_list, Always, "thread start-up"),
    (c::SYS_get_robust_list, Always, "thread state"),
    (c::SYS_rseq, Always, "restartable sequences (glibc)"),
    (c::SYS_futex, Always, "thread synchronisation"),
    (c::SYS_futex_waitv, Always, "thread synchronisation"),
    (c::SYS_sched_yield, Always, "yield the CPU"),
    (c::SYS_sched_getaffinity, Always, "CPU affinity (runtimes size thread pools)"),
    (c::SYS_sched_setaffinity, Always, "CPU affinity"),
    (c::SYS_sched_getparam, Always, "scheduling parameters"),
    (c::SYS_sched_setparam, Always, "scheduling parameters"),
    (c::SYS_sched_getscheduler, Always, "scheduling policy"),
    (c::SYS_sched_setscheduler, Always, "scheduling policy (no capabilities: normal only)"),
    (c::SYS_sched_get_priority_max, Always, "scheduling range"),
    (c::SYS_sched_get_priority_min, Always, "scheduling range"),
    (c::SYS_getpriority, Always, "nice value"),
    (c::SYS_setpriority, Always, "nice value (can only lower priority)"),
    (c::SYS_getrlimit, Always, "resource limits"),
    (c::SYS_setrlimit, Always, "resource limits (can only lower)"),
    (c::SYS_prlimit64, Always, "resource limits"),
    (c::SYS_getrusage, Always, "resource usage"),
    (c::SYS_times, Always, "process times"),
    (c::SYS_capget, Always, "capabilities (there are none)"),
    (c::SYS_capset, Always, "capabilities (can only drop)"),
    (c::SYS_uname, Always, "system name"),
    (c::SYS_sysinfo, Always, "memory and uptime (runtimes)"),
    (c::SYS_getrandom, Always, "random bytes"),
    (c::SYS_getcpu, Always, "current CPU"),
    (c::SYS_pidfd_open, Always, "process descriptor of a child"),
    (c::SYS_pidfd_send_signal, Always, "signal by process descriptor (scoped)"),
    // Signals.
    (c::SYS_rt_sigaction, Always, "signal handlers"),
    (c::SYS_rt_sigprocmask, Always, "signal mask"),
    (c::SYS_rt_sigreturn, Always, "return from a handler"),
    (c::SYS_rt_sigsuspend, Always, "wait for a signal"),
    (c::SYS_rt_sigpending, Always, "pending signals"),
    (c::SYS_rt_sigtimedwait, Always, "wait for a signal"),
    (c::SYS_rt_sigqueueinfo, Always, "queue a signal"),
    (c::SYS_rt_tgsigqueueinfo, Always, "queue a signal to a thread"),
    (c::SYS_sigaltstack, Always, "alternate signal stack (Go, Rust)"),
    (c::SYS_pause, Always, "wait for a signal"),
    (c::SYS_alarm, Always, "timer signal"),
    (c::SYS_signalfd, Always, "signals as a descriptor"),
    (c::SYS_signalfd4, Always, "signals as a descriptor"),
    // Time.
    (c::SYS_clock_gettime, Always, "read a clock"),
    (c::SYS_clock_getres, Always, "clock resolution"),
    (c::SYS_clock_nanosleep, Always, "sleep"),
    (c::SYS_nanosleep, Always, "sleep"),
    (c::SYS_gettimeofday, Always, "read the clock (legacy)"),
    (c::SYS_time, Always, "read the clock (legacy)"),
    (c::SYS_getitimer, Always, "interval timer"),
    (c::SYS_setitimer, Always, "interval timer"),
    (c::SYS_timer_create, Always, "POSIX timer"),
    (c::SYS_timer_settime, Always, "POSIX timer"),
    (c::SYS_timer_gettime, Always, "POSIX timer"),
    (c::SYS_timer_getoverrun, Always, "POSIX timer"),
    (c::SYS_timer_delete, Always, "POSIX timer"),
    (c::SYS_timerfd_create, Always, "timer descriptor (event loops)"),
    (c::SYS_timerfd_settime, Always, "timer descriptor"),
    (c::SYS_timerfd_gettime, Always, "timer descriptor"),
    // Event loops.
    (c::SYS_poll, Always, "wait for descriptors"),
    (c::SYS_ppoll, Always, "wait for descriptors"),
    (c::SYS_select, Always, "wait for descriptors"),
    (c::SYS_pselect6, Always, "wait for descriptors"),
    (c::SYS_epoll_create, Always, "event loop (legacy)"),
    (c::SYS_epoll_create1, Always, "event loop"),
    (c::SYS_epoll_ctl, Always, "event loop"),
    (c::SYS_epoll_wait, Always, "event loop"),
    (c::SYS_epoll_pwait, Always, "event loop"),
    (c::SYS_epoll_pwait2, Always, "event loop"),
    (c::SYS_eventfd, Always, "event descriptor (legacy)"),
    (c::SYS_eventfd2, Always, "event descriptor"),
    // Sockets (the network namespace has only loopback; Landlock restricts TCP ports).
    (c::SYS_socket, InetOrUnixSocket, "AF_UNIX stream/seqpacket, and TCP/UDP sockets only"),
    (c::SYS_socketpair, UnixSocketPair, "connected AF_UNIX stream/seqpacket pairs"),
    (
        c::SYS_connect,
        Audited,
        "connect a socket (audited where it leads nowhere we provide; unix ones made by the supervisor)",
    ),
    (c::SYS_accept, Always, "accept a connection"),
    (c::SYS_accept4, Always, "accept a connection"),
    (c::SYS_bind, Always, "bind a socket (Landlock denies TCP binds)"),
    (c::SYS_listen, Always, "listen on a socket"),
    (c::SYS_getsockname, Always, "local address"),
    (c::SYS_getpeername, Always, "remote address"),
    (c::SYS_sendto, WithoutAddress, "send (audited with an address, like connect)"),
    (c::SYS_recvfrom, Always, "receive"),
    (c::SYS_sendmsg, Always, "send a message"),
    (c::SYS_recvmsg, Always, "receive a message"),
    (c::SYS_sendmmsg, Always, "send messages"),
    (c::SYS_recvmmsg, Always, "receive messages"),
    (c::SYS_shutdown, Always, "shut a socket down"),
    (c::SYS_setsockopt, Always, "socket options"),
    (c::SYS_getsockopt, Always, "socket options"),
    // System V and POSIX IPC, private to the sandbox's IPC namespace.
    (c::SYS_shmget, Always, "shared memory (private IPC namespace)"),
    (c::SYS_shmat, Always, "shared memory"),
    (c::SYS_shmdt, Always, "shared memory"),
    (c::SYS_shmctl, Always, "shared memory"),
    (c::SYS_semget, Always, "semaphores (private IPC namespace)"),
    (c::SYS_semop, Always, "semaphores"),
    (c::SYS_semtimedop, Always, "semaphores"),
    (c::SYS_semctl, Always, "semaphores"),
    (c::SYS_msgget, Always, "message queues (private IPC namespace)"),
    (c::SYS_msgsnd, Always, "message queues"),
    (c::SYS_msgrcv, Always, "message queues"),
    (c::SYS_msgctl, Always, "message queues"),
    // Devices.
    (c::SYS_ioctl, IoctlExceptTerminalInjection, "device control, except terminal input injection"),
];

/// Never allowed, whatever the table says: the test below keeps the two apart.
pub const NEVER: &[(i64, &str)] = &[
    (c::SYS_io_uring_setup, "io_uring bypasses seccomp for the operations it submits"),
    (c::SYS_io_uring_enter, "io_uring"),
    (c::SYS_io_uring_register, "io_uring"),
    (c::SYS_ptrace, "inspecting or controlling other processes"),
    (c::SYS_process_vm_readv, "reading another process's memory"),
    (c::SYS_process_vm_writev, "writing another process's memory"),
    (c::SYS_pidfd_getfd, "stealing another process's descriptors"),
    (c::SYS_kcmp, "comparing other processes' kernel objects"),
    (c::SYS_bpf, "loading kernel programs"),
    (c::SYS_perf_event_open, "performance counters, a side channel and kernel attack surface"),
    (c::SYS_keyctl, "kernel keyrings are not namespaced"),
    (c::SYS_add_key, "kernel keyrings"),
    (c::SYS_request_key, "kernel keyrings"),
    (c::SYS_mount, "changing the filesystem view"),
    (c::SYS_umount2, "changing the filesystem view"),
    (c::SYS_pivot_root, "changing the filesystem root"),
    (c::SYS_chroot, "changing the filesystem root"),
    (c::SYS_move_mount, "new mount API"),
    (c::SYS_open_tree, "new mount API"),
    (c::SYS_fsopen, "new mount API"),
    (c::SYS_fsmount, "new mount API"),
    (c::SYS_fspick, "new mount API"),
    (c::SYS_mount_setattr, "new mount API"),
    (c::SYS_unshare, "new namespaces"),
    (c::SYS_setns, "entering other namespaces"),
    (c::SYS_kexec_load, "replacing the kernel"),
    (c::SYS_kexec_file_load, "replacing the kernel"),
    (c::SYS_init_module, "loading kernel modules"),
    (c::SYS_finit_module, "loading kernel modules"),
    (c::SYS_delete_module, "unloading kernel modules"),
    (c::SYS_userfaultfd, "stalling the kernel at will (exploit primitive)"),
    (c::SYS_personality, "changing the execution domain"),
    (c::SYS_open_by_handle_at, "opening files by handle, around path checks"),
    (c::SYS_name_to_handle_at, "file handles"),
    (c::SYS_mknod, "device nodes"),
    (c::SYS_mknodat, "device nodes"),
    (c::SYS_fanotify_init, "watching the whole filesystem"),
    (c::SYS_swapon, "swap"),
    (c::SYS_swapoff, "swap"),
    (c::SYS_reboot, "reboot"),
    (c::SYS_acct, "process accounting"),
    (c::SYS_settimeofday, "setting the clock"),
    (c::SYS_clock_settime, "setting the clock"),
    (c::SYS_clock_adjtime, "setting the clock"),
    (c::SYS_adjtimex, "setting the clock"),
    (c::SYS_syslog, "the kernel log"),
    (c::SYS_quotactl, "disk quotas"),
    (c::SYS_iopl, "I/O port access"),
    (c::SYS_ioperm, "I/O port access"),
    (c::SYS_vhangup, "hanging up terminals"),
    (c::SYS_lookup_dcookie, "kernel profiling"),
];

#[derive(Debug, thiserror::Error)]
#[error("seccomp filter: {0}")]
pub struct FilterError(pub(crate) String);

/// Why `nr` is never allowed, if it is in [`NEVER`].
pub fn never_reason(nr: i64) -> Option<&'static str> {
    NEVER.iter().find(|(n, _)| *n == nr).map(|(_, why)| *why)
}

/// The calls the supervisor lets proceed once audited (see [`Audited`] and [`WithoutAddress`]);
/// every other call it is handed is a refusal.
pub fn proceeds_after_audit(nr: i64) -> bool {
    ALLOWED.iter().any(|(n, how, _)| *n == nr && matches!(how, Audited | WithoutAddress))
}

/// A call the allowlist refused: the errno it gets and the reason the audit log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub errno: i32,
    pub reason: String,
}

/// Why the allowlist refused syscall `nr` with `args`.
pub fn refusal(nr: i64, args: &[u64; 6]) -> Refusal {
    if let Some(why) = never_reason(nr) {
        return Refusal { errno: c::EPERM, reason: format!("never allowed: {why}") };
    }
    let Some((_, how, _)) = ALLOWED.iter().find(|(n, _, _)| *n == nr) else {
        return Refusal { errno: c::EPERM, reason: NOT_ALLOWED.into() };
    };
    let (errno, why) = how.refusal();
    let mode = match how {
        ModeWithoutSetId(m) | CreateWithoutSetId { mode: m, .. } => args.get(usize::from(*m)),
        _ => None,
    };
    let reason = match mode {
        Some(m) => format!("{why} (mode {:o})", m & 0o7777),
        None => why.to_string(),
    };
    Refusal { errno, reason }
}

#[cfg(test)]
mod tests;
