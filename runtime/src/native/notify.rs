//! Denials the kernel decides, recorded. The sandbox's seccomp allowlist hands every call it
//! refuses to the supervisor (`SECCOMP_RET_USER_NOTIF`), which audits it with the reason the
//! policy gives (`seccomp::refusal`) and fails it (EPERM, or ENOSYS where a program should
//! fall back); it also hands over `sendto` with an address, which the supervisor reads (the
//! address, from the caller's memory), audits when it leads nowhere the sandbox provides (no
//! relay, stub or proxy: the kernel will refuse it for want of a route), and lets proceed, and
//! `connect`, which it audits the same way and then makes itself ([`super::connect`]: never
//! let through after a look, which the tool could race).
//!
//! A busy tool could flood the log, so each kind of record stops after [`MAX_RECORDS`], with
//! one last event saying so.

use super::broker::FIRST_STAND_IN;
use super::net::NetPlan;
use super::seccomp::observe;
use super::sys;
use crate::audit::Denial;
use crate::audit::PathUse;
use crate::audit::{Capability, EventKind};
use crate::egress::hint;
use crate::grant::LiveGrant;
use crate::policy::endpoint::Transport;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};

/// Records per kind (syscalls, network) per invocation.
const MAX_RECORDS: usize = 64;

/// Where a call handed over goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// A refused syscall: audit, fail with the refusal's errno.
    Deny(i64, super::seccomp::Refusal),
    /// A network destination nothing in the sandbox serves: audit, then proceed (it fails).
    Nowhere(SocketAddr, bool),
    /// Proceed without a record (a relay, the stub, the proxy, a unix socket, unreadable).
    Proceed,
    /// An observed path call the allowlist permits: record its paths, then proceed.
    Observe(Vec<(PathUse, String)>),
    /// A connection the supervisor refused to make (a unix socket outside the sandbox).
    Refused(Denial),
}

/// The longest path read from a caller's memory (`PATH_MAX`).
const PATH_MAX: usize = 4096;

/// Answers the listener's notifications until the sandbox is gone (blocking; run it on its
/// own thread). Never leaves a call unanswered while it runs.
pub fn serve(listener: OwnedFd, grant: LiveGrant, plan: NetPlan) {
    let fd = listener.as_fd();
    let mut counts = [0usize; 2];
    loop {
        let mut polled = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
        let timeout = rustix::event::Timespec { tv_sec: 0, tv_nsec: 250_000_000 };
        match rustix::event::poll(&mut polled, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => {}
            Err(_) => return,
        }
        let revents = polled[0].revents();
        if !revents.contains(rustix::event::PollFlags::IN) {
            // POLLHUP: no process is left under the filter.
            return;
        }
        let Ok(n) = sys::notif_recv(fd) else { continue };
        if i64::from(n.nr) == libc::SYS_connect {
            connect_for(fd, &n, &grant, &plan, &mut counts);
            continue;
        }
        let verdict = match observe::observed(i64::from(n.nr)) {
            Some(args) => observe_call(&n, args, |addr, len| read_memory(n.pid, addr, len), |fd| link(n.pid, fd)),
            None => judge(&n, &plan, |addr, len| read_memory(n.pid, addr, len)),
        };
        // What was read must belong to this call, not to a later one of a recycled pid.
        let verdict = if sys::notif_id_valid(fd, n.id) { verdict } else { Verdict::Proceed };
        let errno = match &verdict {
            Verdict::Deny(_, r) => Some(r.errno),
            _ => None,
        };
        // Recorded before the call proceeds (or fails): whoever reads the recorder once the
        // tool has acted on the result (`proxy`, when a call's reply arrives) finds it there.
        record(&grant, &verdict, &plan, &mut counts);
        let _ = sys::notif_respond(fd, n.id, errno.is_none(), errno.unwrap_or(0));
    }
}

/// The longest socket address the kernel takes (`sockaddr_storage`).
const SOCKADDR_MAX: usize = std::mem::size_of::<libc::sockaddr_storage>();

