//! Paths in profiles: the ones never granted whatever a tool was seen doing, and how many
//! observed files become one directory in a derived policy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

/// Paths a derived policy never grants and a learning run never shows: `(path, reason)`.
/// `~` is the user's home directory. A directory that contains one of these is never granted
/// whole either: its files are listed one by one instead.
pub const SENSITIVE: &[(&str, &str)] = &[
    ("~/.ssh", "SSH private keys and known hosts"),
    ("~/.aws", "AWS credentials"),
    ("~/.gnupg", "GnuPG private keys"),
    ("~/.kube", "Kubernetes credentials"),
    ("~/.docker", "container registry credentials"),
    ("~/.config/gcloud", "Google Cloud credentials"),
    ("~/.azure", "Azure credentials"),
    ("~/.netrc", "passwords for hosts (curl, git, ftp)"),
    ("~/.git-credentials", "git's stored passwords"),
    ("~/.npmrc", "npm registry tokens"),
    ("~/.pypirc", "PyPI upload tokens"),
    ("~/.cursor", "an MCP host's server configuration (tokens in env blocks)"),
    ("~/.config/claude", "an MCP host's server configuration"),
    ("~/.bash_history", "shell history: commands with secrets typed in them"),
    ("~/.zsh_history", "shell history: commands with secrets typed in them"),
    ("~/.password-store", "pass's password store"),
    ("~/.local/share/keyrings", "the desktop keyring"),
    ("~/.local/state/mcp-sandbox", "mcp-sandbox's own state: pins and approvals"),
    ("/etc/shadow", "password hashes"),
    ("/etc/gshadow", "group password hashes"),
    ("/etc/sudoers", "who may become root"),
    ("/etc/sudoers.d", "who may become root"),
    ("/root", "the superuser's home"),
    ("/proc", "other processes' memory, environment and command lines"),
    ("/sys", "kernel and device state"),
];

/// `path` with `~` expanded against `home` (entries with `~` are skipped without a home).
fn expand(entry: &str, home: Option<&str>) -> Option<String> {
    match entry.strip_prefix('~') {
        Some(rest) => home.map(|h| format!("{}{rest}", h.trim_end_matches('/'))),
        None => Some(entry.to_string()),
    }
}

/// Whether `path` is `dir` or under it, by components (`/a/bc` is not under `/a/b`).
pub fn is_under(path: &str, dir: &str) -> bool {
    Path::new(path).starts_with(Path::new(dir))
}

/// Why `path` is never granted, when it is (or is under) a [`SENSITIVE`] path.
pub fn sensitive_reason(path: &str, home: Option<&str>) -> Option<&'static str> {
    SENSITIVE
        .iter()
        .find(|(entry, _)| expand(entry, home).is_some_and(|e| is_under(path, &e)))
        .map(|(_, reason)| *reason)
}

/// Whether granting `dir` whole would grant a sensitive path beneath it (or other users'
/// homes: `/home` itself).
fn holds_sensitive(dir: &str, home: Option<&str>) -> bool {
    let homes = ["/home", "/Users"];
    homes.iter().any(|h| Path::new(h) == Path::new(dir))
        || home.is_some_and(|h| Path::new(h) == Path::new(dir))
        || SENSITIVE.iter().any(|(entry, _)| expand(entry, home).is_some_and(|e| is_under(&e, dir)))
}

/// How observed files are collapsed into directories.
#[derive(Debug, Clone)]
pub struct Collapse {
    /// This many distinct entries seen in one directory make the directory the grant.
    pub at: usize,
    /// A directory with fewer path components than this is never granted whole (`/home/u`
    /// has 2): its entries stay listed.
    pub min_depth: usize,
    /// The user's home directory, for `~` in [`SENSITIVE`].
    pub home: Option<String>,
}

impl Default for Collapse {
    fn default() -> Self {
        Collapse { at: 3, min_depth: 2, home: None }
    }
}

fn depth(path: &str) -> usize {
    Path::new(path).components().filter(|c| matches!(c, Component::Normal(_))).count()
}

fn parent(path: &str) -> Option<String> {
    Path::new(path).parent().map(|p| p.to_string_lossy().into_owned()).filter(|p| !p.is_empty())
}

impl Collapse {
    /// The grants covering `paths`: each directory holding at least [`Collapse::at`] entries
    /// (files, or directories already collapsed) becomes one grant, repeatedly upwards, never
    /// above [`Collapse::min_depth`] nor over a sensitive path. Sensitive paths themselves are
    /// left out (the caller reports them). Returns each grant with how many observed paths it
    /// covers.
    pub fn apply<'a>(&self, paths: impl IntoIterator<Item = &'a String>) -> BTreeMap<String, usize> {
        let home = self.home.as_deref();
        let mut grants: BTreeMap<String, usize> = BTreeMap::new();
        for p in paths {
            if sensitive_reason(p, home).is_none() {
                *grants.entry(p.clone()).or_default() += 1;
            }
        }
        loop {
            let mut by_dir: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for g in grants.keys() {
                if let Some(d) = parent(g) {
                    by_dir.entry(d).or_default().insert(g.clone());
                }
            }
            let Some((dir, members)) = by_dir
                .into_iter()
                .find(|(d, m)| m.len() >= self.at && depth(d) >= self.min_depth && !holds_sensitive(d, home))
            else {
                break;
            };
            let covered: usize = members.iter().filter_map(|m| grants.remove(m)).sum();
            // Entries deeper under `dir` (granted through other parents) fold in as well.
            let deeper: Vec<String> = grants.keys().filter(|g| is_under(g, &dir)).cloned().collect();
            let more: usize = deeper.iter().filter_map(|g| grants.remove(g)).sum();
            *grants.entry(dir).or_default() += covered + more;
        }
        grants
    }
}

/// Whether `path` is covered by one of `grants` (equal to it or under it).
pub fn covered(path: &str, grants: &BTreeSet<String>) -> bool {
    grants.iter().any(|g| is_under(path, g))
}
