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

/// Arranges for each `(fd, target)` to appear as descriptor `target` in the child `cmd`
/// starts, and only there.
pub fn pass_fds(cmd: &mut Command, fds: Vec<(OwnedFd, RawFd)>) {
    use std::os::fd::AsRawFd;
    let raw: Vec<(RawFd, RawFd)> = fds.iter().map(|(fd, t)| (fd.as_raw_fd(), *t)).collect();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: `fcntl`, `dup2` and `close` are, and nothing
    // allocates (`raw` was built before the fork). Each source is first duplicated above every
    // target, so moving one descriptor into place can never clobber another still to move;
    // `dup2` clears close-on-exec on the target. The `OwnedFd`s are moved into the closure, so
    // they stay open in the parent until the command is dropped.
    unsafe {
        cmd.pre_exec(move || {
            let _keep = &fds;
            let mut moved = [-1; 8];
            for (i, (src, _)) in raw.iter().enumerate().take(moved.len()) {
                moved[i] = libc::fcntl(*src, libc::F_DUPFD_CLOEXEC, 64);
                if moved[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, (_, target)) in raw.iter().enumerate().take(moved.len()) {
                if libc::dup2(moved[i], *target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(moved[i]);
            }
            Ok(())
        });
    }
}

/// Brings the loopback interface of the current network namespace up.
pub fn loopback_up() -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").or_else(|_| {
        // With lo down there is no address to bind; a socket without one is enough for ioctl.
        rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::DGRAM, None)
            .map(std::net::UdpSocket::from)
            .map_err(std::io::Error::from)
    })?;
    // SAFETY: `ifreq` is plain old data, so all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the `ifreq` we own, on a socket we own;
    // the flags member of the union is the one these requests use.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
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

/// Closes every descriptor from `first` up: whatever the supervisor's own parent left open
/// (a jobserver pipe, an MCP host's sockets) must not reach the tool.
pub fn close_inherited_from(first: u32) -> std::io::Result<()> {
    // SAFETY: called at the start of the init stage, when the only descriptors Rust code in
    // this process owns are stdio and the ones below `first` (the spec pipe and the egress
    // channel); nothing at or above `first` is owned by any Rust object, so closing them
    // cannot cause a double close or a use of a closed descriptor.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) };
    if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// `MOUNT_ATTR_*` bits for [`mount_setattr`] (linux/mount.h).
pub mod attr {
    pub const RDONLY: u64 = 0x1;
    pub const NOSUID: u64 = 0x2;
    pub const NODEV: u64 = 0x4;
    pub const NOEXEC: u64 = 0x8;
    pub const IDMAP: u64 = 0x0010_0000;
}

/// `struct mount_attr` (linux/mount.h).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Sets `attr_set` (and, with [`attr::IDMAP`], the idmapping of `userns`) on the whole mount tree
/// `tree` (a detached tree from `open_tree`). rustix has no wrapper for this call.
pub fn mount_setattr(
    tree: std::os::fd::BorrowedFd<'_>,
    attr_set: u64,
    userns: Option<std::os::fd::BorrowedFd<'_>>,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let attr =
        MountAttr { attr_set, attr_clr: 0, propagation: 0, userns_fd: userns.map_or(0, |fd| fd.as_raw_fd() as u64) };
    set_tree_attr(tree, &attr)
}

/// Makes every mount of the detached tree `tree` private (`MS_PRIVATE`): a tree cloned from a
/// shared mount would otherwise stay in its peer group, and what is later mounted inside it
/// would propagate back there.
pub fn mount_set_private(tree: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
    let attr = MountAttr { attr_set: 0, attr_clr: 0, propagation: libc::MS_PRIVATE, userns_fd: 0 };
    set_tree_attr(tree, &attr)
}

/// `mount_setattr(2)` of `attr` on the whole detached tree `tree`.
fn set_tree_attr(tree: std::os::fd::BorrowedFd<'_>, attr: &MountAttr) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `mount_setattr(2)` reads `size_of::<MountAttr>()` bytes from `attr`, a live,
    // properly laid-out `struct mount_attr` (repr(C), the kernel's field order and sizes); the
    // path is a static empty C string, used with `AT_EMPTY_PATH` on a descriptor we borrow.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// Enters a new user namespace (alone): used by the short-lived helper whose namespace only
/// carries an idmapping.
pub fn unshare_user() -> std::io::Result<()> {
    // SAFETY: as for `unshare_all`: no `CLONE_FILES`/`CLONE_FS`, single-threaded caller (the
    // helper forked from the init stage).
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) }.map_err(Into::into)
}

