//! Paths on the proxied server's own command line that its sandbox does not show it.
//!
//! A server is often told where its data lives by an argument (`--db-path /home/me/app.db`,
//! `--repository /home/me/src`, a directory list). When that path is outside the grant the
//! server sees nothing there (and fails, often with a read-only file system error that names a
//! parent), or, under `/tmp`, the sandbox's private scratch `/tmp`: it works, and what it
//! writes is lost when it exits. Neither tells the user which flag was missing, so `proxy`
//! says so once at start: the argument, what the server sees there, and the flag that grants
//! it. This only informs: nothing is granted by it.

use crate::native::{PRIVATE_TREES, provided_paths};
use std::path::{Path, PathBuf};

/// The absolute path an argument names: the whole argument (`/data`) or an option's value
/// (`--db-path=/data/app.db`). `/` alone names nothing in particular.
fn path_of(arg: &str) -> Option<&str> {
    let p = if arg.starts_with('/') { arg } else { arg.split_once('=').map(|(_, v)| v)? };
    (p.starts_with('/') && p.len() > 1 && !p.starts_with("//")).then_some(p)
}

/// The flag that grants `path`, as seen on this host: an existing directory itself; a file or
/// a path yet to be made, its directory (servers that write a file write beside it: SQLite's
/// journal, an atomic rename); a directory that does not exist either, made first.
fn flag_for(path: &Path) -> String {
    if path.is_dir() {
        return format!("--allow-read {0} (--allow-write {0} if the server changes it)", path.display());
    }
    let dir = path.parent().unwrap_or(path);
    let flag = format!("--allow-write {}", dir.display());
    if path.is_file() {
        format!("--allow-read {} (or {flag} if the server changes it)", path.display())
    } else if dir.is_dir() {
        flag
    } else {
        format!("mkdir -p {} first, then {flag}", dir.display())
    }
}

/// An argument naming a path the server does not see.
#[derive(Debug, Clone, PartialEq)]
pub struct Outside {
    /// The argument as given.
    pub arg: String,
    /// The absolute path it names.
    pub path: PathBuf,
    /// The flag (or the step, then the flag) that grants it.
    pub flag: String,
    /// What the server sees there.
    pub sees: String,
}

impl Outside {
    /// The one-line notice.
    pub fn notice(&self) -> String {
        format!(
            "the server's argument `{}` names a path outside its grant: it sees {}; to let it use the host's, grant it: {}",
            self.arg, self.sees, self.flag
        )
    }
}

/// Each absolute-path argument of `args` that no path of `visible` (the grant, the program, the
/// system view) covers: what the server sees there and the flag that grants it.
pub fn outside(args: &[String], visible: &[PathBuf]) -> Vec<Outside> {
    let shown = |p: &Path| visible.iter().any(|v| p.starts_with(v));
    let mut out = Vec::new();
    for arg in args {
        let Some(p) = path_of(arg) else { continue };
        let path = Path::new(p);
        if shown(path) {
            continue;
        }
        let sees = match PRIVATE_TREES.iter().find(|t| path.starts_with(t)) {
            Some(t) => format!("its private {t} (what it writes there is lost when it exits)"),
            None => "nothing there (and cannot create it)".into(),
        };
        out.push(Outside { arg: arg.clone(), path: path.to_path_buf(), flag: flag_for(path), sees });
    }
    out
}

/// [`outside`] for a server granted `granted` (its grant's paths and its program): the system
/// view is added.
pub fn outside_grant(args: &[String], granted: impl IntoIterator<Item = PathBuf>) -> Vec<Outside> {
    let mut visible: Vec<PathBuf> = granted.into_iter().collect();
    visible.extend(provided_paths().into_iter().map(PathBuf::from));
    outside(args, &visible)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    fn notices(args: &[String], visible: &[PathBuf]) -> Vec<String> {
        outside(args, visible).iter().map(Outside::notice).collect()
    }

    #[test]
    fn a_path_outside_the_grant_is_named_with_its_flag() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let db = data.join("app.db");
        let args = strings(&["--db-path", db.to_str().unwrap(), "-v", "relative/x", "https://example.org/a"]);
        let n = notices(&args, &[PathBuf::from("/usr")]);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains(&format!("--allow-write {}", data.display())), "{n:?}");
        assert!(n[0].contains("sees nothing there") || n[0].contains("private /tmp"), "{n:?}");
        // Granted (or beneath a grant): nothing to say.
        assert!(notices(&args, std::slice::from_ref(&data)).is_empty());
        // An option's value, a directory that exists, a path whose directory does not.
        let n = notices(&[format!("--root={}", data.display())], &[]);
        assert!(n[0].contains(&format!("--allow-read {}", data.display())), "{n:?}");
        let n = notices(&strings(&[data.join("new/x.db").to_str().unwrap()]), &[]);
        assert!(n[0].contains("mkdir -p"), "{n:?}");
    }

    #[test]
    fn tmp_is_the_private_scratch_and_the_system_view_is_shown() {
        let n: Vec<String> = outside_grant(&strings(&["/tmp/app/test.db"]), []).iter().map(Outside::notice).collect();
        assert!(n[0].contains("its private /tmp (what it writes there is lost"), "{n:?}");
        assert!(outside_grant(&strings(&["/usr/share/zoneinfo", "/", "//x"]), []).is_empty());
    }
}
