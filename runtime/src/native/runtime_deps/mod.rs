//! The tool's own runtime is part of the tool: for a native program that is a `#!` script, a
//! Python virtual environment's console script or its `python`, a pyenv shim or a Python
//! install, a Node package's bin script or `node SCRIPT`, or a launcher that installs packages
//! at run time (`npx`, `uvx`), the interpreter and the code it needs, found from the program and
//! its arguments alone.
//!
//! Pure resolution: given the program's path, its arguments and a [`HostFs`] to read the host
//! with, [`resolve`] returns the trees to show at their own paths, each with the reason, and
//! the variables the runtime needs set. Nothing else is ever added: no home directory, no data
//! directory, only interpreter prefixes (recognised by their standard-library landmark),
//! virtual environments (recognised by `pyvenv.cfg`) and the editable installs their `.pth`
//! files name, Node package trees (recognised by `package.json`), and a launcher's own
//! per-command cache under mcp-sandbox's cache directory (the only writable tree). The grant
//! builder (`Sandbox::issue`) opens and adds them; `--verbose` and the audit's `grant.issued`
//! show them.

mod launchers;
mod node;
mod python;
#[cfg(test)]
mod tests;

pub use python::unshim;
use std::path::{Path, PathBuf};

/// `#!` interpreters followed before giving up (Linux itself follows at most 4 levels).
pub const MAX_INTERPRETER_DEPTH: usize = 4;

/// Bytes of a program read to find its `#!` line (Linux reads at most 256).
const SHEBANG_BYTES: usize = 256;

/// Directories a runtime tree may never be: granting one would show the user's files. The
/// user's home directory (`$HOME`) and every directory above it are refused too.
const NEVER: &[(&str, &str)] = &[
    ("/", "the whole filesystem"),
    ("/home", "every user's home directory"),
    ("/root", "root's home directory"),
    ("/tmp", "the shared temporary directory"),
    ("/etc", "the host's configuration"),
    ("/var", "the host's variable data"),
];

/// How the resolver reads the host: a small trait so that the logic is testable on its own.
pub trait HostFs {
    /// The first bytes of a file (`None` if it cannot be read).
    fn head(&self, path: &Path, len: usize) -> Option<Vec<u8>>;
    /// A small text file's contents.
    fn text(&self, path: &Path) -> Option<String>;
    /// The path with every symlink resolved.
    fn canonical(&self, path: &Path) -> Option<PathBuf>;
    fn is_file(&self, path: &Path) -> bool;
    fn is_dir(&self, path: &Path) -> bool;
    /// Names in a directory (empty if it cannot be listed).
    fn list(&self, path: &Path) -> Vec<String>;
    /// A variable of the environment mcp-sandbox itself runs in (`HOME`, `PYENV_VERSION`,
    /// `MCP_SANDBOX_CACHE`…): read to find things, never passed to the tool.
    fn var(&self, name: &str) -> Option<String>;
    /// The directory mcp-sandbox runs in: a relative script argument is relative to it.
    fn cwd(&self) -> Option<PathBuf>;
}

/// The host's filesystem.
#[derive(Debug)]
pub struct RealFs;

impl HostFs for RealFs {
    fn head(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut buf = Vec::with_capacity(len);
        std::fs::File::open(path).ok()?.take(len as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    }
    fn text(&self, path: &Path) -> Option<String> {
        let bytes = self.head(path, 64 << 10)?;
        String::from_utf8(bytes).ok()
    }
    fn canonical(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
    fn list(&self, path: &Path) -> Vec<String> {
        std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default()
    }
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn cwd(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
}

/// One tree the tool's runtime needs, at its host path (symlink-free), and why. Read+exec,
/// read-only, unless `writable` (a launcher's own cache: made if missing, mode 0700).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDep {
    pub path: PathBuf,
    pub why: String,
    pub writable: bool,
}

/// A variable the runtime needs set in the tool's environment (a launcher's cache location and
/// mode), and why. A variable the policy sets itself wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVar {
    pub name: String,
    pub value: String,
    pub why: String,
}

/// What [`resolve`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub deps: Vec<RuntimeDep>,
    pub env: Vec<RuntimeVar>,
    /// A `#!` interpreter that does not exist on the host (named in the failure's hint).
    pub missing_interpreter: Option<PathBuf>,
    /// The program given, when what runs is another ([`unshim`]: a pyenv shim's interpreter),
    /// and why.
    pub instead_of: Option<(PathBuf, String)>,
}

/// The trees `program` (absolute, as invoked: symlinks kept, since a venv is found through
/// them) run with `args` needs, given the `PATH` the tool will see (for `#!/usr/bin/env NAME`).
/// `visible` says whether a path is already shown executable (the system view): those are left
/// out.
pub fn resolve(
    fs: &dyn HostFs,
    program: &Path,
    args: &[String],
    tool_path_var: &str,
    visible: &dyn Fn(&Path) -> bool,
) -> Resolution {
    let home = fs.var("HOME").and_then(|h| fs.canonical(Path::new(&h)));
    let mut r = Resolver { fs, visible, path_var: tool_path_var, home, out: Resolution::default() };
    r.launcher(program, args);
    r.program(program, args, 0);
    r.out
}