/// Installs `program` as a seccomp filter on the calling thread and returns its notification
/// listener (`SECCOMP_FILTER_FLAG_NEW_LISTENER`): the supervisor answers the calls the filter
/// hands over (`SECCOMP_RET_USER_NOTIF`). Requires `no_new_privs` (or CAP_SYS_ADMIN).
pub fn install_filter_with_listener(program: &[seccompiler::sock_filter]) -> std::io::Result<OwnedFd> {
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| std::io::Error::other("filter too long"))?,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at `program`, live for the call; seccompiler's `sock_filter` is
    // repr(C) with the kernel's layout (code u16, jt u8, jf u8, k u32), as is libc's. The
    // kernel copies the program and returns a new descriptor that nothing else owns.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| std::io::Error::other("bad descriptor"))?;
    // SAFETY: the kernel just returned this descriptor to us; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One call handed over by a seccomp filter.
pub struct Notification {
    pub id: u64,
    /// In the supervisor's PID namespace.
    pub pid: u32,
    pub nr: i32,
    pub args: [u64; 6],
}

/// Receives the next notification (blocks if none is pending).
pub fn notif_recv(listener: std::os::fd::BorrowedFd<'_>) -> std::io::Result<Notification> {
    use std::os::fd::AsRawFd;
    // SAFETY: `seccomp_notif` is plain old data; the kernel wants it zeroed before RECV.
    let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: RECV writes one `seccomp_notif` into `n`, which we own and which has the size
    // the request encodes.
    if unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Notification { id: n.id, pid: n.pid, nr: n.data.nr, args: n.data.args })
}

/// Whether notification `id` is still pending (its caller has not died or been interrupted):
/// checked after reading the caller's memory, so that what was read belongs to this call.
pub fn notif_id_valid(listener: std::os::fd::BorrowedFd<'_>, id: u64) -> bool {
    use std::os::fd::AsRawFd;
    let mut id = id;
    // SAFETY: ID_VALID reads one u64 from the pointer, which points at our local.
    unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id) == 0 }
}

