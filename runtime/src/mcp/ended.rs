//! A proxied server that ends (or never starts) while its client is connected: what the client
//! is told (a JSON-RPC error carrying the exit status and the last lines of the server's stderr)
//! and the one line with the likely fix. The derivation is pure: [`likely_fix`].

use super::arg_paths::Outside;
use crate::invoke::Status;
use std::collections::VecDeque;

/// Lines of the server's stderr kept for the report (the last ones; earlier ones are passed
/// through to the proxy's stderr and forgotten).
pub const STDERR_TAIL_LINES: usize = 20;

/// Characters kept of one stderr line in the report (the line itself is passed through whole).
pub const STDERR_LINE_CHARS: usize = 400;

/// `proxy`'s exit status when the server ended, or could not start, while the client was still
/// connected (EX_UNAVAILABLE): every request got an error saying why.
pub const SERVER_ENDED_EXIT: i32 = 69;

/// The last lines of the server's stderr, bounded.
#[derive(Debug, Default)]
pub struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    pub fn push(&mut self, line: &str) {
        if self.lines.len() == STDERR_TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line.trim_end().chars().take(STDERR_LINE_CHARS).collect());
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

/// How the server ended, in words.
pub fn describe(status: &Status) -> String {
    match status {
        Status::Exited(c) if (129..160).contains(c) => format!("killed by signal {} (exit status {c})", c - 128),
        Status::Exited(c) => format!("exit status {c}"),
        Status::Trapped(m) => format!("trapped: {}", m.lines().next().unwrap_or("trap")),
        Status::TimedOut(d) => format!("stopped by the wall-clock limit ({})", humantime::format_duration(*d)),
        Status::MemoryExceeded(m) => format!("stopped: {m}"),
        Status::Revoked => "stopped (grant revoked)".into(),
    }
}

/// The likely fix, derived from the stderr tail and the status (the last matching line wins,
/// since the last error is usually the one that ended the server). A file error on a path that
/// one of the server's arguments names (or lies under) is answered with that argument's flag
/// ([`Outside`]): a server creating `DIR/app.db` fails on the first directory of it missing in
/// the sandbox, which is broader than the one to grant.
pub fn likely_fix(status: &Status, tail: &[String], outside: &[Outside]) -> String {
    if matches!(status, Status::MemoryExceeded(_)) {
        return "it reached the memory limit: give it more with --memory (e.g. --memory 1GiB)".into();
    }
    if matches!(status, Status::TimedOut(_)) {
        return "it reached the wall-clock limit: raise --timeout, or leave it out (proxy has none by default)".into();
    }
    for line in tail.iter().rev() {
        if let Some(fix) = argument_fix(line, outside).or_else(|| fix_for_line(line)) {
            return fix;
        }
    }
    match status {
        Status::Exited(0) => "it exited by itself (status 0) before the client was done: check its arguments (it may \
                              not be a stdio MCP server) and its stderr above"
            .into(),
        _ => "see its stderr above; run it with `mcp-sandbox run` and the same flags to watch it start".into(),
    }
}

/// Words of a file error (not found, refused, read-only) in Python's, Node's and libc's lines.
const FILE_ERRORS: &[&str] = &[
    "No such file or directory",
    "ENOENT",
    "Permission denied",
    "EACCES",
    "Read-only file system",
    "read-only file system",
    "EROFS",
];

/// A file error on a path an argument names, or on a directory above it: that argument's flag.
fn argument_fix(line: &str, outside: &[Outside]) -> Option<String> {
    if !FILE_ERRORS.iter().any(|w| line.contains(w)) {
        return None;
    }
    let p = path_in(line)?;
    let o = outside.iter().find(|o| o.path.starts_with(&p))?;
    Some(format!(
        "its argument `{}` names a path outside its grant (`{p}` is not there in the sandbox): grant it with {}",
        o.arg, o.flag
    ))
}

/// The first absolute path in a line, trimmed of quotes and punctuation.
fn path_in(line: &str) -> Option<String> {
    line.split(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '`')
        .find(|w| w.starts_with('/') && w.len() > 1)
        .map(|w| w.trim_end_matches([':', ',', ';', ')', '.']).to_string())
}

