//! `connect`, made by the supervisor for the tool, never let through to the kernel after a
//! look: the tool could rewrite the address, or put another socket at the descriptor's number
//! (`dup2`), between the supervisor's check and the kernel's own read. So the supervisor takes
//! the socket itself (`pidfd_getfd`, the very file the descriptor named when it looked) and
//! connects it, or its replacement, to the address it read:
//!
//! - a TCP or UDP socket: the tool's own socket, connected as the kernel would connect it from
//!   the sandbox (its network namespace is the socket's: only loopback and the routes of the
//!   plan); a TCP connection only to a port the sandbox serves (a relay or the proxy), as
//!   Landlock's rule says (EACCES otherwise);
//! - a pathname unix socket: the kernel does not confine them to the sandbox. A read-only grant
//!   of a directory that holds a daemon's socket (`docker.sock`, an SSH or GPG agent, a session
//!   bus) would let the tool connect to it (a socket needs no write access on its filesystem,
//!   an idmapped grant shows root's sockets as the tool's, and Landlock, ABI 7, has no right
//!   for it). The path is resolved inside the tool's root (from its working directory when
//!   relative), connected on a socket of the supervisor's, and kept only when the peer (the
//!   process that listens) is in the sandbox's PID namespace; that socket then replaces the
//!   tool's descriptor (`SECCOMP_IOCTL_NOTIF_ADDFD`) and the call returns 0. A peer outside is
//!   refused (EACCES, audited as a `net.connect` denial): it has seen a connection open and
//!   close, and not a byte. The peer's `SO_PEERCRED` then names the supervisor;
//! - an abstract unix name: the tool's own socket, which belongs to the sandbox's network
//!   namespace, where abstract names are the sandbox's alone.
//!
//! The supervisor answers every other call of the sandbox too, so it never blocks: a unix
//! listener whose backlog is full answers EAGAIN at once (as a blocking socket's send timeout
//! would), and a TCP connection still under way after [`CONNECT_WAIT`] answers EINTR, which
//! leaves it to complete on its own (as POSIX says of an interrupted `connect`).

use super::sys;
use crate::audit::{Capability, Denial};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// The thread group (process) of thread `tid`, from `/proc/TID/status`.
fn thread_group(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Tgid:")).and_then(|v| v.trim().parse().ok())
}

/// What became of a `connect` on a unix socket.
#[derive(Debug)]
pub enum Outcome {
    /// Connected: `sys::notif_return(0)` (the descriptor is already in place).
    Connected,
    /// Failed as the kernel would have failed it.
    Failed(i32),
    /// Refused: the socket's listener is outside the sandbox.
    Refused(i32, Denial),
}

/// The reason recorded for a unix socket whose listener is outside the sandbox.
pub const OUTSIDE: &str = "a unix socket whose listener is outside the sandbox: host daemons are never reachable, \
                           whatever the grant that shows their socket";

/// How long a TCP connection (to a relay or the proxy, on loopback: at once, unless its
/// backlog is full) may take before a blocking `connect` answers EINTR and leaves it under way.
pub const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Makes `connect(fd, addr, len)` for `pid`; `addr` is what was read of the address (`None`:
/// unreadable, or longer than any address). `connect_ports`: the TCP ports the sandbox serves.
pub fn connect(
    listener: BorrowedFd<'_>,
    id: u64,
    pid: u32,
    fd: i32,
    addr: Option<&[u8]>,
    connect_ports: &[u16],
) -> Outcome {
    // The notification names the calling thread; a pidfd is opened on its process (threads
    // share the descriptor table), found from the thread's status: `pidfd_open` refuses a
    // thread that does not lead its group (PIDFD_THREAD needs Linux 6.9).
    let group = thread_group(pid).unwrap_or(pid);
    let Some(pid) = rustix::process::Pid::from_raw(group as i32) else { return Outcome::Failed(libc::ESRCH) };
    let theirs = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .and_then(|pidfd| rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty()))
    {
        Ok(f) => f,
        // Not a descriptor of the caller's (or the caller is gone): as the kernel would answer.
        Err(e) => return Outcome::Failed(e.raw_os_error()),
    };
    // The thread still waits in this very call, so its process was not replaced by another
    // under the same number between the look-up and `pidfd_open`.
    if !sys::notif_id_valid(listener, id) {
        return Outcome::Failed(libc::ESRCH);
    }
    match rustix::net::sockopt::socket_domain(&theirs) {
        Ok(AddressFamily::UNIX) => unix(listener, id, pid.as_raw_nonzero().get() as u32, fd, &theirs, addr),
        Ok(AddressFamily::INET | AddressFamily::INET6) => inet(&theirs, addr, connect_ports),
        Ok(_) => Outcome::Failed(libc::EAFNOSUPPORT),
        Err(e) => Outcome::Failed(e.raw_os_error()),
    }
}

