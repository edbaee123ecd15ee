//! The resolution on an in-memory host: files, directories, symlinks, variables and a working
//! directory, each test building only what it is about.
#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
struct FakeFs {
    files: BTreeMap<PathBuf, String>,
    dirs: BTreeSet<PathBuf>,
    links: BTreeMap<PathBuf, PathBuf>,
    vars: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
}

impl FakeFs {
    fn file(mut self, path: &str, text: &str) -> Self {
        self.parents(Path::new(path));
        self.files.insert(path.into(), text.into());
        self
    }
    fn dir(mut self, path: &str) -> Self {
        self.parents(Path::new(path));
        self.dirs.insert(path.into());
        self
    }
    fn link(mut self, path: &str, to: &str) -> Self {
        self.parents(Path::new(path));
        self.links.insert(path.into(), to.into());
        self
    }
    fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }
    fn cwd(mut self, path: &str) -> Self {
        self.cwd = Some(path.into());
        self
    }
    fn parents(&mut self, path: &Path) {
        for a in path.ancestors().skip(1) {
            self.dirs.insert(a.to_path_buf());
        }
    }
    /// Symlinks resolved component by component (absolute targets, or relative to the link).
    fn resolve(&self, path: &Path) -> PathBuf {
        let mut out = PathBuf::from("/");
        for c in path.components().skip(1) {
            let next = out.join(c);
            out = match self.links.get(&next) {
                Some(to) => self.resolve(&out.join(to)),
                None => crate::policy::path::lexical(Path::new("/"), &next),
            };
        }
        out
    }
}

impl HostFs for FakeFs {
    fn head(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        let t = self.files.get(&self.resolve(path))?;
        Some(t.as_bytes()[..t.len().min(len)].to_vec())
    }
    fn text(&self, path: &Path) -> Option<String> {
        self.files.get(&self.resolve(path)).cloned()
    }
    fn canonical(&self, path: &Path) -> Option<PathBuf> {
        let r = self.resolve(path);
        (self.files.contains_key(&r) || self.dirs.contains(&r)).then_some(r)
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(&self.resolve(path))
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(&self.resolve(path))
    }
    fn list(&self, path: &Path) -> Vec<String> {
        let dir = self.resolve(path);
        let names = self.files.keys().chain(self.dirs.iter()).chain(self.links.keys());
        let mut out: Vec<String> =
            names.filter(|p| p.parent() == Some(dir.as_path())).map(|p| file_name(p).to_string()).collect();
        out.sort();
        out.dedup();
        out
    }
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn cwd(&self) -> Option<PathBuf> {
        self.cwd.clone()
    }
}

const SYSTEM: &[&str] = &["/usr", "/bin", "/lib"];

fn resolve_with(fs: &FakeFs, program: &str, args: &[&str]) -> Resolution {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let visible = |p: &Path| SYSTEM.iter().any(|s| p.starts_with(s));
    resolve(fs, Path::new(program), &args, "/usr/local/bin:/usr/bin:/bin", &visible)
}

fn paths(r: &Resolution) -> Vec<String> {
    r.deps.iter().map(|d| format!("{}{}", d.path.display(), if d.writable { " (rw)" } else { "" })).collect()
}

fn env(r: &Resolution, name: &str) -> Option<String> {
    r.env.iter().find(|v| v.name == name).map(|v| v.value.clone())
}

/// A pyenv install of 3.11.7 (and 3.11.10, 3.12.1) under /home/u/.pyenv, with its shims.
fn pyenv() -> FakeFs {
    let shim = "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${0##*/}\"\n\n\
                export PYENV_ROOT=\"/home/u/.pyenv\"\nexec \"/home/u/.pyenv/libexec/pyenv\" exec \"$program\" \"$@\"\n";
    let mut fs =
        FakeFs::default().var("HOME", "/home/u").file("/usr/bin/bash", "\x7fELF").file("/usr/bin/env", "\x7fELF");
    for v in ["3.11.7", "3.11.10", "3.12.1"] {
        fs = fs
            .file(&format!("/home/u/.pyenv/versions/{v}/bin/python3.11"), "\x7fELF")
            .link(&format!("/home/u/.pyenv/versions/{v}/bin/python3"), "python3.11")
            .file(&format!("/home/u/.pyenv/versions/{v}/lib/python3.11/os.py"), "");
    }
    fs.file("/home/u/.pyenv/shims/python3", shim)
        .file("/home/u/.pyenv/shims/python", shim)
        .file("/home/u/.pyenv/version", "3.11.7\n")
        .file("/usr/bin/python3", "\x7fELF")
}

