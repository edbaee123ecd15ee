//! The grant's paths inside the native sandbox, mounted from the descriptors their checks opened
//! (`policy::path`), never looked up by name on the way: what was checked is what is mounted.
//!
//! The supervisor hands the descriptors to stage 1 over the egress channel
//! (`handover::send_paths`). A root stage 1, still in the host's mount namespace, clones each
//! one's mount tree straight from its descriptor (`open_tree(fd, "", AT_EMPTY_PATH |
//! OPEN_TREE_CLONE | AT_RECURSIVE)`, see `identity`). An unprivileged stage 1 cannot clone host
//! mounts, and from inside the sandbox's own mount namespace the kernel clones only mounts of
//! that namespace, not those a host descriptor refers to. So there stage 2, before it builds
//! the root, finds each path again by name (following no symlink), checks that it is the very
//! file or directory of the descriptor (device and inode), and clones that: a path renamed or
//! replaced since its check fails the call instead of granting something else.

use super::identity::Tree;
use super::spec::{Bind, Spec};
use super::{handover, sys};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Stage 1: the descriptor of each bind (`None` for the system view and the program itself).
pub fn receive(channel: &OwnedFd, spec: &Spec) -> std::io::Result<Vec<Option<OwnedFd>>> {
    let fds = handover::receive_paths(channel, spec.handles.len())?;
    let mut by_bind: Vec<Option<OwnedFd>> = spec.binds.iter().map(|_| None).collect();
    for (&i, fd) in spec.handles.iter().zip(fds) {
        let slot = by_bind.get_mut(i).ok_or_else(|| std::io::Error::other("a path descriptor for no bind"))?;
        *slot = Some(fd);
    }
    Ok(by_bind)
}

/// A detached copy of the mount tree at `source` (a granted path's descriptor; `None` for a
/// bind looked up by its path, the program) with the sandbox's flags: nosuid and nodev,
/// read-only unless writable, noexec unless executable. It is made private, so that nothing
/// later mounted inside it propagates back to the mounts it was cloned from.
pub fn detached(b: &Bind, source: Option<BorrowedFd<'_>>) -> Result<OwnedFd, String> {
    use rustix::mount::OpenTreeFlags as F;
    let flags = F::OPEN_TREE_CLONE | F::OPEN_TREE_CLOEXEC | F::AT_RECURSIVE;
    let fd = match source {
        Some(fd) => rustix::mount::open_tree(fd, c"", flags | F::AT_EMPTY_PATH),
        None => rustix::mount::open_tree(rustix::fs::CWD, &b.path, flags),
    }
    .map_err(|e| format!("copy the mount of {}: {e}", b.path.display()))?;
    let mut set = sys::attr::NOSUID | sys::attr::NODEV;
    if !b.writable {
        set |= sys::attr::RDONLY;
    }
    if !b.exec {
        set |= sys::attr::NOEXEC;
    }
    sys::mount_setattr(fd.as_fd(), set, None).map_err(|e| format!("restrict {}: {e}", b.path.display()))?;
    sys::mount_set_private(fd.as_fd()).map_err(|e| format!("make {} private: {e}", b.path.display()))?;
    Ok(fd)
}

/// Stage 2, in the sandbox's namespaces and before the root is built: a tree for every granted
/// path stage 1 did not prepare, cloned from the object its descriptor holds.
pub fn complete(
    binds: &[Bind],
    trees: Vec<Option<Tree>>,
    handles: &[Option<OwnedFd>],
) -> Result<Vec<Option<Tree>>, String> {
    let mut trees = trees.into_iter();
    binds
        .iter()
        .enumerate()
        .map(|(i, b)| match (trees.next().flatten(), handles.get(i).and_then(Option::as_ref)) {
            (Some(t), _) => Ok(Some(t)),
            (None, Some(held)) => Ok(Some(Tree { fd: again(b, held)?, unmapped: false })),
            (None, None) => Ok(None),
        })
        .collect()
}

/// The tree of `b`, found by its path in this mount namespace and checked to be `held`.
fn again(b: &Bind, held: &OwnedFd) -> Result<OwnedFd, String> {
    let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let flags = OFlags::PATH | OFlags::CLOEXEC;
    let changed = || {
        format!(
            "{} was renamed or replaced after it was checked, so nothing is granted at that path (call again)",
            b.path.display()
        )
    };
    let found = match rustix::fs::openat2(rustix::fs::CWD, &b.path, flags, Mode::empty(), resolve) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOENT) => return Err(changed()),
        Err(e) => return Err(format!("open {}: {e}", b.path.display())),
    };
    let (a, f) =
        (rustix::fs::fstat(held).map_err(|e| e.to_string())?, rustix::fs::fstat(&found).map_err(|e| e.to_string())?);
    if (a.st_dev, a.st_ino) != (f.st_dev, f.st_ino) {
        return Err(changed());
    }
    detached(b, Some(found.as_fd()))
}
