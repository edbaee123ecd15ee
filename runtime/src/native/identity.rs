//! Who the tool is on the host. Unprivileged, the supervisor maps the sandbox user to itself.
//! As root it must not: a tool whose host uid is 0 keeps root's ownership of every file, so it
//! could read root-only files of the system view (`/etc/ssl/private`, …) even with no
//! capability. So a root supervisor's tool runs as [`UNPRIVILEGED_HOST_ID`], a host uid and gid
//! that own nothing, with no supplementary groups; it keeps the invoking user's ownership on
//! the paths of its grant alone, through idmapped mounts (disk owner root ⇄ the tool), made by
//! stage 1 while it is still root and attached by stage 2 in the sandbox's root.

use super::spec::Bind;
use super::sys;
use rustix::process::{Pid, Signal};
use std::os::fd::{AsFd, OwnedFd};

/// The host uid and gid of a root supervisor's tool: unused by any account or daemon (unlike
/// `nobody`, whose processes could otherwise trace the tool), owning no file.
pub const UNPRIVILEGED_HOST_ID: u32 = 2_147_483_646;
/// The fallback where the supervisor's own user namespace does not map the id above (a
/// container's root usually has 65,536 ids): the overflow user, `nobody`.
pub const FALLBACK_HOST_ID: u32 = 65_534;

/// The host uid and gid the sandbox user maps to, for the current supervisor: its own, or for
/// root the first of [`UNPRIVILEGED_HOST_ID`] and [`FALLBACK_HOST_ID`] that its user namespace
/// maps (uid and gid alike). A root with neither mapped gets an error rather than a root tool.
pub fn tool_host_ids() -> Result<(u32, u32), String> {
    if !rustix::process::geteuid().is_root() {
        return Ok((rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw()));
    }
    // A process's user namespace mapping never changes: read it once.
    static CHOSEN: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| {
        let read = |f: &str| std::fs::read_to_string(format!("/proc/self/{f}")).unwrap_or_default();
        let (uids, gids) = (read("uid_map"), read("gid_map"));
        [UNPRIVILEGED_HOST_ID, FALLBACK_HOST_ID].into_iter().find(|&id| maps(&uids, id) && maps(&gids, id))
    });
    chosen.map(|id| (id, id)).ok_or_else(|| {
        format!(
            "running as root, but this user namespace maps neither id {UNPRIVILEGED_HOST_ID} nor {FALLBACK_HOST_ID}, \
             so the tool could only run as root; map one of them, or run mcp-sandbox as an unprivileged user"
        )
    })
}

/// Whether the `uid_map`/`gid_map` text `map` has `id` among the ids of this namespace.
fn maps(map: &str, id: u32) -> bool {
    map.lines().any(|l| {
        let f: Vec<u64> = l.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        matches!(f[..], [inside, _, count] if (inside..inside + count).contains(&u64::from(id)))
    })
}

/// A granted path made ready by stage 1: a detached copy of its mount tree with the sandbox's
/// flags, idmapped where the filesystem allows it.
pub struct Tree {
    pub fd: OwnedFd,
    /// The filesystem refused the idmapping: the tool reaches the path as its unprivileged
    /// host user (less access than granted, never more).
    pub unmapped: bool,
}

/// Stage 1, as root: detached trees for the granted binds (`None` for the system view, which
/// stage 2 binds as usual), files owned by `owner` shown as owned by `tool`.
/// Where a tree cannot be made (no idmapping namespace, or a root without authority over
/// this mount namespace, as in a container), stage 2 mounts it as it does for an unprivileged
/// supervisor (`granted::complete`): the tool then reaches it as its unprivileged host user
/// (less access, never more), and stderr says so.
/// `handles` holds, for each bind of a granted path, the descriptor its check opened: the tree
/// is cloned from that, not from the path (`granted`).
pub fn granted_trees(
    binds: &[Bind],
    handles: &[Option<OwnedFd>],
    owner: (u32, u32),
    tool: (u32, u32),
) -> Vec<Option<Tree>> {
    let note = |b: &Bind, why: &str| {
        eprintln!(
            "mcp-sandbox: note: {} keeps its host ownership ({why}): the tool reaches it as an unprivileged user",
            b.path.display()
        );
    };
    let userns = if binds.iter().any(|b| b.granted) { Some(idmap_userns(owner, tool)) } else { None };
    binds
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let userns = match (b.granted, &userns) {
                (true, Some(Ok(u))) => u,
                (true, Some(Err(e))) => {
                    note(b, e);
                    return None;
                }
                _ => return None,
            };
            let source = handles.get(i).and_then(Option::as_ref).map(AsFd::as_fd);
            match tree(b, source, userns.as_fd()) {
                Ok(t) => {
                    if t.unmapped {
                        note(b, "its filesystem refuses idmapped mounts");
                    }
                    Some(t)
                }
                Err(e) => {
                    note(b, &e);
                    None
                }
            }
        })
        .collect()
}

fn tree(
    b: &Bind,
    source: Option<std::os::fd::BorrowedFd<'_>>,
    userns: std::os::fd::BorrowedFd<'_>,
) -> Result<Tree, String> {
    let fd = super::granted::detached(b, source)?;
    let unmapped = sys::mount_setattr(fd.as_fd(), sys::attr::IDMAP, Some(userns)).is_err();
    Ok(Tree { fd, unmapped })
}

