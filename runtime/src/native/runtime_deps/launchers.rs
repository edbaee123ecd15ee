//! Launchers that install a package at run time and run it: `npx` (`npm exec`) and `uvx`
//! (`uv tool run`).
//!
//! Each gets a cache of its own per command, `CACHE/npx/HASH` or `CACHE/uvx/HASH` under
//! mcp-sandbox's cache directory (`$MCP_SANDBOX_CACHE`, else `$XDG_CACHE_HOME/mcp-sandbox`,
//! else `~/.cache/mcp-sandbox`), granted read+write+exec and pointed to by the launcher's own
//! variable. Never the user's `~/.npm` or `~/.cache/uv`: both launchers write to their cache
//! even to read it (npm rewrites an index bucket on every lookup and locks and rewrites the
//! install directory on every start; uv locks its cache), so a read-only one does not work,
//! and a writable one would let a confined server rewrite what the user's unconfined npm or uv
//! installs next (cache poisoning). One cache per command (the hash of the packages it names)
//! keeps one server from rewriting another's code.
//!
//! Downloads need the registry declared (`--allow-net https://registry.npmjs.org`, `--allow-net
//! https://pypi.org --allow-net https://files.pythonhosted.org`; both launchers honour the
//! `HTTPS_PROXY` the sandbox sets). Once the cache holds the package, it runs offline: npx is
//! told to prefer its cache (`npm_config_prefer_offline`, so it does not ask the registry for
//! what it holds), uvx is run offline (`UV_OFFLINE`) once its cache holds an environment.

use super::{Resolver, file_name};
use crate::policy::path::lexical;
use sha2::{Digest, Sha256, Sha512};
use std::path::{Path, PathBuf};

/// npm options that take a value as the next argument (the rest are flags or `--name=value`).
const NPM_VALUE_OPTIONS: &[&str] = &[
    "--package",
    "-p",
    "--call",
    "-c",
    "--registry",
    "--cache",
    "--userconfig",
    "--loglevel",
    "--workspace",
    "-w",
    "--prefix",
    "--script-shell",
    "--node-options",
];

/// uv options that take a value as the next argument.
const UV_VALUE_OPTIONS: &[&str] = &[
    "--from",
    "--with",
    "--with-editable",
    "--with-requirements",
    "--python",
    "-p",
    "--index",
    "--default-index",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--constraints",
    "-c",
    "--overrides",
    "--env-file",
    "--cache-dir",
    "--directory",
    "--project",
    "--config-file",
];

impl Resolver<'_> {
    /// `npx …`, `npm exec …`, `uvx …`, `uv tool run …`: the launcher's own cache.
    pub(super) fn launcher(&mut self, program: &Path, args: &[String]) {
        let real = self.fs.canonical(program).unwrap_or_else(|| program.to_path_buf());
        let (name, real_name) = (file_name(program), file_name(&real));
        let first = args.first().map(String::as_str);
        if name == "npx" || real_name == "npx-cli.js" {
            self.npx(args);
        } else if (name == "npm" || real_name == "npm-cli.js") && matches!(first, Some("exec" | "x")) {
            self.npx(&args[1..]);
        } else if name == "uvx" {
            // uvx runs the `uv` next to it.
            if let Some(uv) = real.parent().map(|d| d.join("uv")).filter(|p| self.fs.is_file(p)) {
                self.add(uv, "uvx runs the uv next to it".into());
            }
            self.uvx(args);
        } else if name == "uv" && first == Some("tool") && matches!(args.get(1).map(String::as_str), Some("run")) {
            self.uvx(&args[2..]);
        }
    }

    /// mcp-sandbox's cache directory for launchers.
    fn cache_root(&self) -> Option<PathBuf> {
        if let Some(d) = self.fs.var("MCP_SANDBOX_CACHE") {
            return Some(PathBuf::from(d));
        }
        let base = self
            .fs
            .var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| self.fs.var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("mcp-sandbox"))
    }

    fn npx(&mut self, args: &[String]) {
        let Some(packages) = npx_packages(args, |a| self.absolute(a)) else { return };
        let hash = npx_hash(&packages);
        let Some(root) = self.cache_root() else { return };
        let why = format!("npx's cache for {} (its own; made if missing)", packages.join(" "));
        let Some(dir) = self.add_writable(&root, &Path::new("npx").join(&hash), why) else { return };
        let why = "npx: its cache, and to use what it holds before asking the registry";
        self.set("npm_config_cache", dir.display().to_string(), why);
        self.set("npm_config_prefer_offline", "true".into(), why);
        for name in ["npm_config_update_notifier", "npm_config_audit", "npm_config_fund"] {
            self.set(name, "false".into(), "npx: no registry requests beyond the package's own");
        }
        // npm waits 10 s, then 60 s, before retrying a request that failed: a registry that is
        // not declared would look like a hang for over a minute.
        let why = "npx: retry a failed request within seconds, not minutes";
        self.set("npm_config_fetch_retry_mintimeout", "1000".into(), why);
        self.set("npm_config_fetch_retry_maxtimeout", "2000".into(), why);
    }

    fn uvx(&mut self, args: &[String]) {
        let Some(key) = uvx_key(args) else { return };
        let hash = hex(&Sha256::digest(key.join("\n").as_bytes()))[..16].to_string();
        let Some(root) = self.cache_root() else { return };
        let why = format!("uvx's cache for {} (its own; made if missing)", key.join(" "));
        let Some(dir) = self.add_writable(&root, &Path::new("uvx").join(&hash), why) else { return };
        let why = "uvx: its cache, and the Python it may install";
        self.set("UV_CACHE_DIR", dir.join("cache").display().to_string(), why);
        self.set("UV_PYTHON_INSTALL_DIR", dir.join("python").display().to_string(), why);
        self.set("UV_NO_PROGRESS", "1".into(), "uvx: no progress bars on the server's stderr");
        let envs = dir.join("cache").join("environments-v2");
        if !self.fs.list(&envs).is_empty() {
            self.set("UV_OFFLINE", "1".into(), "uvx: its cache holds an environment, so no index is asked");
        }
    }
}

