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
    ("~/.claude", "an MCP host's configuration and credentials"),
    ("~/.claude.json", "an MCP host's server configuration"),
    ("~/.config/gh", "the GitHub CLI's token"),
    ("~/.cargo/credentials.toml", "crates.io tokens"),
    ("~/.cargo/credentials", "crates.io tokens (legacy name)"),
    ("~/.config/git/credentials", "git's stored passwords"),
    ("~/.vault-token", "a HashiCorp Vault token"),
    ("/etc/shadow", "password hashes"),
    ("/etc/shadow-", "password hashes (backup)"),
    ("/etc/gshadow", "group password hashes"),
    ("/etc/gshadow-", "group password hashes (backup)"),
    ("/etc/ssh", "the host's SSH private keys"),
    ("/etc/ssl/private", "TLS private keys"),
    ("/var/mail", "users' mail"),
    ("/var/spool/mail", "users' mail"),
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
/// Whether `dir` is a home directory, or holds a sensitive path: never granted whole.
pub fn holds_sensitive(dir: &str, home: Option<&str>) -> bool {
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

/// What a directory entry is, for [`host_view`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    /// A symlink, socket, device or FIFO: never granted by the view (a symlink's target is
    /// granted where it lies, if it is in the view).
    Other,
}

/// Trees never shown by the host view: the kernel's and the runtime's own (the sandbox
/// provides its own `/proc` and `/dev`), with the reason.
pub const NOT_IN_VIEW: &[(&str, &str)] = &[
    ("/proc", "the host's processes (the sandbox has its own)"),
    ("/sys", "kernel and device state"),
    ("/dev", "host devices (the sandbox has its own)"),
    ("/run", "host sockets and daemons' state"),
    ("/var/run", "host sockets and daemons' state"),
    ("/lost+found", "filesystem repair leftovers"),
];

/// The read-only view of the host `learn` shows a tool: every tree of `/` except
/// [`NOT_IN_VIEW`], [`SENSITIVE`] paths and other users' homes, as the fewest whole trees
/// (a directory holding something hidden is replaced by its entries, recursively). `list`
/// lists a directory; `skip` names trees provided otherwise (the system view).
///
/// `/tmp` is shared scratch (other programs' files come and go there): of its entries, only
/// those holding one of `named` (the paths the tool is given, its own, the working directory)
/// are shown.
pub fn host_view(
    home: Option<&str>,
    skip: &[String],
    named: &[String],
    list: &dyn Fn(&str) -> Vec<(String, EntryKind)>,
) -> Vec<String> {
    let mut out = Vec::new();
    let v = View { home, skip, named, list };
    v.cover("/", &mut out);
    out
}

struct View<'a> {
    home: Option<&'a str>,
    skip: &'a [String],
    named: &'a [String],
    list: &'a dyn Fn(&str) -> Vec<(String, EntryKind)>,
}

impl View<'_> {
    fn cover(&self, dir: &str, out: &mut Vec<String>) {
        cover(dir, self, out);
    }
}

fn cover(dir: &str, v: &View<'_>, out: &mut Vec<String>) {
    let (home, skip, list) = (v.home, v.skip, v.list);
    let own_home = |p: &str| home.is_some_and(|h| Path::new(h) == Path::new(p));
    // The superuser's home is hidden unless it is the learner's own (its secrets still are).
    let sensitive = |p: &str| {
        SENSITIVE.iter().any(|(entry, _)| expand(entry, home).is_some_and(|e| !own_home(&e) && is_under(p, &e)))
    };
    let hidden = |p: &str| {
        NOT_IN_VIEW.iter().any(|(n, _)| is_under(p, n)) || skip.iter().any(|s| is_under(p, s)) || sensitive(p)
    };
    if hidden(dir) {
        return;
    }
    // Other users' homes: in a directory of homes, only the learner's own is shown.
    let homes = ["/home", "/Users"].iter().any(|h| Path::new(h) == Path::new(dir));
    // The sandbox has its own /tmp: what the host holds there is shown entry by entry in it.
    let scratch = Path::new(dir) == Path::new("/tmp");
    let whole = dir != "/"
        && !homes
        && !scratch
        && !SENSITIVE.iter().any(|(entry, _)| expand(entry, home).is_some_and(|e| !own_home(&e) && is_under(&e, dir)))
        && !NOT_IN_VIEW.iter().any(|(n, _)| is_under(n, dir))
        && !skip.iter().any(|s| is_under(s, dir));
    if whole {
        out.push(dir.to_string());
        return;
    }
    for (path, kind) in list(dir) {
        if homes && !home.is_some_and(|h| is_under(h, &path)) {
            continue;
        }
        if scratch && !v.named.iter().any(|n| is_under(n, &path)) {
            continue;
        }
        match kind {
            EntryKind::Dir => v.cover(&path, out),
            EntryKind::File if !hidden(&path) => out.push(path),
            _ => {}
        }
    }
}