/// Answers `connect`, which the supervisor makes itself ([`super::connect`]), after recording
/// a destination nothing in the sandbox serves, as [`judge`] would.
fn connect_for(
    fd: std::os::fd::BorrowedFd<'_>,
    n: &sys::Notification,
    grant: &LiveGrant,
    plan: &NetPlan,
    counts: &mut [usize; 2],
) {
    use super::connect::{Outcome, connect};
    let len = usize::try_from(n.args[2]).unwrap_or(usize::MAX);
    let addr = if len > SOCKADDR_MAX { None } else { read_memory(n.pid, n.args[1], len) };
    if let Some(to) = addr.as_deref().and_then(parse_inet)
        && !plan.serves(to)
    {
        record(grant, &Verdict::Nowhere(to, false), plan, counts);
    }
    let answered = match connect(fd, n.id, n.pid, n.args[0] as i32, addr.as_deref(), &plan.connect_ports()) {
        Outcome::Connected => sys::notif_return(fd, n.id, 0),
        Outcome::Failed(errno) => sys::notif_respond(fd, n.id, false, errno),
        Outcome::Refused(errno, denial) => {
            record(grant, &Verdict::Refused(denial), plan, counts);
            sys::notif_respond(fd, n.id, false, errno)
        }
    };
    drop(answered);
}

fn record(grant: &LiveGrant, verdict: &Verdict, plan: &NetPlan, counts: &mut [usize; 2]) {
    let (kind, denial) = match verdict {
        Verdict::Proceed => return,
        Verdict::Observe(paths) => {
            for (how, path) in paths {
                grant.audit().recorder().path(*how, path.clone());
            }
            return;
        }
        Verdict::Deny(nr, refusal) => (0, Denial::new(Capability::Syscall, &nr.to_string(), &refusal.reason, None)),
        Verdict::Nowhere(to, datagram) => (1, nowhere(to, *datagram, plan)),
        Verdict::Refused(denial) => (1, denial.clone()),
    };
    counts[kind] += 1;
    match counts[kind] {
        c if c <= MAX_RECORDS => grant.audit().deny(&denial),
        c if c == MAX_RECORDS + 1 => grant.audit().emit(
            EventKind::Deny,
            Some(denial.capability),
            Some("…".into()),
            Some(format!("more than {MAX_RECORDS} such denials: the rest are not recorded")),
            None,
        ),
        _ => {}
    }
}

/// The refusal of a connection (or datagram) to `to` that nothing in the sandbox serves, with
/// the flag that makes a relay lead there. A stand-in address is named by its name (the
/// address means nothing outside); one the stub handed out for a name under a `*.suffix` is
/// not known here, so that refusal has no hint.
fn nowhere(to: &SocketAddr, datagram: bool, plan: &NetPlan) -> Denial {
    let t = if datagram { Transport::Udp } else { Transport::Tcp };
    let target = format!("{}{to}", if datagram { "udp://" } else { "" });
    let reason = "not declared: no relay leads there from the sandbox, and the kernel refuses it";
    let IpAddr::V4(v4) = to.ip() else {
        return Denial::new(Capability::NetConnect, &target, reason, hint::connect(&to.ip().to_string(), to.port(), t));
    };
    let stand_ins = u32::from(FIRST_STAND_IN) & 0xffff_0000;
    if u32::from(v4) & 0xffff_0000 != stand_ins {
        return Denial::new(Capability::NetConnect, &target, reason, hint::connect(&v4.to_string(), to.port(), t));
    }
    match plan.stand_ins.iter().find(|(_, a)| *a == v4) {
        Some((name, _)) => {
            let reason = format!("{reason} (the stand-in address of {name}, not declared on this port)");
            Denial::new(Capability::NetConnect, &target, &reason, hint::connect(name, to.port(), t))
        }
        None => Denial::new(
            Capability::NetConnect,
            &target,
            &format!(
                "{reason} (a stand-in address the DNS stub gave a name under a declared *.suffix, on a port not declared for it)"
            ),
            None,
        ),
    }
}

