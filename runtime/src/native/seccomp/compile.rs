//! The policy of `super` (the tables) compiled to the two filters the sandbox installs.

use super::Allow::{self, *};
use super::{ALLOWED, FilterError};
use libc as c;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition as Cond, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// `S_ISUID | S_ISGID`: the mode bits no file the tool touches may get.
pub(super) const SETID_BITS: u64 = (c::S_ISUID | c::S_ISGID) as u64;
/// `family & INET_FAMILIES_MASK == AF_INET` holds for AF_INET (2) and AF_INET6 (10) alone: one
/// rule for both, which keeps the filter short.
const INET_FAMILIES_MASK: u64 = !((c::AF_INET ^ c::AF_INET6) as u64) & 0xFFFF_FFFF;
/// The open flags that create a file, and so make the kernel read the mode: `O_CREAT`, and the
/// bit proper to `O_TMPFILE` (which also carries `O_DIRECTORY`).
pub(super) const CREATING: u64 = (c::O_CREAT | (c::O_TMPFILE & !c::O_DIRECTORY)) as u64;

/// The allowlist as seccompiler rules, by syscall number (ascending). [`Audited`] calls are
/// left out (handed to the supervisor), and so are [`Enosys`] ones (answered by the first
/// filter; were it missing, the allowlist would still refuse them).
#[cfg(test)]
pub(crate) fn allow_rules() -> Result<Vec<(i64, Vec<SeccompRule>)>, seccompiler::BackendError> {
    allow_rules_for(false)
}

/// [`allow_rules`], without the calls [`super::observe::OBSERVED`] when `observe`: those are
/// handed to the supervisor, which records their paths.
fn allow_rules_for(observe: bool) -> Result<Vec<(i64, Vec<SeccompRule>)>, seccompiler::BackendError> {
    let mut rules = BTreeMap::new();
    let kept = |nr: &i64| !observe || super::observe::observed(*nr).is_none();
    for (nr, how, _) in ALLOWED.iter().filter(|(nr, how, _)| !matches!(how, Audited | Enosys) && kept(nr)) {
        rules.insert(*nr, conditions(*how)?);
    }
    Ok(rules.into_iter().collect())
}

fn conditions(how: Allow) -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    let dword = |arg, op, v| Cond::new(arg, Len::Dword, op, v);
    let qword = |arg, op, v| Cond::new(arg, Len::Qword, op, v);
    let one = |c: Cond| SeccompRule::new(vec![c]);
    let ns_flags = (c::CLONE_NEWNS
        | c::CLONE_NEWUSER
        | c::CLONE_NEWPID
        | c::CLONE_NEWNET
        | c::CLONE_NEWIPC
        | c::CLONE_NEWUTS
        | c::CLONE_NEWCGROUP
        | c::CLONE_NEWTIME) as u64;
    Ok(match how {
        Always => Vec::new(),
        CloneWithoutNamespaces => vec![one(qword(0, Op::MaskedEq(ns_flags), 0)?)?],
        InetOrUnixSocket => {
            let mut rules = unix_connected_kinds()?;
            for (kind, protocol) in [(c::SOCK_STREAM, c::IPPROTO_TCP), (c::SOCK_DGRAM, c::IPPROTO_UDP)] {
                // Protocol 0 is the family's default for the type: TCP or UDP.
                for protocol in [0, protocol] {
                    rules.push(SeccompRule::new(vec![
                        dword(0, Op::MaskedEq(INET_FAMILIES_MASK), c::AF_INET as u64)?,
                        dword(1, Op::MaskedEq(0xF), kind as u64)?,
                        dword(2, Op::Eq, protocol as u64)?,
                    ])?);
                }
            }
            rules
        }
        UnixSocketPair => unix_connected_kinds()?,
        IoctlExceptTerminalInjection => {
            vec![SeccompRule::new(vec![dword(1, Op::Ne, c::TIOCSTI)?, dword(1, Op::Ne, c::TIOCLINUX)?])?]
        }
        // The kernel reads the mode as a `umode_t`: the low 32 bits hold all of it.
        ModeWithoutSetId(mode) => vec![one(dword(mode, Op::MaskedEq(SETID_BITS), 0)?)?],
        CreateWithoutSetId { flags, mode } => {
            vec![one(dword(flags, Op::MaskedEq(CREATING), 0)?)?, one(dword(mode, Op::MaskedEq(SETID_BITS), 0)?)?]
        }
        // With MFD_EXEC as well, the kernel refuses the pair (EINVAL).
        MemfdNoExecSeal => {
            let seal = u64::from(c::MFD_NOEXEC_SEAL);
            vec![one(dword(1, Op::MaskedEq(seal), seal)?)?]
        }
        WithoutAddress => vec![one(qword(4, Op::Eq, 0)?)?],
        // Never in the rules (see `allow_rules`).
        Enosys | Audited => Vec::new(),
    })
}