/// Connects the tool's TCP or UDP socket to `addr`, as the kernel would from the sandbox, TCP
/// only to the ports it serves (Landlock's rule, which this connection does not pass through).
fn inet(theirs: &OwnedFd, addr: Option<&[u8]>, connect_ports: &[u16]) -> Outcome {
    let Some(addr) = addr else { return Outcome::Failed(libc::EFAULT) };
    let family = addr.get(..2).map(|b| i32::from(u16::from_ne_bytes([b[0], b[1]])));
    if family == Some(libc::AF_UNSPEC) {
        return errno_of(rustix::net::connect_unspec(theirs));
    }
    let Some(to) = inet_address(addr) else { return Outcome::Failed(libc::EINVAL) };
    let stream = rustix::net::sockopt::socket_type(theirs).is_ok_and(|t| t == SocketType::STREAM);
    if stream && !connect_ports.contains(&to.port()) {
        return Outcome::Failed(libc::EACCES);
    }
    let Ok(flags) = rustix::fs::fcntl_getfl(theirs) else { return Outcome::Failed(libc::EBADF) };
    let blocking = !flags.contains(OFlags::NONBLOCK);
    if blocking && rustix::fs::fcntl_setfl(theirs, flags | OFlags::NONBLOCK).is_err() {
        return Outcome::Failed(libc::EBADF);
    }
    let r = match rustix::net::connect(theirs, &to) {
        Err(rustix::io::Errno::INPROGRESS) if blocking => under_way(theirs),
        r => errno_of(r),
    };
    if blocking {
        let _ = rustix::fs::fcntl_setfl(theirs, flags);
    }
    r
}

/// A blocking `connect` under way: its end within [`CONNECT_WAIT`], else EINTR.
fn under_way(s: &OwnedFd) -> Outcome {
    let mut polled = [rustix::event::PollFd::new(s, rustix::event::PollFlags::OUT)];
    let wait = rustix::event::Timespec { tv_sec: CONNECT_WAIT.as_secs() as i64, tv_nsec: 0 };
    match rustix::event::poll(&mut polled, Some(&wait)) {
        Ok(0) | Err(_) => Outcome::Failed(libc::EINTR),
        Ok(_) => match rustix::net::sockopt::socket_error(s) {
            Ok(r) => errno_of(r),
            Err(e) => Outcome::Failed(e.raw_os_error()),
        },
    }
}

fn errno_of(r: rustix::io::Result<()>) -> Outcome {
    match r {
        Ok(()) => Outcome::Connected,
        Err(e) => Outcome::Failed(e.raw_os_error()),
    }
}

/// An AF_INET or AF_INET6 `sockaddr` as the socket will use it (an IPv4-mapped IPv6 address
/// stays IPv6, with its flow and scope).
fn inet_address(b: &[u8]) -> Option<std::net::SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    let family = u16::from_ne_bytes([*b.first()?, *b.get(1)?]);
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    let u32_at = |i: usize| b.get(i..i + 4).and_then(|x| x.try_into().ok()).map(u32::from_ne_bytes);
    match i32::from(family) {
        libc::AF_INET => {
            let a: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some(SocketAddrV4::new(Ipv4Addr::from(a), port).into())
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            let flow = u32::from_be(u32_at(4)?);
            Some(SocketAddrV6::new(Ipv6Addr::from(a), port, flow, u32_at(24)?).into())
        }
        _ => None,
    }
}

fn unix(listener: BorrowedFd<'_>, id: u64, pid: u32, fd: i32, theirs: &OwnedFd, addr: Option<&[u8]>) -> Outcome {
    let Some(addr) = addr else { return Outcome::Failed(libc::EFAULT) };
    let family = addr.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
    if family != Some(libc::AF_UNIX as u16) || addr.len() <= 2 {
        return Outcome::Failed(libc::EINVAL);
    }
    let name = &addr[2..];
    let nonblocking = rustix::fs::fcntl_getfl(theirs).is_ok_and(|f| f.contains(OFlags::NONBLOCK));
    if name[0] == 0 {
        return abstract_name(theirs, &name[1..], nonblocking);
    }
    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
    let path = &name[..end];
    match pathname(pid, theirs, path, nonblocking) {
        Ok(ours) => {
            if !sys::notif_id_valid(listener, id) {
                return Outcome::Failed(libc::EINTR);
            }
            match sys::notif_addfd(listener, id, ours.as_fd(), fd as u32, cloexec(pid, fd)) {
                Ok(()) => Outcome::Connected,
                Err(e) => Outcome::Failed(e.raw_os_error().unwrap_or(libc::EBADF)),
            }
        }
        Err(Why::Errno(e)) => Outcome::Failed(e),
        Err(Why::Outside) => {
            let target = format!("unix:{}", String::from_utf8_lossy(path));
            Outcome::Refused(libc::EACCES, Denial::new(Capability::NetConnect, &target, OUTSIDE, None))
        }
    }
}