/// The verdict on one notification; `read(addr, len)` reads the caller's memory.
fn judge(n: &sys::Notification, plan: &NetPlan, read: impl Fn(u64, usize) -> Option<Vec<u8>>) -> Verdict {
    let nr = i64::from(n.nr);
    if !super::seccomp::proceeds_after_audit(nr) {
        return Verdict::Deny(nr, super::seccomp::refusal(nr, &n.args));
    }
    // connect(fd, addr, len) and sendto(fd, buf, n, flags, addr, len).
    let (addr, len, datagram) =
        if nr == libc::SYS_connect { (n.args[1], n.args[2], false) } else { (n.args[4], n.args[5], true) };
    let Some(bytes) = read(addr, usize::try_from(len).unwrap_or(0).min(128)) else { return Verdict::Proceed };
    match parse_inet(&bytes) {
        Some(to) if !plan.serves(to) => Verdict::Nowhere(to, datagram),
        _ => Verdict::Proceed,
    }
}

/// The verdict on an observed path call: refused as the allowlist would refuse it, else its
/// paths (made absolute against the descriptor or the working directory, read through
/// `link(Some(fd))` / `link(None)`) to record.
fn observe_call(
    n: &sys::Notification,
    args: observe::PathArgs,
    read: impl Fn(u64, usize) -> Option<Vec<u8>>,
    link: impl Fn(Option<i32>) -> Option<String>,
) -> Verdict {
    let nr = i64::from(n.nr);
    let allowed = super::seccomp::ALLOWED.iter().find(|(x, _, _)| *x == nr).map(|(_, how, _)| *how);
    if !allowed.is_some_and(|how| observe::permits(how, &n.args)) {
        return Verdict::Deny(nr, super::seccomp::refusal(nr, &n.args));
    }
    let how = observe::path_use(args.how, &n.args);
    let mut paths = Vec::new();
    for (dirfd, at) in args.paths {
        let Some(bytes) = read(n.args[*at], PATH_MAX) else { continue };
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        let path = String::from_utf8_lossy(&bytes[..end]).into_owned();
        // `execveat(fd, "", …, AT_EMPTY_PATH)` names the descriptor itself.
        let fd = dirfd.map(|i| n.args[i] as i32).filter(|fd| *fd != libc::AT_FDCWD);
        let absolute = if path.starts_with('/') {
            observe::absolute("/", &path)
        } else {
            let Some(base) = link(fd) else { continue };
            if path.is_empty() { base } else { observe::absolute(&base, &path) }
        };
        paths.push((how, absolute));
    }
    Verdict::Observe(paths)
}

/// Where process `pid`'s descriptor `fd` (or, for `None`, its working directory) leads.
fn link(pid: u32, fd: Option<i32>) -> Option<String> {
    let at = match fd {
        Some(fd) => format!("/proc/{pid}/fd/{fd}"),
        None => format!("/proc/{pid}/cwd"),
    };
    std::fs::read_link(at).ok().map(|p| p.to_string_lossy().into_owned())
}

/// An AF_INET or AF_INET6 `sockaddr`; `None` for other families (unix sockets, AF_UNSPEC).
fn parse_inet(b: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes([*b.first()?, *b.get(1)?]);
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    match i32::from(family) {
        libc::AF_INET => {
            let a: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)).to_canonical(), port))
        }
        _ => None,
    }
}