#[test]
fn a_venv_script_gets_the_venv_and_the_base_interpreter_never_the_home_directory() {
    let fs = pyenv()
        .file("/home/u/app/.venv/pyvenv.cfg", "home = /home/u/.pyenv/versions/3.11.7/bin\n")
        .link("/home/u/app/.venv/bin/python", "/home/u/.pyenv/versions/3.11.7/bin/python3")
        .file("/home/u/app/.venv/bin/mcp-server-time", "#!/home/u/app/.venv/bin/python\nimport sys\n")
        .file("/home/u/app/.venv/lib/python3.11/site-packages/mcp/__init__.py", "");
    let r = resolve_with(&fs, "/home/u/app/.venv/bin/mcp-server-time", &[]);
    assert_eq!(paths(&r), ["/home/u/app/.venv", "/home/u/.pyenv/versions/3.11.7"]);
    assert!(r.env.is_empty() && r.missing_interpreter.is_none());
}

#[test]
fn a_package_json_in_the_home_directory_is_never_granted_the_script_alone_is() {
    let fs = FakeFs::default()
        .var("HOME", "/home/u")
        .file("/usr/bin/node", "\x7fELF")
        .file("/home/u/package.json", "{}")
        .file("/home/u/.ssh/id_ed25519", "secret")
        .file("/home/u/server.js", "console.log(1)");
    let r = resolve_with(&fs, "/usr/bin/node", &["/home/u/server.js"]);
    assert_eq!(paths(&r), ["/home/u/server.js"]);
}

#[test]
fn a_relative_node_script_is_taken_from_the_working_directory() {
    let fs = FakeFs::default()
        .var("HOME", "/home/u")
        .cwd("/home/u/srv")
        .file("/usr/bin/node", "\x7fELF")
        .file("/home/u/srv/package.json", "{}")
        .file("/home/u/srv/node_modules/x/index.js", "")
        .file("/home/u/srv/server.js", "");
    let r = resolve_with(&fs, "/usr/bin/node", &["--enable-source-maps", "server.js"]);
    assert_eq!(paths(&r), ["/home/u/srv"]);
    // No package: the script alone.
    let fs = FakeFs::default().var("HOME", "/home/u").cwd("/opt/s").file("/usr/bin/node", "").file("/opt/s/a.js", "");
    assert_eq!(paths(&resolve_with(&fs, "/usr/bin/node", &["a.js"])), ["/opt/s/a.js"]);
}

#[test]
fn a_pyenv_shim_resolves_to_the_interpreter_pyenv_would_choose() {
    let fs = pyenv().cwd("/work");
    let (p, why) = unshim(&fs, Path::new("/home/u/.pyenv/shims/python3")).unwrap();
    assert_eq!(p, PathBuf::from("/home/u/.pyenv/versions/3.11.7/bin/python3"));
    assert!(why.contains("3.11.7") && why.contains("/home/u/.pyenv/version"), "{why}");
    // A `.python-version` in the working directory or above it comes first; a prefix picks the
    // newest version it names (3.11.10, not 3.11.7: numbers, not strings).
    let fs = pyenv().cwd("/work/proj/sub").file("/work/proj/.python-version", "3.11\n");
    assert_eq!(
        unshim(&fs, Path::new("/home/u/.pyenv/shims/python3")).unwrap().0.parent().unwrap(),
        Path::new("/home/u/.pyenv/versions/3.11.10/bin")
    );
    // PYENV_VERSION before both; `system` is the host's PATH outside the shims.
    let fs = pyenv().var("PYENV_VERSION", "system").var("PATH", "/home/u/.pyenv/shims:/usr/bin");
    assert_eq!(unshim(&fs, Path::new("/home/u/.pyenv/shims/python3")).unwrap().0, PathBuf::from("/usr/bin/python3"));
    // A version not installed: not resolved (the shim runs, and fails visibly).
    let fs = pyenv().var("PYENV_VERSION", "2.7.18");
    assert!(unshim(&fs, Path::new("/home/u/.pyenv/shims/python3")).is_none());
    // Not a shim.
    assert!(unshim(&pyenv(), Path::new("/usr/bin/python3")).is_none());
    // What the unshimmed interpreter needs: its prefix.
    let r = resolve_with(&pyenv(), "/home/u/.pyenv/versions/3.11.7/bin/python3", &["-m", "x"]);
    assert_eq!(paths(&r), ["/home/u/.pyenv/versions/3.11.7"]);
}