struct Resolver<'a> {
    fs: &'a dyn HostFs,
    visible: &'a dyn Fn(&Path) -> bool,
    path_var: &'a str,
    /// The user's home directory (canonical): never granted, nor anything above it.
    home: Option<PathBuf>,
    out: Resolution,
}

impl Resolver<'_> {
    /// Whether `path` (canonical) may never be a runtime tree.
    fn refused(&self, path: &Path) -> bool {
        NEVER.iter().any(|(n, _)| Path::new(n) == path) || self.home.as_deref().is_some_and(|h| h.starts_with(path))
    }

    /// Adds a read-only tree (or file), unless refused, already shown, or inside one added.
    /// False if it was refused or does not exist.
    fn add(&mut self, path: PathBuf, why: String) -> bool {
        let Some(path) = self.fs.canonical(&path) else { return false };
        if self.refused(&path) {
            return false;
        }
        if (self.visible)(&path) || self.out.deps.iter().any(|d| path.starts_with(&d.path)) {
            return true;
        }
        self.out.deps.retain(|d| d.writable || !d.path.starts_with(&path));
        self.out.deps.push(RuntimeDep { path, why, writable: false });
        true
    }

    /// Adds a writable tree `rest` under `root`, which may not exist yet: `root`'s nearest
    /// existing ancestor is resolved, the rest kept as written (so that a symlink planted at the
    /// tree itself is refused when the grant is opened, never followed).
    fn add_writable(&mut self, root: &Path, rest: &Path, why: String) -> Option<PathBuf> {
        let (at, real) = root.ancestors().find_map(|a| Some((a, self.fs.canonical(a)?)))?;
        let rest = root.strip_prefix(at).ok()?.join(rest);
        if rest.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return None;
        }
        let path = real.join(rest);
        if self.refused(&path) {
            return None;
        }
        self.out.deps.retain(|d| !d.path.starts_with(&path));
        self.out.deps.push(RuntimeDep { path: path.clone(), why, writable: true });
        Some(path)
    }

    fn set(&mut self, name: &str, value: String, why: &str) {
        if !self.out.env.iter().any(|v| v.name == name) {
            self.out.env.push(RuntimeVar { name: name.into(), value, why: why.into() });
        }
    }

    fn program(&mut self, program: &Path, args: &[String], depth: usize) {
        if depth > MAX_INTERPRETER_DEPTH {
            return;
        }
        if let Some((interp, arg)) = self.shebang(program) {
            // The script's own tree, when it is part of a package or environment.
            self.script(program, false);
            let interp = if interp.file_name().is_some_and(|n| n == "env") {
                match arg.as_deref().and_then(|a| a.split_whitespace().find(|w| !w.starts_with('-'))) {
                    Some(name) => match self.which(name) {
                        Some(p) => p,
                        None => return,
                    },
                    None => return,
                }
            } else {
                interp
            };
            if !self.fs.is_file(&interp) {
                self.out.missing_interpreter = Some(interp);
                return;
            }
            // The script becomes the interpreter's first argument.
            let mut next = vec![program.display().to_string()];
            next.extend(args.iter().cloned());
            self.program(&interp, &next, depth + 1);
            // An interpreter found in no runtime tree: the file itself, so that it can start.
            let shown = self
                .fs
                .canonical(&interp)
                .is_some_and(|c| (self.visible)(&c) || self.out.deps.iter().any(|d| c.starts_with(&d.path)));
            if !shown {
                self.add(interp, "the script's #! interpreter".into());
            }
            return;
        }
        self.python(program);
        self.node(program, args);
    }

    /// `#!INTERPRETER [ARG]`.
    fn shebang(&self, program: &Path) -> Option<(PathBuf, Option<String>)> {
        let head = self.fs.head(program, SHEBANG_BYTES)?;
        shebang_of(&head)
    }

    /// `NAME` looked up in the PATH the tool will see.
    fn which(&self, name: &str) -> Option<PathBuf> {
        if name.contains('/') {
            return Some(PathBuf::from(name));
        }
        which_in(self.fs, self.path_var, name, None)
    }

    /// `arg` as the tool will read it: relative to the directory mcp-sandbox runs in.
    fn absolute(&self, arg: &str) -> Option<PathBuf> {
        let p = Path::new(arg);
        if p.is_absolute() {
            return Some(p.to_path_buf());
        }
        Some(self.fs.cwd()?.join(p))
    }
}

/// `#!INTERPRETER [ARG]` of a file's first bytes.
fn shebang_of(head: &[u8]) -> Option<(PathBuf, Option<String>)> {
    let rest = head.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim();
    let (interp, arg) = match line.split_once(char::is_whitespace) {
        Some((i, a)) => (i, Some(a.trim().to_string()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    interp.starts_with('/').then(|| (PathBuf::from(interp), arg))
}

/// `name` in the directories of `path_var` (absolute ones only), skipping `except`.
fn which_in(fs: &dyn HostFs, path_var: &str, name: &str, except: Option<&Path>) -> Option<PathBuf> {
    path_var
        .split(':')
        .filter(|d| d.starts_with('/') && except.is_none_or(|e| Path::new(d) != e))
        .map(|d| Path::new(d).join(name))
        .find(|p| fs.is_file(p))
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}