enum Why {
    Errno(i32),
    Outside,
}

impl From<rustix::io::Errno> for Why {
    fn from(e: rustix::io::Errno) -> Self {
        Why::Errno(e.raw_os_error())
    }
}

/// Connects a socket of ours, like the tool's, to the socket file `path` names in the tool's
/// view, and keeps it when its listener is in the sandbox.
fn pathname(pid: u32, theirs: &OwnedFd, path: &[u8], nonblocking: bool) -> Result<OwnedFd, Why> {
    let path = std::str::from_utf8(path).map_err(|_| Why::Errno(libc::ENOENT))?;
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let whole = if path.starts_with('/') {
        path.to_string()
    } else {
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).map_err(|_| Why::Errno(libc::ENOENT))?;
        format!("{}/{path}", cwd.to_string_lossy())
    };
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    let socket_file =
        rustix::fs::openat2(&root, whole.as_str(), OFlags::PATH | OFlags::CLOEXEC, Mode::empty(), resolve)?;
    if !rustix::fs::FileType::from_raw_mode(rustix::fs::fstat(&socket_file)?.st_mode).is_socket() {
        return Err(Why::Errno(libc::ECONNREFUSED));
    }
    let kind = rustix::net::sockopt::socket_type(theirs)?;
    if kind != SocketType::STREAM && kind != SocketType::SEQPACKET {
        return Err(Why::Errno(libc::EPROTOTYPE));
    }
    let ours = rustix::net::socket_with(AddressFamily::UNIX, kind, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK, None)?;
    let via = SocketAddrUnix::new(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&socket_file)))?;
    rustix::net::connect(&ours, &via)?;
    if !in_sandbox(pid, &ours) {
        let _ = rustix::net::shutdown(&ours, rustix::net::Shutdown::Both);
        return Err(Why::Outside);
    }
    if !nonblocking {
        let flags = rustix::fs::fcntl_getfl(&ours)?;
        rustix::fs::fcntl_setfl(&ours, flags - OFlags::NONBLOCK)?;
    }
    Ok(ours)
}

/// Whether the process listening at the other end of `ours` is in `pid`'s PID namespace.
fn in_sandbox(pid: u32, ours: &OwnedFd) -> bool {
    let Ok(peer) = rustix::net::sockopt::socket_peercred(ours) else { return false };
    let ns = |p: i32| std::fs::metadata(format!("/proc/{p}/ns/pid")).ok().map(|m| (m.dev(), m.ino()));
    let peer = peer.pid.as_raw_nonzero().get();
    matches!((ns(peer), ns(pid as i32)), (Some(a), Some(b)) if a == b)
}

/// Connects the tool's own socket to an abstract name (its network namespace's), without
/// blocking the supervisor.
fn abstract_name(theirs: &OwnedFd, name: &[u8], nonblocking: bool) -> Outcome {
    let Ok(addr) = SocketAddrUnix::new_abstract_name(name) else { return Outcome::Failed(libc::EINVAL) };
    let Ok(flags) = rustix::fs::fcntl_getfl(theirs) else { return Outcome::Failed(libc::EBADF) };
    if !nonblocking && rustix::fs::fcntl_setfl(theirs, flags | OFlags::NONBLOCK).is_err() {
        return Outcome::Failed(libc::EBADF);
    }
    let r = rustix::net::connect(theirs, &addr);
    if !nonblocking {
        let _ = rustix::fs::fcntl_setfl(theirs, flags);
    }
    match r {
        Ok(()) => Outcome::Connected,
        Err(e) => Outcome::Failed(e.raw_os_error()),
    }
}

/// Whether the tool's descriptor `fd` is close-on-exec (its `fdinfo` flags, octal).
fn cloexec(pid: u32, fd: i32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|f| f & libc::O_CLOEXEC as u32 != 0)
}