/// The flag that lets a server write `path`: the nearest directory at or above it that exists
/// on the host (a server creating `DIR/db` needs `DIR`, and `--allow-write` takes an existing
/// path).
fn write_flag(path: &str) -> String {
    let p = std::path::Path::new(path);
    match p.ancestors().find(|a| a.is_dir()) {
        Some(d) if d == p || Some(d) == p.parent() => format!("--allow-write {}", d.display()),
        Some(_) | None => format!("--allow-write DIR, DIR the directory to hold `{path}` (create it first)"),
    }
}

/// Package registries a launcher (`npx`, `uvx`) downloads from: `(host in its error line, the
/// flags that declare it)`.
const REGISTRIES: &[(&str, &str)] = &[
    ("registry.npmjs.org", "--allow-net https://registry.npmjs.org"),
    ("pypi.org", "--allow-net https://pypi.org --allow-net https://files.pythonhosted.org"),
    ("files.pythonhosted.org", "--allow-net https://pypi.org --allow-net https://files.pythonhosted.org"),
];

/// Words of a failed name lookup or connection in npm's and uv's error lines.
const UNREACHABLE: &[&str] = &["EAI_AGAIN", "ENOTFOUND", "ECONNREFUSED", "dns error", "Failed to fetch", "403"];

fn fix_for_line(line: &str) -> Option<String> {
    if let Some((_, flags)) = REGISTRIES.iter().find(|(host, _)| line.contains(host))
        && UNREACHABLE.iter().any(|w| line.contains(w))
    {
        return Some(format!(
            "its package launcher could not reach the registry to download the server: declare it ({flags}); \
             once its cache (under mcp-sandbox's cache directory) holds the package, it runs without"
        ));
    }
    // The sandbox's own messages carry their fix.
    if let Some(rest) = line.split("; to allow: ").nth(1) {
        return Some(format!("a request was denied: to allow it, {rest}"));
    }
    if line.contains("is not visible in the sandbox") {
        return Some(line.trim_start_matches("mcp-sandbox: ").to_string());
    }
    if line.contains("native sandbox setup failed") {
        return Some(format!("the sandbox could not be set up ({})", line.trim_start_matches("mcp-sandbox: ")));
    }
    // `python -m PKG` for a package without `__main__`: the command line's, not the sandbox's.
    if line.contains("is a package and cannot be directly executed") {
        return Some(
            "`python -m` names a package that cannot be run (it has no `__main__`; it fails the same outside the \
             sandbox): run its console script (VENV/bin/NAME) or the module its documentation names"
                .into(),
        );
    }
    if line.contains("ModuleNotFoundError") || line.contains("No module named") {
        return Some(
            "Python cannot import its packages: grant the venv or site-packages directory with --allow-exec DIR (extension modules are mapped executable)"
                .into(),
        );
    }
    if line.contains("Failed to reserve virtual memory") || line.contains("can't start new thread") {
        return Some("the runtime could not reserve memory: raise --memory (e.g. --memory 4GiB)".into());
    }
    if line.contains("Read-only file system") || line.contains("read-only file system") || line.contains("EROFS") {
        let how = match path_in(line) {
            Some(p) => {
                format!("`{p}`: the sandbox shows it read-only, or not at all; grant it with {}", write_flag(&p))
            }
            None => "a path: the sandbox shows it read-only, or not at all; grant it with --allow-write DIR".into(),
        };
        return Some(format!(
            "it could not write {how} (its own runtime stays read-only: point its data elsewhere instead)"
        ));
    }
    let enoent = line.contains("No such file or directory") || line.contains("ENOENT");
    let eacces = line.contains("Permission denied") || line.contains("EACCES");
    if enoent || eacces {
        let what = match path_in(line) {
            Some(p) => format!("`{p}`"),
            None => "a path".into(),
        };
        let how = match path_in(line) {
            Some(p) => {
                format!("--allow-read {p} (--allow-exec if it is a program or interpreter, --allow-write to write it)")
            }
            None => "--allow-read PATH (--allow-exec for a program or interpreter, --allow-write to write)".into(),
        };
        let why = if enoent { "could not find" } else { "was refused" };
        return Some(format!(
            "it {why} {what}: outside the sandbox's grant unless granted; grant it with {how}, and give paths to it as absolute paths"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(status: Status, lines: &[&str]) -> String {
        likely_fix(&status, &lines.iter().map(|s| (*s).to_string()).collect::<Vec<_>>(), &[])
    }

    #[test]
    fn a_missing_path_is_named_with_its_grant() {
        let f = fix(
            Status::Exited(2),
            &["python3: can't open file '/srv/app/server.py': [Errno 2] No such file or directory"],
        );
        assert!(f.contains("`/srv/app/server.py`") && f.contains("--allow-read /srv/app/server.py"), "{f}");
    }

    #[test]
    fn a_read_only_path_is_named_with_allow_write() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let f = fix(Status::Exited(1), &[&format!("OSError: [Errno 30] Read-only file system: '{d}/data'")]);
        assert!(f.contains(&format!("--allow-write {d}/data")), "{f}");
        let f = fix(Status::Exited(1), &[&format!("Error: EROFS: read-only file system, open '{d}/m.json'")]);
        assert!(f.contains(&format!("`{d}/m.json`")) && f.contains(&format!("--allow-write {d} ")), "{f}");
        let f = fix(Status::Exited(1), &[&format!("EROFS: read-only file system, mkdir '{d}/a/b/c'")]);
        assert!(f.contains("create it first"), "{f}");
    }

    #[test]
    fn a_file_error_above_an_argument_gets_the_arguments_flag() {
        let o = Outside {
            arg: "/srv/data/app.db".into(),
            path: "/srv/data/app.db".into(),
            flag: "--allow-write /srv/data".into(),
            sees: "nothing there".into(),
        };
        let lines = vec!["OSError: [Errno 30] Read-only file system: '/srv'".to_string()];
        let f = likely_fix(&Status::Exited(1), &lines, std::slice::from_ref(&o));
        assert!(f.contains("`/srv/data/app.db`") && f.ends_with("--allow-write /srv/data"), "{f}");
        // A path elsewhere keeps the line's own fix.
        let lines = vec!["OSError: [Errno 30] Read-only file system: '/opt/x'".to_string()];
        assert!(likely_fix(&Status::Exited(1), &lines, &[o]).contains("`/opt/x`"));
    }

    #[test]
    fn a_package_without_main_is_not_blamed_on_the_grant() {
        let f = fix(
            Status::Exited(1),
            &[
                "/v/bin/python: No module named mcp_server_sqlite.__main__; 'mcp_server_sqlite' is a package and cannot be directly executed",
            ],
        );
        assert!(f.contains("console script") && !f.contains("--allow-exec"), "{f}");
    }

    #[test]
    fn python_without_its_packages_gets_allow_exec() {
        let f = fix(Status::Exited(1), &["Traceback …", "ModuleNotFoundError: No module named 'mcp'"]);
        assert!(f.contains("--allow-exec"), "{f}");
    }

    #[test]
    fn a_denial_carries_its_own_fix() {
        let f = fix(
            Status::Exited(1),
            &["mcp-sandbox: denied: connect tcp://10.0.0.5:443 (not declared); to allow: --allow-net 10.0.0.5:443"],
        );
        assert!(f.ends_with("--allow-net 10.0.0.5:443"), "{f}");
    }

    #[test]
    fn a_launcher_without_its_registry_is_told_to_declare_it() {
        let f = fix(
            Status::Exited(1),
            &[
                "npm error request to https://registry.npmjs.org/x failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org",
                "npm error A complete log of this run can be found in: /c/_logs/1-debug-0.log",
            ],
        );
        assert!(f.contains("--allow-net https://registry.npmjs.org)"), "{f}");
        let f = fix(Status::Exited(2), &["error: Failed to fetch: `https://pypi.org/simple/mcp-server-time/`"]);
        assert!(f.contains("--allow-net https://files.pythonhosted.org"), "{f}");
    }

    #[test]
    fn memory_and_silence() {
        assert!(fix(Status::MemoryExceeded("killed".into()), &[]).contains("--memory"));
        assert!(fix(Status::Exited(0), &[]).contains("status 0"));
        assert!(fix(Status::Exited(1), &[]).contains("mcp-sandbox run"));
        assert_eq!(describe(&Status::Exited(139)), "killed by signal 11 (exit status 139)");
    }

    #[test]
    fn the_tail_is_bounded() {
        let mut t = Tail::default();
        for i in 0..(STDERR_TAIL_LINES + 5) {
            t.push(&format!("{i}{}", "x".repeat(STDERR_LINE_CHARS)));
        }
        let lines = t.lines();
        assert_eq!(lines.len(), STDERR_TAIL_LINES);
        assert!(lines[0].starts_with('5'));
        assert_eq!(lines[0].chars().count(), STDERR_LINE_CHARS);
    }
}