#[test]
fn editable_installs_in_a_venv_are_granted_read_only() {
    let site = "/srv/app/.venv/lib/python3.11/site-packages";
    let fs = pyenv()
        .file("/srv/app/.venv/pyvenv.cfg", "home = /home/u/.pyenv/versions/3.11.7/bin\n")
        .link("/srv/app/.venv/bin/python", "/home/u/.pyenv/versions/3.11.7/bin/python3")
        .file(&format!("{site}/_mylib.pth"), "# a path per line\n/src/mylib\n\n../../../../../../opt/shared\n")
        .file(&format!("{site}/distutils-precedence.pth"), "import os; var = 'SETUPTOOLS_USE_DISTUTILS'\n")
        .file(
            &format!("{site}/__editable__.tool-0.1.pth"),
            "import __editable___tool_0_1_finder; __editable___tool_0_1_finder.install('x')\n",
        )
        .file(
            &format!("{site}/__editable___tool_0_1_finder.py"),
            "import sys\nMAPPING: dict[str, str] = {'tool': '/work/tool/src/tool'}\nNAMESPACES = {}\n",
        )
        .file(&format!("{site}/gone.pth"), "/nowhere/at/all\n/home\n")
        .dir("/src/mylib")
        .dir("/opt/shared")
        .dir("/work/tool/src/tool");
    let r = resolve_with(&fs, "/srv/app/.venv/bin/python", &[]);
    assert_eq!(
        paths(&r),
        ["/srv/app/.venv", "/work/tool/src/tool", "/src/mylib", "/opt/shared", "/home/u/.pyenv/versions/3.11.7"]
    );
    assert!(r.deps.iter().all(|d| !d.writable));
    assert!(r.deps[1].why.contains("__editable__.tool-0.1.pth"), "{:?}", r.deps[1]);
}

