//! Observing what a native tool opens, creates, removes and runs, for behaviour profiles
//! (`learn`, `--profile`): with observation on, these calls leave the allowlist and are handed
//! to the supervisor, which reads their paths from the caller's memory, records them, and lets
//! the call proceed (or refuses it exactly as the allowlist would have: [`permits`]).
//!
//! Recording only: Landlock and the mount namespace still decide what may be opened. A racing
//! thread of the tool can change a path between the supervisor's read and the kernel's, so a
//! recorded path is what the tool showed, not a proof; README "What it does not stop".

use super::Allow::{self, *};
use crate::audit::PathUse;
use libc as c;

/// How a call names its paths: `(dirfd argument, path argument)` pairs (`None`: relative to
/// the working directory), and how it uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathArgs {
    pub paths: &'static [(Option<usize>, usize)],
    pub how: Use,
}

/// How a call uses its paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Decided by the open flags in this argument: writing or creating is a write.
    OpenFlags(usize),
    Write,
    Exec,
}

const AT: &[(Option<usize>, usize)] = &[(Some(0), 1)];
const CWD: &[(Option<usize>, usize)] = &[(None, 0)];
const TWO_CWD: &[(Option<usize>, usize)] = &[(None, 0), (None, 1)];
const TWO_AT: &[(Option<usize>, usize)] = &[(Some(0), 1), (Some(2), 3)];

/// The calls observed, with their reason: `(syscall, paths, reason)`.
pub const OBSERVED: &[(i64, PathArgs, &str)] = &[
    (c::SYS_open, PathArgs { paths: CWD, how: Use::OpenFlags(1) }, "a file read or written (legacy open)"),
    (c::SYS_openat, PathArgs { paths: AT, how: Use::OpenFlags(2) }, "a file read or written"),
    (c::SYS_creat, PathArgs { paths: CWD, how: Use::Write }, "a file created"),
    (c::SYS_execve, PathArgs { paths: CWD, how: Use::Exec }, "a program run"),
    (c::SYS_execveat, PathArgs { paths: AT, how: Use::Exec }, "a program run by descriptor"),
    (c::SYS_mkdir, PathArgs { paths: CWD, how: Use::Write }, "a directory made"),
    (c::SYS_mkdirat, PathArgs { paths: AT, how: Use::Write }, "a directory made"),
    (c::SYS_rmdir, PathArgs { paths: CWD, how: Use::Write }, "a directory removed"),
    (c::SYS_unlink, PathArgs { paths: CWD, how: Use::Write }, "a file removed"),
    (c::SYS_unlinkat, PathArgs { paths: AT, how: Use::Write }, "a file removed"),
    (c::SYS_rename, PathArgs { paths: TWO_CWD, how: Use::Write }, "a file renamed (both names change)"),
    (c::SYS_renameat, PathArgs { paths: TWO_AT, how: Use::Write }, "a file renamed (both names change)"),
    (c::SYS_renameat2, PathArgs { paths: TWO_AT, how: Use::Write }, "a file renamed (both names change)"),
    (c::SYS_truncate, PathArgs { paths: CWD, how: Use::Write }, "a file truncated"),
    (c::SYS_chmod, PathArgs { paths: CWD, how: Use::Write }, "a file's mode changed"),
    (c::SYS_fchmodat, PathArgs { paths: AT, how: Use::Write }, "a file's mode changed"),
];

/// How `nr` names its paths, if it is observed.
pub fn observed(nr: i64) -> Option<PathArgs> {
    OBSERVED.iter().find(|(n, _, _)| *n == nr).map(|(_, p, _)| *p)
}

/// Whether the allowlist lets `how` through with `args` (the supervisor's copy of the
/// conditions the filter checks, for the calls observation takes out of the filter).
pub fn permits(how: Allow, args: &[u64; 6]) -> bool {
    let mode = |i: u8| args.get(usize::from(i)).copied().unwrap_or(0) & super::compile::SETID_BITS == 0;
    match how {
        Always => true,
        ModeWithoutSetId(m) => mode(m),
        CreateWithoutSetId { flags, mode: m } => {
            args.get(usize::from(flags)).copied().unwrap_or(0) & super::compile::CREATING == 0 || mode(m)
        }
        // Observation never takes another kind out of the filter (a unit test holds this).
        _ => false,
    }
}

/// How a call with `args` uses its paths.
pub fn path_use(how: Use, args: &[u64; 6]) -> PathUse {
    match how {
        Use::Write => PathUse::Write,
        Use::Exec => PathUse::Exec,
        Use::OpenFlags(i) => {
            let flags = args.get(i).copied().unwrap_or(0) as i32;
            let writes = flags & c::O_ACCMODE != c::O_RDONLY
                || flags & (c::O_CREAT | c::O_TRUNC | (c::O_TMPFILE & !c::O_DIRECTORY)) != 0;
            match (writes, flags & c::O_DIRECTORY != 0) {
                (true, _) => PathUse::Write,
                (false, true) => PathUse::List,
                (false, false) => PathUse::Read,
            }
        }
    }
}

/// `path` joined to `base` when relative, with `.` and `..` resolved lexically (the kernel
/// resolves symlinks; a profile records what the tool named).
pub fn absolute(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{base}/{path}") };
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_calls_keep_the_allowlists_conditions() {
        for (nr, _, _) in OBSERVED {
            let (_, how, _) =
                super::super::ALLOWED.iter().find(|(n, _, _)| n == nr).expect("observed calls are allowed");
            assert!(matches!(how, Always | ModeWithoutSetId(_) | CreateWithoutSetId { .. }), "{nr}: {how:?}");
        }
        let openat = CreateWithoutSetId { flags: 2, mode: 3 };
        assert!(permits(openat, &[0, 0, c::O_RDONLY as u64, 0o4755, 0, 0]), "the mode is ignored without O_CREAT");
        assert!(permits(openat, &[0, 0, c::O_CREAT as u64, 0o644, 0, 0]));
        assert!(!permits(openat, &[0, 0, c::O_CREAT as u64, 0o4755, 0, 0]));
        assert!(!permits(ModeWithoutSetId(1), &[0, 0o2755, 0, 0, 0, 0]));
    }

    #[test]
    fn open_flags_tell_reads_from_writes() {
        let at = |flags: i32| path_use(Use::OpenFlags(2), &[0, 0, flags as u64, 0, 0, 0]);
        assert_eq!(at(c::O_RDONLY | c::O_CLOEXEC), PathUse::Read);
        assert_eq!(at(c::O_WRONLY), PathUse::Write);
        assert_eq!(at(c::O_RDWR), PathUse::Write);
        assert_eq!(at(c::O_RDONLY | c::O_CREAT), PathUse::Write);
        assert_eq!(at(c::O_RDONLY | c::O_DIRECTORY), PathUse::List, "listing a directory");
    }

    #[test]
    fn paths_are_made_absolute_lexically() {
        assert_eq!(absolute("/srv/data", "a/../b/./c"), "/srv/data/b/c");
        assert_eq!(absolute("/srv", "/etc/hosts"), "/etc/hosts");
        assert_eq!(absolute("/", "../../x"), "/x");
    }
}