/// Answers notification `id`: let the call proceed as if unfiltered (`proceed`: the kernel's
/// other checks still apply), or fail it with `errno`.
pub fn notif_respond(listener: std::os::fd::BorrowedFd<'_>, id: u64, proceed: bool, errno: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut r = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: if proceed { 0 } else { -errno },
        flags: if proceed { libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32 } else { 0 },
    };
    // SAFETY: SEND reads one `seccomp_notif_resp` from `r`, ours and fully initialised.
    if unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut r) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Installs `src` in the notifying process as its descriptor `target` (replacing whatever
/// `target` was, as `dup2` would; `cloexec` sets `FD_CLOEXEC` on it), for notification `id`,
/// which is then still to be answered (`SECCOMP_IOCTL_NOTIF_ADDFD` with `SETFD`).
pub fn notif_addfd(
    listener: std::os::fd::BorrowedFd<'_>,
    id: u64,
    src: std::os::fd::BorrowedFd<'_>,
    target: u32,
    cloexec: bool,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let src = u32::try_from(src.as_raw_fd()).map_err(|_| std::io::Error::other("bad descriptor"))?;
    let mut a = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SETFD as u32,
        srcfd: src,
        newfd: target,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: ADDFD reads one `seccomp_notif_addfd` from `a`, ours and fully initialised; the
    // kernel duplicates `src` into the other process and takes nothing of ours.
    if unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ADDFD, &mut a) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Answers notification `id` as a call that succeeded and returned `val`.
pub fn notif_return(listener: std::os::fd::BorrowedFd<'_>, id: u64, val: i64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut r = libc::seccomp_notif_resp { id, val, error: 0, flags: 0 };
    // SAFETY: SEND reads one `seccomp_notif_resp` from `r`, ours and fully initialised.
    if unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut r) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Asks the kernel to report, with each datagram an IPv4 UDP socket receives, the address it
/// was sent to (`IP_PKTINFO`): a socket bound to `0.0.0.0` cannot learn it otherwise. rustix
/// has no wrapper for this option.
pub fn set_recv_pktinfo(sock: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: `setsockopt(2)` reads `size_of::<c_int>()` bytes from `&on`, a live `c_int`, on a
    // descriptor we borrow; it keeps no pointer after returning.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// Room for one `IP_PKTINFO` control message (`CMSG_SPACE(12)` is 32 on 64-bit Linux), as
/// `u64`s so that the buffer is aligned for `struct cmsghdr`.
type PktinfoControl = [u64; 8];

fn sockaddr_in(a: std::net::SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: `sockaddr_in` is plain old data, so all-zero is a valid value.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

/// One datagram received on an IPv4 UDP socket with [`set_recv_pktinfo`] set: its length, its
/// sender, and the address it was sent to (`None` if the kernel did not say). Non-blocking when
/// the socket is (`WouldBlock` then).
pub fn recv_with_destination(
    sock: std::os::fd::BorrowedFd<'_>,
    buf: &mut [u8],
) -> std::io::Result<(usize, std::net::SocketAddrV4, Option<std::net::Ipv4Addr>)> {
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::os::fd::AsRawFd;
    // SAFETY: plain old data; all-zero is a valid value for each.
    let (mut from, mut msg): (libc::sockaddr_in, libc::msghdr) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    let mut control: PktinfoControl = [0; 8];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of::<PktinfoControl>() as _;
    // SAFETY: every pointer in `msg` points to a live local (`from`, `iov`, `control`) or into
    // `buf`, with the lengths given, and the kernel writes within them; none outlives the call.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if from.sin_family != libc::AF_INET as libc::sa_family_t {
        return Err(std::io::Error::other("datagram from a non-IPv4 sender"));
    }
    let mut to = None;
    // SAFETY: `msg` was filled by `recvmsg` above and its control buffer (`control`) is still
    // live; CMSG_FIRSTHDR/CMSG_NXTHDR stay within `msg_controllen` (which the kernel set to
    // what it wrote) and return null at the end. A header is read only through the pointers
    // they return, and the `in_pktinfo` only when the header says it holds one of full length;
    // `read_unaligned` copies it out whatever the alignment of CMSG_DATA.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let full = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as usize;
            if (*c).cmsg_level == libc::IPPROTO_IP
                && (*c).cmsg_type == libc::IP_PKTINFO
                && (*c).cmsg_len as usize >= full
            {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                to = Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let from = SocketAddrV4::new(Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr)), u16::from_be(from.sin_port));
    Ok((n as usize, from, to))
}

/// Sends `data` to `to` from the local address `from` (`IP_PKTINFO`'s `ipi_spec_dst`), on an
/// IPv4 UDP socket bound to the wildcard address: the reply a tool gets from a stand-in
/// address comes from that stand-in. Non-blocking when the socket is.
pub fn send_from(
    sock: std::os::fd::BorrowedFd<'_>,
    data: &[u8],
    to: std::net::SocketAddrV4,
    from: std::net::Ipv4Addr,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let dest = sockaddr_in(to);
    // SAFETY: plain old data; all-zero is a valid value for each.
    let (mut info, mut msg): (libc::in_pktinfo, libc::msghdr) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    info.ipi_spec_dst.s_addr = u32::from(from).to_be();
    let mut control: PktinfoControl = [0; 8];
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    msg.msg_name = (&dest as *const libc::sockaddr_in).cast_mut().cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32) } as _;
    // SAFETY: `msg_controllen` (32 bytes) fits in `control` (64), so CMSG_FIRSTHDR returns a
    // non-null pointer to its start, aligned (u64 array); the header and the `in_pktinfo`
    // written after it (unaligned write) stay within it. `sendmsg` only reads through `msg`,
    // whose pointers go to live locals (`dest`, `iov`, `control`) and into `data`, which the
    // kernel never writes (the `cast_mut` is for the C signature only).
    let n = unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() {
            return Err(std::io::Error::other("no room for IP_PKTINFO"));
        }
        (*c).cmsg_level = libc::IPPROTO_IP;
        (*c).cmsg_type = libc::IP_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::in_pktinfo>(), info);
        libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL)
    };
    if n < 0 { Err(std::io::Error::last_os_error()) } else { Ok(n as usize) }
}
