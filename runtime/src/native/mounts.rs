//! The filesystem a native tool sees: a fresh tmpfs root holding only the read-only system
//! view, the granted paths (at their host paths), a private `/tmp` and `/dev/shm`, its own
//! `/proc` and a minimal `/dev`. Host sockets and daemons (`/run`, `/var/run`, D-Bus,
//! docker.sock) are simply not there.
//!
//! Only what the grant marks executable is mounted with exec: the system view's programs and
//! libraries, the tool, and `--allow-exec` paths. Every tmpfs the sandbox makes (`/tmp`,
//! `/dev/shm`, `/dev`, the root) is `noexec`, so a program the tool writes or copies there
//! can be neither executed nor mapped executable (`ld.so /tmp/x` fails too: the loader's
//! `mmap(PROT_EXEC)` is refused on a `noexec` mount).

use super::identity::Tree;
use super::spec::Bind;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The default read-only system view: `(path, executable, reason)`. Paths missing on this
/// host are skipped; symlinks (e.g. `/bin -> usr/bin`) are recreated as symlinks.
pub const SYSTEM_PATHS: &[(&str, bool, &str)] = &[
    ("/usr", true, "programs, interpreters and shared libraries"),
    ("/bin", true, "programs (often a link to /usr/bin)"),
    ("/sbin", true, "programs (often a link to /usr/sbin)"),
    ("/lib", true, "the dynamic loader and libc (often a link to /usr/lib)"),
    ("/lib64", true, "the dynamic loader on x86_64"),
    ("/etc/ld.so.cache", false, "the dynamic loader's cache"),
    ("/etc/ld.so.conf", false, "the dynamic loader's configuration"),
    ("/etc/ld.so.conf.d", false, "the dynamic loader's configuration"),
    ("/etc/alternatives", false, "Debian's program alternatives (python3, java…)"),
    ("/etc/ssl", false, "TLS certificates"),
    ("/etc/ca-certificates", false, "TLS certificate configuration"),
    ("/etc/localtime", false, "the time zone"),
    ("/etc/mime.types", false, "MIME types"),
];

/// Device nodes bound from the host: `(path, reason)`.
pub const DEVICES: &[(&str, &str)] = &[
    ("/dev/null", "discard output"),
    ("/dev/zero", "zero bytes"),
    ("/dev/full", "a full device, for tests of write errors"),
    ("/dev/random", "random bytes"),
    ("/dev/urandom", "random bytes"),
];

/// Files written into the sandbox's root: `(path, contents)`. No host user or host names leak.
pub const SYNTHETIC_FILES: &[(&str, &str)] = &[
    (
        "/etc/passwd",
        "root:x:0:0:root:/:/usr/sbin/nologin\ntool:x:1000:1000:tool:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n",
    ),
    ("/etc/group", "root:x:0:\ntool:x:1000:\nnogroup:x:65534:\n"),
    ("/etc/hostname", "sandbox\n"),
    ("/etc/hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n"),
    ("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"),
    ("/etc/resolv.conf", "nameserver 127.0.0.1\n"),
];

/// The sandbox's own scratch trees: what a tool does there never reaches the host, unless a
/// granted path lies beneath.
pub const PRIVATE_TREES: &[&str] = &["/tmp", "/dev/shm", "/proc"];

/// Every path a native sandbox provides without a grant: the system view, the devices, the
/// synthetic files, `/dev` and `/proc`. A behaviour profile needs no grant for what it saw
/// there.
pub fn provided_paths() -> Vec<String> {
    let own = ["/dev", "/proc"];
    SYSTEM_PATHS
        .iter()
        .map(|(p, _, _)| *p)
        .chain(DEVICES.iter().map(|(p, _)| *p))
        .chain(SYNTHETIC_FILES.iter().map(|(p, _)| *p))
        .chain(own)
        .map(String::from)
        .collect()
}

/// The system view as binds, for the paths that exist on this host (symlinks reported apart).
pub fn system_binds() -> (Vec<Bind>, Vec<(PathBuf, PathBuf)>) {
    let mut binds = Vec::new();
    let mut links = Vec::new();
    for (p, exec, _) in SYSTEM_PATHS {
        let path = Path::new(p);
        match std::fs::symlink_metadata(path) {
            Ok(md) if md.file_type().is_symlink() => {
                if let Ok(target) = std::fs::read_link(path) {
                    links.push((path.to_path_buf(), target));
                }
            }
            Ok(_) => binds.push(Bind { path: path.to_path_buf(), writable: false, exec: *exec, granted: false }),
            Err(_) => {}
        }
    }
    (binds, links)
}