/// AF_UNIX stream and seqpacket sockets: never datagram ones, which `sendmsg` can aim at any
/// socket file by a name the filter cannot read (behind a pointer), and which no supervisor
/// check then sees.
fn unix_connected_kinds() -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    [c::SOCK_STREAM, c::SOCK_SEQPACKET]
        .into_iter()
        .map(|kind| {
            SeccompRule::new(vec![
                Cond::new(0, Len::Dword, Op::Eq, c::AF_UNIX as u64)?,
                Cond::new(1, Len::Dword, Op::MaskedEq(0xF), kind as u64)?,
            ])
        })
        .collect()
}

/// Compiles the two filters, in the order they are to be installed.
pub fn compile() -> Result<Vec<BpfProgram>, FilterError> {
    compile_for(false)
}

/// The two filters; with `observe`, the path calls go to the supervisor as well
/// ([`super::observe`]).
#[cfg(target_arch = "x86_64")]
pub fn compile_for(observe: bool) -> Result<Vec<BpfProgram>, FilterError> {
    let e = |e: seccompiler::BackendError| FilterError(e.to_string());
    let arch = TargetArch::x86_64;
    let enosys: BTreeMap<i64, Vec<SeccompRule>> =
        ALLOWED.iter().filter(|(_, how, _)| *how == Enosys).map(|(nr, _, _)| (*nr, Vec::new())).collect();
    let first =
        SeccompFilter::new(enosys, SeccompAction::Allow, SeccompAction::Errno(c::ENOSYS as u32), arch).map_err(e)?;
    let allow = super::super::bpf::search_filter(
        allow_rules_for(observe).map_err(e)?,
        SeccompAction::Errno(c::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )?;
    let to_bpf = |f: SeccompFilter| BpfProgram::try_from(f).map_err(|e| FilterError(e.to_string()));
    Ok(vec![to_bpf(first)?, notify_instead_of(allow, SeccompAction::Errno(c::EPERM as u32).into())])
}

#[cfg(not(target_arch = "x86_64"))]
pub fn compile_for(_observe: bool) -> Result<Vec<BpfProgram>, FilterError> {
    Err(FilterError("no syscall table for this architecture yet".into()))
}

/// `program` with every `return deny` turned into `return SECCOMP_RET_USER_NOTIF`: the
/// supervisor then answers (and audits) each call the allowlist does not let through.
fn notify_instead_of(mut program: BpfProgram, deny: u32) -> BpfProgram {
    use super::super::bpf::RET_K;
    for i in program.iter_mut().filter(|i| i.code == RET_K && i.k == deny) {
        i.k = c::SECCOMP_RET_USER_NOTIF;
    }
    program
}

#[cfg(test)]
mod tests {
    use super::super::proceeds_after_audit;
    use super::*;
    use crate::native::bpf::RET_K;

    #[test]
    fn filters_compile() {
        assert_eq!(compile().unwrap().len(), 2);
    }

    #[test]
    fn one_mask_picks_both_inet_families_and_nothing_else() {
        let inet: Vec<u64> =
            (0..=u64::from(u16::MAX)).filter(|f| f & INET_FAMILIES_MASK == c::AF_INET as u64).collect();
        assert_eq!(inet, [c::AF_INET as u64, c::AF_INET6 as u64]);
    }

    #[test]
    fn refusals_go_to_the_supervisor_and_only_connect_and_sendto_proceed() {
        let allowlist = compile().unwrap().pop().unwrap();
        let eperm: u32 = SeccompAction::Errno(c::EPERM as u32).into();
        assert!(allowlist.iter().all(|i| !(i.code == RET_K && i.k == eperm)), "no plain EPERM left");
        assert!(allowlist.iter().any(|i| i.code == RET_K && i.k == c::SECCOMP_RET_USER_NOTIF));
        assert!(proceeds_after_audit(c::SYS_connect) && proceeds_after_audit(c::SYS_sendto));
        assert!(!proceeds_after_audit(c::SYS_ptrace) && !proceeds_after_audit(c::SYS_read));
        let rules = allow_rules().unwrap();
        assert!(!rules.iter().any(|(nr, _)| *nr == c::SYS_connect), "connect is never let through unseen");
        assert!(
            !rules.iter().any(|(nr, _)| *nr == c::SYS_openat2 || *nr == c::SYS_clone3),
            "calls answered ENOSYS are never let through by the allowlist"
        );
    }
}