/// A user namespace that only carries the idmapping `owner → tool` (uid and gid), held by its
/// descriptor: a helper process creates it and is killed once its mapping is written.
fn idmap_userns(owner: (u32, u32), tool: (u32, u32)) -> Result<OwnedFd, String> {
    let (ready_r, ready_w) = rustix::pipe::pipe().map_err(|e| format!("idmap helper: {e}"))?;
    let helper = match sys::fork_single_threaded().map_err(|e| format!("idmap helper: {e}"))? {
        None => {
            let ok = rustix::process::set_parent_process_death_signal(Some(Signal::KILL)).is_ok()
                && sys::unshare_user().is_ok();
            let _ = rustix::io::write(&ready_w, if ok { b"1" } else { b"0" });
            loop {
                // Killed by the parent once the namespace is opened (or by its death).
                let _ = rustix::thread::nanosleep(&rustix::thread::Timespec { tv_sec: 3600, tv_nsec: 0 });
            }
        }
        Some(pid) => pid,
    };
    drop(ready_w);
    let result = map_helper(helper, &ready_r, owner, tool);
    let _ = rustix::process::kill_process(helper, Signal::KILL);
    let _ = rustix::process::waitpid(Some(helper), rustix::process::WaitOptions::empty());
    result
}

fn map_helper(helper: Pid, ready: &OwnedFd, owner: (u32, u32), tool: (u32, u32)) -> Result<OwnedFd, String> {
    let mut byte = [0u8];
    match rustix::io::read(ready, &mut byte) {
        Ok(1) if byte[0] == b'1' => {}
        _ => return Err("idmap helper: could not create a user namespace".into()),
    }
    let proc = format!("/proc/{}", helper.as_raw_nonzero());
    for (file, from, to) in [("uid_map", owner.0, tool.0), ("gid_map", owner.1, tool.1)] {
        std::fs::write(format!("{proc}/{file}"), format!("{from} {to} 1"))
            .map_err(|e| format!("idmap helper: write {file}: {e}"))?;
    }
    std::fs::File::open(format!("{proc}/ns/user"))
        .map(OwnedFd::from)
        .map_err(|e| format!("idmap helper: open its namespace: {e}"))
}

/// Stage 1, as root, once the trees are made: become `tool` (uid, gid, no supplementary
/// group), keeping the ability to map ourselves in the user namespace we create next.
pub fn drop_to(tool: (u32, u32)) -> Result<(), String> {
    use rustix::process::{Gid, Uid};
    rustix::thread::set_thread_groups(&[]).map_err(|e| format!("drop supplementary groups: {e}"))?;
    let gid = Gid::from_raw(tool.1);
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(|e| format!("set gid {}: {e}", tool.1))?;
    // Per thread in the raw syscall: this process is single-threaded, so that is all of it.
    let uid = Uid::from_raw(tool.0);
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(|e| format!("set uid {}: {e}", tool.0))?;
    // Changing uid made us non-dumpable, which hides our own /proc/self/uid_map from us.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::Dumpable)
        .map_err(|e| format!("set dumpable: {e}"))
}

/// Gives up every capability the calling process holds. PID 1 and stage 1 hold all of them in
/// the sandbox's user namespace (stage 1 made it, PID 1 is its child): enough to set
/// `security.capability` on a granted file (which an idmapped grant would record for the
/// invoking user, root included), to mount, to trace. Once the sandbox is built neither needs
/// any: they only start the tool, wait and reap. Securebits first (that takes CAP_SETPCAP), so
/// that nothing regains capabilities by becoming uid 0 or through the ambient set; then the
/// bounding set (inherited by the tool), the ambient set, and the effective, permitted and
/// inheritable sets. Checked afterwards: an error if any is left.
pub fn drop_capabilities() -> Result<(), String> {
    use rustix::thread::{CapabilitiesSecureBits as Bits, CapabilitySet, CapabilitySets};
    let locked = Bits::NO_ROOT | Bits::NO_ROOT_LOCKED | Bits::NO_CAP_AMBIENT_RAISE | Bits::NO_CAP_AMBIENT_RAISE_LOCKED;
    rustix::thread::set_capabilities_secure_bits(locked).map_err(|e| format!("securebits: {e}"))?;
    // Up to the kernel's last capability: it answers EINVAL for the first number past it.
    let known = (0..64u32)
        .map(|n| CapabilitySet::from_bits_retain(1 << n))
        .take_while(|cap| rustix::thread::capability_is_in_bounding_set(*cap).is_ok())
        .collect::<Vec<_>>();
    for cap in &known {
        rustix::thread::remove_capability_from_bounding_set(*cap).map_err(|e| format!("bounding set: {e}"))?;
    }
    rustix::thread::clear_ambient_capability_set().map_err(|e| format!("ambient set: {e}"))?;
    let none = CapabilitySets {
        effective: CapabilitySet::empty(),
        permitted: CapabilitySet::empty(),
        inheritable: CapabilitySet::empty(),
    };
    rustix::thread::set_capabilities(None, none).map_err(|e| format!("capset: {e}"))?;
    let left = rustix::thread::capabilities(None).map_err(|e| format!("capget: {e}"))?;
    let bounded = known.iter().any(|cap| rustix::thread::capability_is_in_bounding_set(*cap).unwrap_or(true));
    if left != none || bounded || known.is_empty() {
        return Err(format!("capabilities left after dropping them: {left:?}, bounding set emptied: {}", !bounded));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ids_a_user_namespace_maps() {
        let host = "         0          0 4294967295\n";
        let container = "         0       1000          1\n         1     100000      65536\n";
        assert!(maps(host, UNPRIVILEGED_HOST_ID) && maps(host, FALLBACK_HOST_ID));
        assert!(!maps(container, UNPRIVILEGED_HOST_ID) && maps(container, FALLBACK_HOST_ID));
        assert!(!maps("         0       1000          1\n", FALLBACK_HOST_ID));
        assert!(!maps("", FALLBACK_HOST_ID) && !maps("garbage", 0));
    }
}
