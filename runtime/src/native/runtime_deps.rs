//! The tool's own runtime is part of the tool: for a native program that is a `#!` script, a
//! Python virtual environment's console script or its `python`, a pyenv or other Python install,
//! a Node package's bin script or `node SCRIPT`, the interpreter and the code it needs, found
//! from the program (and, for `node`, its script argument) alone.
//!
//! Pure resolution: given the program's path, its arguments and a [`HostFs`] to read the host
//! with, [`resolve`] returns the trees to show read+exec (read-only) at their own paths, each
//! with the reason. Nothing else is ever added: no home directory, no data directory, only
//! interpreter prefixes (recognised by their standard-library landmark), virtual environments
//! (recognised by `pyvenv.cfg`) and Node package trees (recognised by `package.json`). The
//! grant builder (`Sandbox::issue`) opens and adds them; `--verbose` and the audit's
//! `grant.issued` show them.

use std::path::{Path, PathBuf};

/// `#!` interpreters followed before giving up (Linux itself follows at most 4 levels).
pub const MAX_INTERPRETER_DEPTH: usize = 4;

/// Bytes of a program read to find its `#!` line (Linux reads at most 256).
const SHEBANG_BYTES: usize = 256;

/// Directories a runtime tree may never be: granting one would show the user's files.
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
}

/// One tree the tool's runtime needs, at its host path (symlink-free), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDep {
    pub path: PathBuf,
    pub why: String,
}

/// What [`resolve`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub deps: Vec<RuntimeDep>,
    /// A `#!` interpreter that does not exist on the host (named in the failure's hint).
    pub missing_interpreter: Option<PathBuf>,
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
    let mut r = Resolver { fs, visible, path_var: tool_path_var, out: Resolution::default() };
    r.program(program, args, 0);
    r.out
}

struct Resolver<'a> {
    fs: &'a dyn HostFs,
    visible: &'a dyn Fn(&Path) -> bool,
    path_var: &'a str,
    out: Resolution,
}

impl Resolver<'_> {
    fn add(&mut self, path: PathBuf, why: String) {
        let Some(path) = self.fs.canonical(&path) else { return };
        if NEVER.iter().any(|(n, _)| Path::new(n) == path) || (self.visible)(&path) {
            return;
        }
        if self.out.deps.iter().any(|d| path.starts_with(&d.path)) {
            return;
        }
        self.out.deps.retain(|d| !d.path.starts_with(&path));
        self.out.deps.push(RuntimeDep { path, why });
    }

    fn program(&mut self, program: &Path, args: &[String], depth: usize) {
        if depth > MAX_INTERPRETER_DEPTH {
            return;
        }
        if let Some((interp, arg)) = self.shebang(program) {
            // The script's own tree, when it is part of a package or environment.
            self.script(program);
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
        let rest = head.strip_prefix(b"#!")?;
        let line = rest.split(|&b| b == b'\n').next()?;
        let line = std::str::from_utf8(line).ok()?.trim();
        let (interp, arg) = match line.split_once(char::is_whitespace) {
            Some((i, a)) => (i, Some(a.trim().to_string()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        interp.starts_with('/').then(|| (PathBuf::from(interp), arg))
    }

    /// `NAME` looked up in the PATH the tool will see.
    fn which(&self, name: &str) -> Option<PathBuf> {
        if name.contains('/') {
            return Some(PathBuf::from(name));
        }
        self.path_var
            .split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join(name))
            .find(|p| self.fs.is_file(p))
    }

    /// A Python interpreter: its virtual environment (`pyvenv.cfg` next to it or one level up,
    /// where CPython looks, through the path as invoked) and its installation's prefix.
    fn python(&mut self, program: &Path) {
        let Some(real) = self.fs.canonical(program) else { return };
        if !file_name(&real).starts_with("python") && !file_name(program).starts_with("python") {
            return;
        }
        let dir = program.parent().unwrap_or(Path::new("/"));
        for root in [Some(dir), dir.parent()].into_iter().flatten() {
            let cfg = root.join("pyvenv.cfg");
            if let Some(text) = self.fs.is_file(&cfg).then(|| self.fs.text(&cfg)).flatten() {
                self.add(root.to_path_buf(), "Python virtual environment (its pyvenv.cfg)".into());
                let home = text.lines().find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == "home").then(|| PathBuf::from(v.trim()))
                });
                if let Some(parent) = home.as_deref().and_then(Path::parent) {
                    self.python_prefix(parent);
                }
                break;
            }
        }
        if let Some(prefix) = real.parent().and_then(Path::parent) {
            self.python_prefix(prefix);
        }
    }

    /// `prefix` if it holds a standard library (`lib/pythonX.Y/os.py`, CPython's landmark).
    fn python_prefix(&mut self, prefix: &Path) {
        let lib = prefix.join("lib");
        let found = self
            .fs
            .list(&lib)
            .into_iter()
            .filter(|n| n.starts_with("python"))
            .find(|n| self.fs.is_file(&lib.join(n).join("os.py")));
        if let Some(stdlib) = found {
            self.add(prefix.to_path_buf(), format!("Python installation (standard library lib/{stdlib})"));
        }
    }

    /// `node`: its installation's prefix (when it carries `lib/node_modules`), and the package
    /// tree of the script it runs (its first argument that is not an option).
    fn node(&mut self, program: &Path, args: &[String]) {
        let Some(real) = self.fs.canonical(program) else { return };
        if !file_name(&real).starts_with("node") {
            return;
        }
        if let Some(prefix) = real.parent().and_then(Path::parent)
            && self.fs.is_dir(&prefix.join("lib/node_modules"))
        {
            self.add(prefix.to_path_buf(), "Node installation (lib/node_modules)".into());
        }
        if let Some(script) = args.iter().find(|a| !a.starts_with('-')).map(PathBuf::from)
            && script.is_absolute()
        {
            self.script(&script);
        }
    }

    /// A script's package tree: the nearest directory above it with a `package.json`; when that
    /// package is installed in a `node_modules` directory, that whole directory (its
    /// dependencies are its siblings there).
    fn script(&mut self, script: &Path) {
        let Some(real) = self.fs.canonical(script) else { return };
        let Some(package) =
            real.ancestors().skip(1).take(MAX_PACKAGE_DEPTH).find(|d| self.fs.is_file(&d.join("package.json")))
        else {
            return;
        };
        let modules = package.ancestors().skip(1).take(2).find(|d| file_name(d) == "node_modules");
        match modules {
            Some(m) => {
                self.add(m.to_path_buf(), format!("Node packages (the script's package {})", file_name(package)))
            }
            None => self.add(package.to_path_buf(), "Node package (its package.json and node_modules)".into()),
        }
    }
}

/// Directories above a script searched for its `package.json`.
const MAX_PACKAGE_DEPTH: usize = 8;

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}