/// `len` bytes at `addr` in process `pid`, through `/proc/PID/mem` (ptrace access: the
/// supervisor owns the sandbox's user namespace).
fn read_memory(pid: u32, addr: u64, len: usize) -> Option<Vec<u8>> {
    use std::io::Seek;
    let mut f = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    f.seek(std::io::SeekFrom::Start(addr)).ok()?;
    let mut buf = vec![0u8; len];
    let n = f.read(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        b.extend(port.to_be_bytes());
        b.extend(ip);
        b.extend([0u8; 8]);
        b
    }

    fn notif(nr: i64, args: [u64; 6]) -> sys::Notification {
        sys::Notification { id: 1, pid: 1, nr: nr as i32, args }
    }

    #[test]
    fn parses_inet_addresses_and_skips_other_families() {
        assert_eq!(parse_inet(&v4([10, 0, 0, 5], 443)), Some("10.0.0.5:443".parse().unwrap()));
        let mut six = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        six.extend(53u16.to_be_bytes());
        six.extend([0u8; 4]);
        six.extend("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(parse_inet(&six), Some("[2001:db8::1]:53".parse().unwrap()));
        assert_eq!(parse_inet(&(libc::AF_UNIX as u16).to_ne_bytes()), None);
        assert_eq!(parse_inet(&[2]), None);
    }

    #[test]
    fn judges_denials_and_destinations() {
        let plan = NetPlan { relay_ports: vec![443], dns: true, ..NetPlan::default() };
        let at = |b: Vec<u8>| move |_: u64, _: usize| Some(b.clone());
        let ptrace = super::super::seccomp::refusal(libc::SYS_ptrace, &[0; 6]);
        assert_eq!(judge(&notif(libc::SYS_ptrace, [0; 6]), &plan, at(vec![])), Verdict::Deny(libc::SYS_ptrace, ptrace));
        let chmod = notif(libc::SYS_chmod, [0x1000, 0o4755, 0, 0, 0, 0]);
        match judge(&chmod, &plan, at(vec![])) {
            Verdict::Deny(nr, r) => {
                assert_eq!((nr, r.errno), (libc::SYS_chmod, libc::EPERM));
                assert!(r.reason.starts_with("setuid/setgid bits are never allowed"), "{}", r.reason);
            }
            other => panic!("{other:?}"),
        }
        let memfd = notif(libc::SYS_memfd_create, [0x1000, 0, 0, 0, 0, 0]);
        assert!(matches!(judge(&memfd, &plan, at(vec![])), Verdict::Deny(_, r) if r.errno == libc::ENOSYS));
        let connect = notif(libc::SYS_connect, [3, 0x1000, 16, 0, 0, 0]);
        assert_eq!(judge(&connect, &plan, at(v4([127, 0, 0, 1], 443))), Verdict::Proceed, "a relay");
        assert_eq!(judge(&connect, &plan, at(v4([127, 0, 0, 1], 53))), Verdict::Proceed, "the DNS stub");
        assert_eq!(
            judge(&connect, &plan, at(v4([10, 0, 0, 5], 443))),
            Verdict::Nowhere("10.0.0.5:443".parse().unwrap(), false),
            "an address with no route"
        );
        assert_eq!(
            judge(&connect, &plan, at(v4([127, 0, 0, 1], 8080))),
            Verdict::Nowhere("127.0.0.1:8080".parse().unwrap(), false),
            "a port nothing serves"
        );
        let sendto = notif(libc::SYS_sendto, [3, 0, 5, 0, 0x1000, 16]);
        assert_eq!(
            judge(&sendto, &plan, at(v4([8, 8, 8, 8], 53))),
            Verdict::Nowhere("8.8.8.8:53".parse().unwrap(), true)
        );
        assert_eq!(judge(&connect, &plan, |_, _| None), Verdict::Proceed, "unreadable: no record, no guess");
    }

    /// Issue 11: a stand-in address is named by its name in the hint, which must parse.
    #[test]
    fn refusals_name_what_to_declare() {
        let plan = NetPlan { stand_ins: vec![("svc.test".into(), FIRST_STAND_IN)], ..NetPlan::default() };
        let hint = |to: &str, udp: bool| nowhere(&to.parse().unwrap(), udp, &plan).hint;
        assert_eq!(hint("127.1.0.1:8080", false).as_deref(), Some("--allow-net svc.test:8080"));
        assert_eq!(hint("127.1.0.1:5353", true).as_deref(), Some("--allow-net udp://svc.test:5353"));
        assert_eq!(hint("127.1.0.9:8080", false), None, "a suffix name's stand-in: not known here");
        assert_eq!(hint("127.0.0.1:8080", false).as_deref(), Some("--allow-net 127.0.0.1:8080"));
        assert_eq!(hint("[::1]:8080", false).as_deref(), Some("--allow-net [::1]:8080"));
        assert_eq!(hint("10.0.0.5:53", true).as_deref(), Some("--allow-net udp://10.0.0.5:53"));
        let d = nowhere(&"127.1.0.1:8080".parse().unwrap(), false, &plan);
        assert_eq!(d.target, "127.1.0.1:8080");
        assert!(d.reason.contains("stand-in address of svc.test"), "{}", d.reason);
    }
}