/// The packages `npx ARGS` installs, as npx names them for its cache: the `--package` values,
/// else the command (a directory spec made absolute). `None` for `--call` and for a command
/// with no package.
fn npx_packages(args: &[String], absolute: impl Fn(&str) -> Option<PathBuf>) -> Option<Vec<String>> {
    let mut packages = Vec::new();
    let mut command = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            command = it.next();
            break;
        }
        if let Some(v) = a.strip_prefix("--package=") {
            packages.push(v.to_string());
        } else if a.starts_with("--call") || a == "-c" {
            return None;
        } else if NPM_VALUE_OPTIONS.contains(&a.as_str()) {
            let v = it.next();
            if matches!(a.as_str(), "--package" | "-p") {
                packages.extend(v.cloned());
            }
        } else if !a.starts_with('-') {
            command = Some(a);
            break;
        }
    }
    if packages.is_empty() {
        packages.push(command?.clone());
    }
    // A directory spec (`.`, `./x`, `/x`) is named by its absolute path, as npx does.
    let packages = packages
        .into_iter()
        .map(|p| {
            if p.starts_with('.') || p.starts_with('/') {
                absolute(&p).map(|a| lexical(Path::new("/"), &a).display().to_string()).unwrap_or(p)
            } else {
                p
            }
        })
        .collect();
    Some(packages)
}

/// npx's name for its install directory of `packages`: the first 16 hex digits of the SHA-512
/// of the sorted specs joined by newlines (`libnpmexec`).
pub(super) fn npx_hash(packages: &[String]) -> String {
    let mut sorted = packages.to_vec();
    sorted.sort();
    hex(&Sha512::digest(sorted.join("\n").as_bytes()))[..16].to_string()
}

/// What names `uvx ARGS`'s environment: the tool's spec, `--from`, `--with…` and `--python`
/// values, sorted. `None` when no tool is named.
fn uvx_key(args: &[String]) -> Option<Vec<String>> {
    let mut key = Vec::new();
    let mut tool = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            tool = it.next();
            break;
        }
        if let Some((opt, v)) = a.split_once('=').filter(|(o, _)| o.starts_with("--")) {
            if matches!(opt, "--from" | "--with" | "--with-editable" | "--python") {
                key.push(format!("{opt}={v}"));
            }
        } else if UV_VALUE_OPTIONS.contains(&a.as_str()) {
            if let Some(v) = it.next()
                && matches!(a.as_str(), "--from" | "--with" | "--with-editable" | "--python" | "-p")
            {
                key.push(format!("{a}={v}"));
            }
        } else if !a.starts_with('-') {
            tool = Some(a);
            break;
        }
    }
    key.push(tool?.clone());
    key.sort();
    Some(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