#[test]
fn npx_gets_a_cache_of_its_own_per_package_never_the_users() {
    let fs = FakeFs::default()
        .var("HOME", "/home/u")
        .file("/usr/lib/node_modules/npm/bin/npx-cli.js", "#!/usr/bin/env node\n")
        .link("/usr/bin/npx", "../lib/node_modules/npm/bin/npx-cli.js")
        .file("/usr/bin/node", "\x7fELF")
        .dir("/home/u/.npm/_npx")
        .dir("/home/u/.cache");
    let r = resolve_with(&fs, "/usr/bin/npx", &["-y", "@modelcontextprotocol/server-filesystem", "/data"]);
    // The name npx itself gives its install directory (`ls ~/.npm/_npx` after `npx -y
    // @modelcontextprotocol/server-filesystem@2026.8.31`).
    assert_eq!(npx_hash_of("@modelcontextprotocol/server-filesystem@2026.8.31"), "68b53d3fd47bf8db");
    let hash = npx_hash_of("@modelcontextprotocol/server-filesystem");
    let cache = format!("/home/u/.cache/mcp-sandbox/npx/{hash}");
    assert_eq!(paths(&r), [format!("{cache} (rw)")]);
    assert_eq!(env(&r, "npm_config_cache"), Some(cache));
    assert_eq!(env(&r, "npm_config_prefer_offline").as_deref(), Some("true"));
    // `--package`, `npm exec`, `$MCP_SANDBOX_CACHE`; another package, another cache.
    let fs = fs.var("MCP_SANDBOX_CACHE", "/var/cache/ms").dir("/var/cache/ms");
    let r = resolve_with(&fs, "/usr/bin/npx", &["--yes", "--package=left-pad", "--", "lp", "x"]);
    assert_eq!(paths(&r), [format!("/var/cache/ms/npx/{} (rw)", npx_hash_of("left-pad"))]);
    let fs = fs
        .link("/usr/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")
        .file("/usr/lib/node_modules/npm/bin/npm-cli.js", "#!/usr/bin/env node\n");
    let r = resolve_with(&fs, "/usr/bin/npm", &["exec", "--registry", "https://r.example", "left-pad"]);
    assert_eq!(paths(&r), [format!("/var/cache/ms/npx/{} (rw)", npx_hash_of("left-pad"))]);
    // A symlink planted where the cache goes is kept as the path (the grant's open refuses
    // it), never followed to where it leads.
    let planted = format!("/var/cache/ms/npx/{}", npx_hash_of("left-pad"));
    let fs = fs.dir("/home/u/.ssh").link(&planted, "/home/u/.ssh");
    let r = resolve_with(&fs, "/usr/bin/npx", &["-y", "left-pad"]);
    assert_eq!(paths(&r), [format!("{planted} (rw)")]);
    // `--call` names no package: nothing.
    assert!(resolve_with(&fs, "/usr/bin/npx", &["-c", "echo hi"]).deps.is_empty());
}

fn npx_hash_of(p: &str) -> String {
    launchers::npx_hash(&[p.to_string()])
}

#[test]
fn uvx_gets_a_cache_of_its_own_and_runs_offline_once_it_holds_an_environment() {
    let fs = FakeFs::default()
        .var("HOME", "/home/u")
        .file("/home/u/.local/bin/uvx", "\x7fELF")
        .file("/home/u/.local/bin/uv", "\x7fELF")
        .dir("/home/u/.cache");
    let args = ["--from", "mcp-server-time==2026.10.19", "mcp-server-time"];
    let r = resolve_with(&fs, "/home/u/.local/bin/uvx", &args);
    assert_eq!(paths(&r)[0], "/home/u/.local/bin/uv", "uvx runs the uv next to it");
    let dir = r.deps[1].path.clone();
    assert!(dir.starts_with("/home/u/.cache/mcp-sandbox/uvx/") && r.deps[1].writable, "{r:?}");
    assert_eq!(env(&r, "UV_CACHE_DIR"), Some(format!("{}/cache", dir.display())));
    assert_eq!(env(&r, "UV_OFFLINE"), None);
    let fs = fs.dir(&format!("{}/cache/environments-v2/8b0cbae4892decd7", dir.display()));
    let again = resolve_with(&fs, "/home/u/.local/bin/uvx", &args);
    assert_eq!(paths(&again)[1], format!("{} (rw)", dir.display()), "the same command, the same cache");
    assert_eq!(env(&again, "UV_OFFLINE").as_deref(), Some("1"));
    let other = resolve_with(&fs, "/home/u/.local/bin/uvx", &["mcp-server-git"]);
    assert_ne!(other.deps[1].path, dir);
}

#[test]
fn the_home_directory_and_above_are_never_a_runtime_tree() {
    // A venv whose .pth names the home directory, and a prefix that is the home directory.
    let fs = FakeFs::default()
        .var("HOME", "/home/u")
        .file("/home/u/lib/python3.11/os.py", "")
        .file("/home/u/bin/python3", "\x7fELF")
        .file("/home/u/v/pyvenv.cfg", "home = /home/u/bin\n")
        .link("/home/u/v/bin/python", "/home/u/bin/python3")
        .file("/home/u/v/lib/python3.11/site-packages/a.pth", "/home/u\n/home\n/\n");
    let r = resolve_with(&fs, "/home/u/v/bin/python", &[]);
    assert_eq!(paths(&r), ["/home/u/v"]);
}
