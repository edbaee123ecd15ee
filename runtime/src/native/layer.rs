//! The throw-away write layer of a learning sandbox (`mcp-sandbox learn`): every writable path
//! of the grant is shown through an overlay whose upper layer is a tmpfs private to the
//! sandbox's mount namespace, so what the tool writes is visible to it, recorded, and never
//! reaches the host; it is gone with the namespace when the call ends.
//!
//! A directory gets an overlayfs (lower: the path as bound or attached, read-only; upper and
//! work directories in the layer's tmpfs; `userxattr`, as an unprivileged overlay in a user
//! namespace needs, Linux ≥ 5.11; made with the new mount API and `lowerdir+`, Linux ≥ 6.8,
//! so that no path needs escaping). A single file is copied into the layer and the copy bound
//! over it. Whatever fails here fails the sandbox's setup: a learning run never falls back to
//! writing the host.

use rustix::fs::CWD;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, fsconfig_create, fsconfig_set_flag, fsconfig_set_string,
    fsmount, fsopen, mount, mount_bind, move_mount,
};
use std::path::Path;

/// The largest single file a learning sandbox copies into its layer (a file granted writable
/// on its own; a directory is overlaid, never copied). A larger one fails the setup, naming it:
/// grant its directory instead.
pub const MAX_LAYER_FILE: u64 = 64 << 20;

/// Where the layer's tmpfs is mounted while the root is built (in the scratch root, gone
/// when the scratch root is detached; the overlays keep their own references to it).
pub const LAYER_ROOT: &str = "/layer";

/// The most a learning tool may write into its throw-away layer, in all (tmpfs `size=`):
/// beyond, its writes fail with `ENOSPC`, as on a full disk. Copies of writable single files
/// count against it too.
pub const LAYER_SIZE: &str = "512m";

fn err(step: &str, path: &Path, e: impl std::fmt::Display) -> String {
    format!("write layer: {step} {}: {e}", path.display())
}

/// Mounts the layer's tmpfs at [`LAYER_ROOT`] (the current root is the scratch tmpfs).
pub fn prepare() -> Result<(), String> {
    let root = Path::new(LAYER_ROOT);
    std::fs::create_dir(root).map_err(|e| err("mkdir", root, e))?;
    let options =
        std::ffi::CString::new(format!("mode=0700,size={LAYER_SIZE}")).map_err(|e| err("options", root, e))?;
    mount(
        c"tmpfs",
        root,
        c"tmpfs",
        rustix::mount::MountFlags::NOSUID | rustix::mount::MountFlags::NODEV,
        options.as_c_str(),
    )
    .map_err(|e| err("tmpfs", root, e))
}

/// Covers `target` (already bound or attached, `path` on the host) with the layer: the `n`th
/// layered path. `exec` keeps programs under it executable.
pub fn cover(target: &Path, path: &Path, n: usize, exec: bool) -> Result<(), String> {
    let here = Path::new(LAYER_ROOT).join(n.to_string());
    std::fs::create_dir(&here).map_err(|e| err("mkdir", &here, e))?;
    let md = std::fs::metadata(target).map_err(|e| err("stat", path, e))?;
    if md.is_dir() {
        // A tree the kernel will not overlay for this user (EINVAL on some host mounts when
        // unprivileged) stays read-only: its writes are refused and recorded, never on the host.
        overlay(target, path, &here, &md, exec)
            .or_else(|why| read_only(target, path).map_err(|e| format!("{why}; {e}")))
    } else {
        copy_over(target, path, &here)
    }
}

/// Remounts the bind at `target` read-only (nothing written through it reaches the host).
fn read_only(target: &Path, path: &Path) -> Result<(), String> {
    let flags = rustix::mount::MountFlags::BIND
        | rustix::mount::MountFlags::RDONLY
        | rustix::mount::MountFlags::NOSUID
        | rustix::mount::MountFlags::NODEV
        | rustix::mount::MountFlags::NOEXEC;
    rustix::mount::mount_remount(target, flags, c"").map_err(|e| err("remount read-only", path, e))
}

fn overlay(target: &Path, path: &Path, here: &Path, md: &std::fs::Metadata, exec: bool) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (upper, work) = (here.join("upper"), here.join("work"));
    for d in [&upper, &work] {
        std::fs::create_dir(d).map_err(|e| err("mkdir", d, e))?;
    }
    // The merged root takes the upper directory's owner and mode: make them the lower's (an
    // owner not mapped into the namespace cannot be given; the directory stays ours then).
    let _ = std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(md.mode() & 0o7777));
    let _ = std::os::unix::fs::chown(&upper, Some(md.uid()), Some(md.gid()));
    let fs = fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC).map_err(|e| err("open overlayfs for", path, e))?;
    let set = |key: &str, value: &Path| fsconfig_set_string(&fs, key, value).map_err(|e| err(key, path, e));
    set("lowerdir+", target)?;
    set("upperdir", &upper)?;
    set("workdir", &work)?;
    fsconfig_set_flag(&fs, "userxattr").map_err(|e| err("userxattr", path, e))?;
    fsconfig_create(&fs).map_err(|e| err("create the overlay over", path, e))?;
    let mut attrs = MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV;
    if !exec {
        attrs |= MountAttrFlags::MOUNT_ATTR_NOEXEC;
    }
    let m = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs).map_err(|e| err("mount the overlay over", path, e))?;
    move_mount(&m, c"", CWD, target, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH)
        .map_err(|e| err("attach the overlay at", path, e))
}

/// A single file: its copy in the layer, bound over it (writable; not executable).
fn copy_over(target: &Path, path: &Path, here: &Path) -> Result<(), String> {
    let name = path.file_name().unwrap_or(std::ffi::OsStr::new("file"));
    let copy = here.join(name);
    let len = std::fs::metadata(target).map_err(|e| err("stat", path, e))?.len();
    if len > MAX_LAYER_FILE {
        return Err(err(
            "copy",
            path,
            format!(
                "{len} bytes, more than a single file copied into the layer may be (MAX_LAYER_FILE, {} MiB); grant its directory with --allow-write instead",
                MAX_LAYER_FILE >> 20
            ),
        ));
    }
    if let Err(e) = std::fs::copy(target, &copy) {
        if e.kind() != std::io::ErrorKind::PermissionDenied {
            return Err(err("copy", path, e));
        }
        // A file the learner may not read (another user's, in the host view) cannot be copied:
        // it stays as the host has it, read-only, so nothing can reach the host through it.
        return read_only(target, path);
    }
    mount_bind(&copy, target).map_err(|e| err("bind the copy over", path, e))?;
    let flags = rustix::mount::MountFlags::BIND
        | rustix::mount::MountFlags::NOSUID
        | rustix::mount::MountFlags::NODEV
        | rustix::mount::MountFlags::NOEXEC;
    rustix::mount::mount_remount(target, flags, c"").map_err(|e| err("remount the copy of", path, e))
}