use rustix::fs::StatVfsMountFlags;
use rustix::mount::{
    MountFlags, MountPropagationFlags, UnmountFlags, mount, mount_bind_recursive, mount_change, mount_remount, unmount,
};

/// One step of building the root, applied in path order (parents first).
enum Step<'a> {
    Bind(&'a Bind),
    /// A granted path stage 1 prepared as a detached tree (see `identity`).
    Attach(&'a Bind, &'a OwnedFd),
    Tmpfs,
    Proc,
    Dev,
}

fn err(step: &str, path: &Path, e: impl std::fmt::Display) -> String {
    format!("{step} {}: {e}", path.display())
}

/// Path of `p` (absolute) under `root`.
fn under(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

fn make_target(target: &Path, dir: bool) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| err("mkdir", parent, e))?;
    }
    if target.symlink_metadata().is_ok() {
        return Ok(());
    }
    let r = if dir { std::fs::create_dir(target) } else { std::fs::write(target, b"").map(|_| ()) };
    r.map_err(|e| err("create mount point", target, e))
}

/// Bind `source` at `target`, then remount it read-only (and noexec) as asked, keeping the
/// flags the kernel locks on mounts inherited into a user namespace.
fn bind(source: &Path, target: &Path, writable: bool, exec: bool) -> Result<(), String> {
    let dir = source.is_dir();
    make_target(target, dir)?;
    mount_bind_recursive(source, target).map_err(|e| err("bind", source, e))?;
    let current = rustix::fs::statvfs(target).map_err(|e| err("statvfs", target, e))?.f_flag;
    let mut flags = MountFlags::BIND | MountFlags::NOSUID | MountFlags::NODEV;
    if !writable || current.contains(StatVfsMountFlags::RDONLY) {
        flags |= MountFlags::RDONLY;
    }
    if !exec || current.contains(StatVfsMountFlags::NOEXEC) {
        flags |= MountFlags::NOEXEC;
    }
    for (locked, keep) in [
        (StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
        (StatVfsMountFlags::NODIRATIME, MountFlags::NODIRATIME),
        (StatVfsMountFlags::RELATIME, MountFlags::RELATIME),
    ] {
        if current.contains(locked) {
            flags |= keep;
        }
    }
    mount_remount(target, flags, c"").map_err(|e| err("remount", target, e))
}

/// Attaches a detached tree (already restricted and idmapped) at `target`. Its type comes from
/// the tree itself: the host path may lie where our unprivileged user cannot look.
fn attach(tree: &OwnedFd, path: &Path, target: &Path) -> Result<(), String> {
    use rustix::mount::MoveMountFlags;
    let st = rustix::fs::fstat(tree).map_err(|e| err("stat", path, e))?;
    let dir = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory;
    make_target(target, dir)?;
    rustix::mount::move_mount(tree, c"", rustix::fs::CWD, target, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH)
        .map_err(|e| err("attach", path, e))
}

/// A tmpfs the tool may write (`/tmp`, `/dev/shm`) or that holds device nodes (`/dev`):
/// never executable (see the module's documentation).
fn tmpfs(target: &Path, options: &std::ffi::CStr) -> Result<(), String> {
    make_target(target, true)?;
    mount(c"tmpfs", target, c"tmpfs", MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC, options)
        .map_err(|e| err("tmpfs", target, e))
}

/// Builds the sandbox's root and pivots into it. Runs as PID 1 of the new PID namespace, with
/// capabilities in its new user namespace (dropped when the tool is executed).
/// `trees` holds, for each bind, the detached tree stage 1 prepared for it, if any. With
/// `layer` (a learning sandbox), every writable bind is covered by the throw-away write layer
/// ([`super::layer`]) as soon as it is mounted, before anything is mounted below it.
pub fn build_root(
    binds: &[Bind],
    trees: &[Option<Tree>],
    links: &[(PathBuf, PathBuf)],
    layer: bool,
) -> Result<(), String> {
    let slash = Path::new("/");
    mount_change(slash, MountPropagationFlags::REC | MountPropagationFlags::PRIVATE)
        .map_err(|e| err("make private", slash, e))?;
    // A scratch tmpfs becomes the root for a while; the host's tree stays reachable at /oldroot.
    let base = Path::new("/tmp");
    mount(c"tmpfs", base, c"tmpfs", MountFlags::NOSUID | MountFlags::NODEV, c"mode=0755,size=1m")
        .map_err(|e| err("tmpfs", base, e))?;
    std::fs::create_dir(base.join("oldroot")).map_err(|e| err("mkdir", base, e))?;
    std::fs::create_dir(base.join("newroot")).map_err(|e| err("mkdir", base, e))?;
    rustix::process::pivot_root(base, base.join("oldroot")).map_err(|e| err("pivot_root", base, e))?;
    std::env::set_current_dir(slash).map_err(|e| err("chdir", slash, e))?;
    let (old, new) = (Path::new("/oldroot"), Path::new("/newroot"));
    mount(c"tmpfs", new, c"tmpfs", MountFlags::NOSUID | MountFlags::NODEV, c"mode=0755,size=4m")
        .map_err(|e| err("tmpfs", new, e))?;
    if layer {
        super::layer::prepare()?;
    }
    let mut layered = 0;

    let (tmp, proc, dev) = (PathBuf::from("/tmp"), PathBuf::from("/proc"), PathBuf::from("/dev"));
    let mut steps: Vec<(&Path, Step)> = binds
        .iter()
        .zip(trees.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(b, t)| match t.and_then(Option::as_ref) {
            Some(t) => (b.path.as_path(), Step::Attach(b, &t.fd)),
            None => (b.path.as_path(), Step::Bind(b)),
        })
        .collect();
    steps.extend([(tmp.as_path(), Step::Tmpfs), (proc.as_path(), Step::Proc), (dev.as_path(), Step::Dev)]);
    steps.sort_by(|a, b| a.0.cmp(b.0));
    for (path, step) in steps {
        let target = under(new, path);
        match step {
            Step::Bind(b) | Step::Attach(b, _) => {
                match step {
                    Step::Attach(_, fd) => attach(fd, &b.path, &target)?,
                    _ => bind(&under(old, &b.path), &target, b.writable, b.exec)?,
                }
                if layer && b.writable {
                    super::layer::cover(&target, &b.path, layered, b.exec)?;
                    layered += 1;
                }
            }
            Step::Tmpfs => tmpfs(&target, c"mode=1777,size=64m")?,
            Step::Proc => {
                make_target(&target, true)?;
                let flags = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
                mount(c"proc", &target, c"proc", flags, c"").map_err(|e| err("mount proc", &target, e))?;
            }
            Step::Dev => {
                tmpfs(&target, c"mode=0755,size=64k")?;
                for (d, _) in DEVICES {
                    let d = Path::new(d);
                    if under(old, d).exists() {
                        // A device node cannot be executed, so nosuid/noexec would change nothing:
                        // a plain bind is enough (and spares a remount per device).
                        make_target(&under(new, d), false)?;
                        mount_bind_recursive(under(old, d), under(new, d)).map_err(|e| err("bind", d, e))?;
                    }
                }
                for (name, to) in [
                    ("fd", "/proc/self/fd"),
                    ("stdin", "/proc/self/fd/0"),
                    ("stdout", "/proc/self/fd/1"),
                    ("stderr", "/proc/self/fd/2"),
                ] {
                    let link = target.join(name);
                    std::os::unix::fs::symlink(to, &link).map_err(|e| err("symlink", &link, e))?;
                }
                tmpfs(&target.join("shm"), c"mode=1777,size=64m")?;
            }
        }
    }
    for (link, to) in links {
        let at = under(new, link);
        if at.symlink_metadata().is_err() {
            std::os::unix::fs::symlink(to, &at).map_err(|e| err("symlink", &at, e))?;
        }
    }
    for (file, contents) in SYNTHETIC_FILES {
        let at = under(new, Path::new(file));
        if at.symlink_metadata().is_err() {
            make_target(&at, false)?;
            std::fs::write(&at, contents).map_err(|e| err("write", &at, e))?;
        }
    }
    unmount(old, UnmountFlags::DETACH).map_err(|e| err("detach", old, e))?;
    std::env::set_current_dir(new).map_err(|e| err("chdir", new, e))?;
    rustix::process::pivot_root(".", ".").map_err(|e| err("pivot_root", new, e))?;
    unmount(".", UnmountFlags::DETACH).map_err(|e| err("detach", slash, e))?;
    std::env::set_current_dir(slash).map_err(|e| err("chdir", slash, e))?;
    // The root itself (mount points, synthetic files) is read-only, and runs nothing, from here on.
    mount_remount(slash, MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC, c"")
        .map_err(|e| err("remount", slash, e))?;
    Ok(())
}
