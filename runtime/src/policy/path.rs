//! Granted paths are opened once, where they are checked, and the descriptor travels with the
//! grant to the executor that shows it to the tool: what was checked is what is granted.
//!
//! A path is never looked up again by name between the check and the mount (or preopen), so a
//! rename or a symlink swapped in meanwhile changes nothing. The rule for the check itself: **a
//! granted path is written without symlinks**. Each one is opened with `openat2` and
//! `RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS` (and, for a path bound from a `serve` argument,
//! `RESOLVE_BENEATH` its root) into an `O_PATH` descriptor; a symlink anywhere in it is refused
//! with its target named, so a link planted earlier (`~/work/notes -> ~/.ssh`) cannot make a
//! grant mean something else than what was typed. Only the path is serialized (grants go to
//! the audit log); the descriptor is not.

use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// How every granted path is looked up: no symlink, no `/proc` magic link, on any component.
const RESOLVE: ResolveFlags = ResolveFlags::NO_SYMLINKS.union(ResolveFlags::NO_MAGICLINKS);

/// An `O_PATH` descriptor of a granted file or directory, opened when the path was checked.
/// Clones share it; it is closed when the last grant holding it is gone.
#[derive(Clone)]
pub struct PathHandle {
    fd: Arc<OwnedFd>,
    dev: u64,
    ino: u64,
    dir: bool,
}

impl PathHandle {
    fn new(fd: OwnedFd) -> std::io::Result<PathHandle> {
        let st = rustix::fs::fstat(&fd)?;
        let dir = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory;
        Ok(PathHandle { fd: Arc::new(fd), dev: st.st_dev, ino: st.st_ino, dir })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn is_dir(&self) -> bool {
        self.dir
    }

    /// `/proc/self/fd/N`: opening it reaches exactly this file or directory (the kernel follows
    /// the descriptor, never a name), for APIs that only take a path.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// Whether `fd` refers to this same file or directory.
    pub fn is_same(&self, fd: BorrowedFd<'_>) -> std::io::Result<bool> {
        let st = rustix::fs::fstat(fd)?;
        Ok(st.st_dev == self.dev && st.st_ino == self.ino)
    }
}

impl PartialEq for PathHandle {
    fn eq(&self, other: &Self) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

impl Eq for PathHandle {}

impl fmt::Debug for PathHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathHandle(fd {}, {}:{})", self.fd.as_raw_fd(), self.dev, self.ino)
    }
}

