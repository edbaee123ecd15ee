//! The tool's working directory. A native tool starts in the caller's (the directory `run` or
//! `proxy` was started in) when the grant shows it, that is when it is a granted directory or
//! lies below one (granted paths appear at their host paths inside), so that a relative path in
//! its arguments names what it named for the caller; otherwise in its private `/tmp`, as
//! before. A WebAssembly component always starts at `/`: WASI's libc (wasi-libc, which Rust and
//! C components are built on) resolves relative paths from there and never asks the host for a
//! directory (`wasi:cli/environment.initial-cwd` is not read). Either way, a relative argument
//! that names something in the caller's directory the tool will not resolve gets a one-line
//! hint whose fix works. Pure: paths in, a decision out.

use std::path::{Path, PathBuf};

/// Where a native tool starts: `caller` (absolute, as `std::env::current_dir` gives it) when
/// one of the `granted` paths is it or above it; `None` when it is not shown to the tool.
pub fn tool_dir<'a>(caller: Option<&Path>, granted: impl IntoIterator<Item = &'a Path>) -> Option<PathBuf> {
    let dir = caller.filter(|d| d.is_absolute())?;
    granted.into_iter().any(|g| dir.starts_with(g)).then(|| dir.to_path_buf())
}

/// Which executor runs the tool: what a relative path means to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    /// Starts in the caller's directory when granted ([`tool_dir`]).
    Native,
    /// Resolves relative paths from `/`, always.
    Component,
}

/// For a tool that does not start in `caller`: one line about the first argument that is a
/// relative path naming something there (`exists`, given it joined to `caller`), with fixes
/// that work when followed: for a native tool, grant the directory (it then starts there) or
/// grant the path itself and pass it whole; for a component, the latter. `None` when no
/// argument is such a path.
pub fn relative_hint(
    executor: Executor,
    caller: &Path,
    args: &[String],
    exists: impl Fn(&Path) -> bool,
) -> Option<String> {
    let arg = args.iter().find(|a| {
        let p = Path::new(a.as_str());
        !a.is_empty() && !a.starts_with('-') && p.is_relative() && exists(&caller.join(p))
    })?;
    let whole = caller.join(arg);
    let (dir, whole) = (caller.display(), whole.display());
    let pass_whole = format!("--allow-read {whole}, and {whole} as the argument");
    Some(match executor {
        Executor::Native => format!(
            "`{arg}` is relative to {dir}, which the tool cannot see (not granted), so it runs elsewhere; \
             to run it in {dir}: --allow-read {dir} (or --allow-write); or grant just the path and pass it whole: {pass_whole}"
        ),
        Executor::Component => format!(
            "`{arg}` is relative to {dir}, but a WebAssembly component resolves relative paths from / \
             (WASI's libc has no working directory to start in); grant the path and pass it whole: {pass_whole}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> &Path {
        Path::new(s)
    }

    #[test]
    fn the_tool_starts_in_the_callers_directory_when_a_grant_shows_it() {
        let here = Some(p("/home/u/proj/src"));
        assert_eq!(tool_dir(here, [p("/home/u/proj/src")]), Some(PathBuf::from("/home/u/proj/src")));
        assert_eq!(tool_dir(here, [p("/etc/x"), p("/home/u/proj")]), Some(PathBuf::from("/home/u/proj/src")));
        // Not shown: another tree, a sibling whose name extends ours, a file in it, nothing.
        assert_eq!(tool_dir(here, [p("/home/u/other")]), None);
        assert_eq!(tool_dir(here, [p("/home/u/proj/sr")]), None);
        assert_eq!(tool_dir(here, [p("/home/u/proj/src/main.rs")]), None);
        assert_eq!(tool_dir(here, []), None);
        // No caller directory (`serve`), or a relative one: where it always started.
        assert_eq!(tool_dir(None, [p("/")]), None);
        assert_eq!(tool_dir(Some(p("proj")), [p("/")]), None);
    }

    #[test]
    fn a_relative_argument_naming_a_file_here_gets_a_hint_with_both_fixes() {
        let args: Vec<String> = ["-n", "--x=data", "", "/etc/hosts", "nothing", "data/q.txt"].map(String::from).into();
        let exists = |q: &Path| q == p("/w/data/q.txt") || q == p("/w/data");
        let line = relative_hint(Executor::Native, p("/w"), &args, exists).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("`data/q.txt` is relative to /w,"), "{line}");
        assert!(line.contains("--allow-read /w "), "{line}");
        assert!(line.contains("--allow-read /w/data/q.txt, and /w/data/q.txt as the argument"), "{line}");
        // Flags, absolute paths and names of nothing here get none.
        assert_eq!(relative_hint(Executor::Native, p("/w"), &args[..5], exists), None);
        // A component cannot start in /w, granted or not: only the whole path helps it.
        let line = relative_hint(Executor::Component, p("/w"), &args, exists).unwrap();
        assert!(line.contains("from /") && !line.contains("--allow-read /w "), "{line}");
        assert!(line.ends_with("--allow-read /w/data/q.txt, and /w/data/q.txt as the argument"), "{line}");
    }
}
