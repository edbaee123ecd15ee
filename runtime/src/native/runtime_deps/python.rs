//! Python: virtual environments, installation prefixes, the editable installs `.pth` files
//! name, and pyenv's shims (resolved to the interpreter they would run).

use super::{HostFs, Resolver, file_name, shebang_of, which_in};
use std::path::{Path, PathBuf};

impl Resolver<'_> {
    /// A Python interpreter: its virtual environment (`pyvenv.cfg` next to it or one level up,
    /// where CPython looks, through the path as invoked) and its installation's prefix.
    pub(super) fn python(&mut self, program: &Path) {
        let Some(real) = self.fs.canonical(program) else { return };
        if !file_name(&real).starts_with("python") && !file_name(program).starts_with("python") {
            return;
        }
        let dir = program.parent().unwrap_or(Path::new("/"));
        for root in [Some(dir), dir.parent()].into_iter().flatten() {
            let cfg = root.join("pyvenv.cfg");
            if let Some(text) = self.fs.is_file(&cfg).then(|| self.fs.text(&cfg)).flatten() {
                self.add(root.to_path_buf(), "Python virtual environment (its pyvenv.cfg)".into());
                self.editable_installs(root);
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
        if let Some(stdlib) = found
            && self.add(prefix.to_path_buf(), format!("Python installation (standard library lib/{stdlib})"))
        {
            self.editable_installs(prefix);
        }
    }

    /// The source trees that `.pth` files in `root`'s site-packages add to `sys.path`: a line
    /// naming a directory (absolute, or relative to site-packages), or setuptools' editable
    /// finder (`import __editable___NAME_finder`, whose `MAPPING` names the package
    /// directories). Granted read+exec, read-only: they are code the interpreter imports.
    fn editable_installs(&mut self, root: &Path) {
        let lib = root.join("lib");
        for version in self.fs.list(&lib).into_iter().filter(|n| n.starts_with("python")) {
            let site = lib.join(version).join("site-packages");
            let mut pth: Vec<String> = self.fs.list(&site).into_iter().filter(|n| n.ends_with(".pth")).collect();
            pth.sort();
            for name in pth {
                let Some(text) = self.fs.text(&site.join(&name)) else { continue };
                for dir in pth_paths(self.fs, &site, &text) {
                    if self.fs.is_dir(&dir) {
                        self.add(dir, format!("editable install (listed in site-packages/{name})"));
                    }
                }
            }
        }
    }
}

/// The directories one `.pth` file names (see [`Resolver::editable_installs`]).
fn pth_paths(fs: &dyn HostFs, site: &Path, text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(code) = line.strip_prefix("import").filter(|r| r.starts_with([' ', '\t'])) {
            let module = code.trim().split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
            if module.starts_with("__editable__") && module.ends_with("_finder") {
                let finder = fs.text(&site.join(format!("{module}.py"))).unwrap_or_default();
                out.extend(finder_paths(&finder));
            }
            continue;
        }
        out.push(site.join(line));
    }
    out
}

/// The absolute paths quoted on the `MAPPING` line of a setuptools editable finder.
fn finder_paths(finder: &str) -> Vec<PathBuf> {
    let Some(line) = finder.lines().find(|l| l.trim_start().starts_with("MAPPING")) else { return Vec::new() };
    line.split(['\'', '"']).skip(1).step_by(2).filter(|s| s.starts_with('/')).map(PathBuf::from).collect()
}

/// Version names pyenv would try, in order: `$PYENV_VERSION`, else the first `.python-version`
/// in the working directory or above it, else `$PYENV_ROOT/version`, else `system`.
fn pyenv_versions(fs: &dyn HostFs, root: &Path) -> (Vec<String>, String) {
    let words = |t: &str| -> Vec<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    };
    if let Some(v) = fs.var("PYENV_VERSION") {
        return (v.split(':').map(String::from).collect(), "$PYENV_VERSION".into());
    }
    if let Some(cwd) = fs.cwd() {
        for dir in cwd.ancestors() {
            let file = dir.join(".python-version");
            if let Some(t) = fs.is_file(&file).then(|| fs.text(&file)).flatten() {
                return (words(&t), file.display().to_string());
            }
        }
    }
    let global = root.join("version");
    match fs.text(&global) {
        Some(t) if !words(&t).is_empty() => (words(&t), global.display().to_string()),
        _ => (vec!["system".into()], "pyenv's default".into()),
    }
}

/// pyenv's version `name`, or, when none is installed under that name, the newest installed
/// one it is a prefix of (`3.11` → `3.11.9`), as pyenv does.
fn pyenv_version_dir(fs: &dyn HostFs, root: &Path, name: &str) -> Option<PathBuf> {
    let versions = root.join("versions");
    if fs.is_dir(&versions.join(name)) {
        return Some(versions.join(name));
    }
    let key = |v: &str| -> Vec<u64> { v.split(['.', '-']).map(|p| p.parse().unwrap_or(0)).collect() };
    fs.list(&versions)
        .into_iter()
        .filter(|v| v.strip_prefix(name).is_some_and(|rest| rest.starts_with('.')))
        .filter(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .max_by_key(|v| key(v))
        .map(|v| versions.join(v))
}

/// A pyenv shim (a bash script that runs `pyenv exec NAME`) resolved to the program it would
/// run, with why: `$PYENV_ROOT/versions/VERSION/bin/NAME` for the version pyenv would choose,
/// or, for `system`, `NAME` in the host's `PATH` outside the shims. `None` if `program` is not
/// a shim or the version it names is not installed (the shim then runs as it is, and fails
/// visibly).
pub fn unshim(fs: &dyn HostFs, program: &Path) -> Option<(PathBuf, String)> {
    let head = fs.head(program, 4096)?;
    shebang_of(&head)?;
    let text = String::from_utf8(head).ok()?;
    if !text.contains("pyenv\" exec") && !text.contains("pyenv exec") {
        return None;
    }
    let root = text.lines().find_map(|l| {
        let v = l.trim().strip_prefix("export PYENV_ROOT=")?;
        Some(PathBuf::from(v.trim_matches('"')))
    })?;
    let name = file_name(program);
    let (versions, from) = pyenv_versions(fs, &root);
    for v in &versions {
        let found = if v == "system" {
            let path = fs.var("PATH").unwrap_or_default();
            which_in(fs, &path, name, program.parent())
        } else {
            pyenv_version_dir(fs, &root, v).map(|d| d.join("bin").join(name)).filter(|p| fs.is_file(p))
        };
        if let Some(p) = found {
            return Some((p, format!("pyenv shim: version {v} (from {from})")));
        }
    }
    None
}