/// Why a path was not opened as a grant.
#[derive(Debug)]
pub enum Refused {
    /// `link` (the path itself or one of its parents) is a symlink; `leads_to` is where the
    /// whole path leads through it, when that exists.
    Symlink {
        link: PathBuf,
        points_to: PathBuf,
        leads_to: Option<PathBuf>,
    },
    /// It leads out of the directory it must stay beneath.
    Outside,
    Io(std::io::Error),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Symlink { link, points_to, .. } => {
                write!(
                    f,
                    "{} is a symlink (to {}), and granted paths are never followed through one",
                    link.display(),
                    points_to.display()
                )
            }
            Refused::Outside => f.write_str("it leads outside the directory it must lie under"),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Refused {
    /// For a path refused for a symlink, the fix-it hint: the flag (or the policy entry) naming
    /// what it leads to, which has no symlink and so is accepted. `origin` is the flag's name
    /// or the entry's `file:line:col`.
    pub fn hint(&self, origin: &str) -> Option<String> {
        match self {
            Refused::Symlink { leads_to: Some(to), .. } => Some(name_the_target(origin, to)),
            _ => None,
        }
    }
}

fn name_the_target(origin: &str, target: &Path) -> String {
    let shown = target.display().to_string();
    if origin.starts_with("--") {
        let plain = shown.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
        let quoted = if plain { shown } else { format!("'{}'", shown.replace('\'', "'\\''")) };
        format!("to grant what it leads to, name it: {origin} {quoted}")
    } else {
        format!("to grant what it leads to, write it instead: {shown:?}")
    }
}

/// `text` taken relative to the absolute `base`, with `.` dropped and each `..` removing one
/// component: where the path is when none of its components is a symlink, which [`open`]
/// makes sure of.
pub fn lexical(base: &Path, text: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in base.join(text).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Opens a granted path named by a user or an operator (a flag, a policy file, a manifest):
/// `text` relative to `base` (a directory, itself resolved), no component a symlink. Returns
/// the path where the object is (see [`lexical`]) and its descriptor.
pub fn open(base: &Path, text: &str) -> Result<(PathBuf, PathHandle), Refused> {
    let base = std::fs::canonicalize(base).map_err(Refused::Io)?;
    let joined = base.join(text);
    // The path as written (not its lexical form), so that every component it names, `x` in
    // `x/..` included, is checked.
    match rustix::fs::openat2(rustix::fs::CWD, &joined, OFlags::PATH | OFlags::CLOEXEC, Mode::empty(), RESOLVE) {
        Ok(fd) => Ok((lexical(&base, Path::new(text)), PathHandle::new(fd).map_err(Refused::Io)?)),
        Err(rustix::io::Errno::LOOP) => Err(symlink_in(&joined)),
        Err(e) => Err(Refused::Io(e.into())),
    }
}

/// Opens `rel` (relative, without `..`) beneath the directory `root` (absolute, without
/// symlinks), for a path bound from a call's argument: `RESOLVE_BENEATH` keeps the lookup
/// under the root whatever happens to the names meanwhile.
pub fn open_beneath(root: &Path, rel: &Path) -> Result<PathHandle, Refused> {
    let dir = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let root_fd = match rustix::fs::openat2(rustix::fs::CWD, root, dir, Mode::empty(), RESOLVE) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => return Err(symlink_in(root)),
        Err(e) => return Err(Refused::Io(e.into())),
    };
    let rel = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
    let flags = OFlags::PATH | OFlags::CLOEXEC;
    match rustix::fs::openat2(&root_fd, rel, flags, Mode::empty(), RESOLVE | ResolveFlags::BENEATH) {
        Ok(fd) => PathHandle::new(fd).map_err(Refused::Io),
        Err(rustix::io::Errno::LOOP) => Err(symlink_in(&root.join(rel))),
        Err(rustix::io::Errno::XDEV) => Err(Refused::Outside),
        Err(e) => Err(Refused::Io(e.into())),
    }
}

/// The first symlink along `path` (for the message only: the refusal was the kernel's).
fn symlink_in(path: &Path) -> Refused {
    let mut prefix = PathBuf::new();
    for c in path.components() {
        prefix.push(c);
        if let Ok(to) = std::fs::read_link(&prefix) {
            let leads_to = std::fs::canonicalize(path).ok();
            return Refused::Symlink { link: prefix, points_to: to, leads_to };
        }
    }
    // Swapped back meanwhile, or a loop the kernel saw: say what the kernel said.
    Refused::Io(std::io::Error::from(rustix::io::Errno::LOOP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_paths_drop_dots_and_parents() {
        assert_eq!(lexical(Path::new("/a/b"), Path::new("c/./d/../e")), PathBuf::from("/a/b/c/e"));
        assert_eq!(lexical(Path::new("/a"), Path::new("/x/../../y")), PathBuf::from("/y"));
        assert_eq!(lexical(Path::new("/a"), Path::new(".")), PathBuf::from("/a"));
    }

    #[test]
    fn symlinks_are_refused_naming_their_target_and_handles_are_the_object() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("real/sub")).unwrap();
        std::os::unix::fs::symlink("real", base.join("link")).unwrap();
        let (path, h) = open(&base, "real/sub/..").unwrap();
        assert_eq!(path, base.join("real"));
        assert!(h.is_dir());
        for text in ["link", "link/sub", "link/../real"] {
            match open(&base, text) {
                Err(Refused::Symlink { link, points_to, leads_to }) => {
                    assert_eq!(link, base.join("link"), "{text}");
                    assert_eq!(points_to, PathBuf::from("real"));
                    assert!(leads_to.is_some_and(|t| t.starts_with(base.join("real"))), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // The descriptor is the directory that was opened, even once the name means another.
        std::fs::rename(base.join("real"), base.join("moved")).unwrap();
        std::fs::create_dir(base.join("real")).unwrap();
        let moved = rustix::fs::open(base.join("moved"), OFlags::PATH, Mode::empty()).unwrap();
        let now = rustix::fs::open(base.join("real"), OFlags::PATH, Mode::empty()).unwrap();
        assert!(h.is_same(moved.as_fd()).unwrap() && !h.is_same(now.as_fd()).unwrap());
        let through_proc = std::fs::read_dir(h.proc_path()).unwrap().count();
        assert_eq!(through_proc, 1, "the moved directory (with `sub`), not the new empty one");
    }

    #[test]
    fn beneath_a_root_nothing_leads_out() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let root = base.join("root");
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir(base.join("out")).unwrap();
        std::os::unix::fs::symlink("../out", root.join("rel")).unwrap();
        std::os::unix::fs::symlink(base.join("out"), root.join("abs")).unwrap();
        std::os::unix::fs::symlink("in", root.join("inner")).unwrap();
        assert!(open_beneath(&root, Path::new("in")).unwrap().is_dir());
        assert!(open_beneath(&root, Path::new("")).is_ok(), "the root itself");
        for rel in ["rel", "abs", "inner", "abs/x"] {
            assert!(matches!(open_beneath(&root, Path::new(rel)), Err(Refused::Symlink { .. })), "{rel}");
        }
        assert!(matches!(open_beneath(&root, Path::new("missing")), Err(Refused::Io(_))));
        // A root that became a symlink is refused too.
        std::fs::rename(&root, base.join("old")).unwrap();
        std::os::unix::fs::symlink("old", &root).unwrap();
        assert!(matches!(open_beneath(&root, Path::new("in")), Err(Refused::Symlink { .. })));
    }
}
