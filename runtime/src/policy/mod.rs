//! The policy model: what a tool *declares* it may be given.
//!
//! A [`PolicyBuilder`] gathers declarations from a policy file and from flags (the two
//! combine into one declared set; limits given as flags override the file), validates every
//! value, and freezes them into a [`Policy`]. A policy is not a grant: the broker turns it
//! into a concrete, per-invocation [`Grant`](crate::grant::Grant).
//!
//! Defaults (deny by default): no paths, no endpoints, no listeners, no env variables;
//! limits as in [`Limits::default`].

pub mod endpoint;
pub mod file;
pub mod path;
pub mod units;

use crate::error::{Error, Result};
use endpoint::{Endpoint, Scheme};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Read-only or read-write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// A file or directory tree, at its host path (it appears at the same path inside), and the
/// descriptor opened when it was checked: the executors show the tool that, never the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRule {
    pub path: PathBuf,
    pub access: Access,
    /// Programs under it may be executed (native tools; `--allow-exec`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exec: bool,
    /// Why it is granted when no flag or file declared it: a native tool's own runtime
    /// (`native::runtime_deps`), e.g. "Python virtual environment (its pyvenv.cfg)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub handle: path::PathHandle,
}

/// An environment variable the tool may see.
#[derive(Clone, PartialEq, Eq)]
pub enum EnvRule {
    /// Pass the host's value, if the host has one.
    Pass(String),
    /// Set this value. The value is never printed, serialized or audited.
    Set(String, String),
}

impl EnvRule {
    pub fn name(&self) -> &str {
        match self {
            EnvRule::Pass(n) | EnvRule::Set(n, _) => n,
        }
    }
}

impl fmt::Debug for EnvRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvRule::Pass(n) => write!(f, "Pass({n})"),
            EnvRule::Set(n, _) => write!(f, "Set({n}=<redacted>)"),
        }
    }
}

impl Serialize for EnvRule {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Resource limits for one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock limit; the invocation is stopped (exit 124) when it passes.
    #[serde(with = "humantime_serde_secs")]
    pub timeout: Duration,
    /// Bytes of memory the tool may hold (exit 137 beyond it): a component's linear memory and
    /// what the host holds for it; a native tool's process tree (its memory cgroup).
    pub memory: u64,
    /// Bytes of stdout and of stderr kept when output is captured (library and `serve`).
    pub output: u64,
    /// `memory` was declared (`--memory`, a policy file, [`PolicyBuilder::limits`]) rather
    /// than left at its default: a native sandbox that cannot enforce a declared limit over
    /// the whole tree refuses to run (see `native::limits`).
    #[serde(skip)]
    pub memory_declared: bool,
}

impl Default for Limits {
    /// 30 s wall clock, 256 MiB memory, 16 MiB of captured output per stream.
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(30), memory: 256 << 20, output: 16 << 20, memory_declared: false }
    }
}

mod humantime_serde_secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

/// A frozen, validated set of declared capabilities.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Policy {
    pub paths: Vec<PathRule>,
    pub endpoints: Vec<Endpoint>,
    pub listen: Vec<Endpoint>,
    /// `--resolve` pins: declared name -> addresses.
    pub pins: BTreeMap<String, Vec<IpAddr>>,
    pub env: Vec<EnvRule>,
    pub limits: Limits,
}

impl Policy {
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }
}

/// Gathers declarations and validates each as it arrives. Cloning one is cheap: `serve`
/// keeps a tool's declared policy as a builder and adds each call's argument-bound grants
/// to a clone.
#[derive(Debug, Default, Clone)]
pub struct PolicyBuilder {
    policy: Policy,
    timeout: Option<Duration>,
    memory: Option<u64>,
    output: Option<u64>,
}

fn invalid(origin: &str, what: &'static str, value: &str, reason: impl Into<String>, hint: &str) -> Error {
    // The message is one line: a line break or another control character is shown escaped.
    Error::InvalidValue {
        origin: file::one_line(origin),
        what,
        value: file::one_line(value),
        reason: file::one_line(&reason.into()),
        hint: hint.to_string(),
    }
}

const NET_HINT: &str =
    "expected [scheme://]host[:port], e.g. api.example.com:443, https://api.example.com, udp://10.0.0.2:53";

impl PolicyBuilder {
    /// Reads and merges a TOML policy file. Relative paths in it are relative to its directory.
    pub fn file(&mut self, path: &Path) -> Result<&mut Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadPolicy { path: path.into(), source })?;
        self.text(&text, path)
    }

    /// Merges the text of a policy file as if read from `path` (for messages and relative
    /// paths); reads no file itself, so it can be fuzzed.
    pub fn text(&mut self, text: &str, path: &Path) -> Result<&mut Self> {
        let parsed: file::PolicyFile = toml::from_str(text).map_err(|e| {
            let (line, col) = file::line_col(text, e.span().map_or(0, |s| s.start));
            Error::ParsePolicy { path: path.into(), line, col, message: file::one_line(e.message().trim()) }
        })?;
        if let Some(v) = parsed.version.filter(|v| *v != 1) {
            return Err(Error::ParsePolicy {
                path: path.into(),
                line: 1,
                col: 1,
                message: format!("unsupported policy version {v} (this mcp-sandbox reads version 1)"),
            });
        }
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        self.parsed(&parsed, text, path, base)
    }

    /// Merges an already parsed policy (a policy file, or the `[policy]` table of a tool
    /// manifest). `text` and `path` are those of the file it was parsed from, for
    /// `file:line:col` in errors; relative paths are relative to `base`.
    pub fn parsed(&mut self, parsed: &file::PolicyFile, text: &str, path: &Path, base: &Path) -> Result<&mut Self> {
        let at = |s: &toml::Spanned<String>| {
            let (l, c) = file::line_col(text, s.span().start);
            format!("{}:{l}:{c}", path.display())
        };
        for s in &parsed.filesystem.read {
            self.path_at(&at(s), base, s.get_ref(), Access::Read)?;
        }
        for s in &parsed.filesystem.write {
            self.path_at(&at(s), base, s.get_ref(), Access::Write)?;
        }
        for s in &parsed.filesystem.exec {
            self.path_at(&at(s), base, s.get_ref(), Access::Read)?;
            if let Some(last) = self.policy.paths.last_mut() {
                last.exec = true;
            }
        }
        for s in &parsed.network.allow {
            self.net_at(&at(s), s.get_ref())?;
        }
        for s in &parsed.network.listen {
            self.listen_at(&at(s), s.get_ref())?;
        }
        for s in &parsed.network.resolve {
            self.resolve_at(&at(s), s.get_ref())?;
        }
        for s in &parsed.env.allow {
            self.env_at(&at(s), s.get_ref())?;
        }
        let limits = &parsed.limits;
        if let Some(s) = &limits.timeout {
            let d = units::parse_duration(s.get_ref())
                .map_err(|r| invalid(&at(s), "timeout", s.get_ref(), r, "e.g. timeout = \"30s\""))?;
            self.timeout.get_or_insert(d);
        }
        if let Some(s) = &limits.memory {
            let m = units::parse_size(s.get_ref(), units::MAX_MEMORY)
                .map_err(|r| invalid(&at(s), "memory limit", s.get_ref(), r, "e.g. memory = \"256MiB\""))?;
            self.memory.get_or_insert(m);
        }
        if let Some(s) = &limits.output {
            let m = units::parse_size(s.get_ref(), units::MAX_OUTPUT)
                .map_err(|r| invalid(&at(s), "output limit", s.get_ref(), r, "e.g. output = \"16MiB\""))?;
            self.output.get_or_insert(m);
        }
        Ok(self)
    }

    /// `--allow-read PATH` (relative to the current directory).
    pub fn allow_read(&mut self, path: &str) -> Result<&mut Self> {
        self.path_at("--allow-read", Path::new("."), path, Access::Read)
    }

    /// `--allow-write PATH`.
    pub fn allow_write(&mut self, path: &str) -> Result<&mut Self> {
        self.path_at("--allow-write", Path::new("."), path, Access::Write)
    }

    /// `--allow-exec PATH`: read and execute (an interpreter's tree, a tool's helpers).
    pub fn allow_exec(&mut self, path: &str) -> Result<&mut Self> {
        self.path_at("--allow-exec", Path::new("."), path, Access::Read)?;
        if let Some(last) = self.policy.paths.last_mut() {
            last.exec = true;
        }
        Ok(self)
    }

    /// `--allow-net ENDPOINT`.
    pub fn allow_net(&mut self, endpoint: &str) -> Result<&mut Self> {
        self.net_at("--allow-net", endpoint)
    }

    /// `--allow-listen [tcp://|udp://]IP:PORT`.
    pub fn allow_listen(&mut self, endpoint: &str) -> Result<&mut Self> {
        self.listen_at("--allow-listen", endpoint)
    }

    /// `--allow-env NAME` or `--allow-env NAME=VALUE`.
    pub fn allow_env(&mut self, spec: &str) -> Result<&mut Self> {
        self.env_at("--allow-env", spec)
    }

    /// `--resolve HOST:ADDR`.
    pub fn resolve(&mut self, spec: &str) -> Result<&mut Self> {
        self.resolve_at("--resolve", spec)
    }

    /// `--timeout` (overrides the policy file).
    pub fn timeout(&mut self, text: &str) -> Result<&mut Self> {
        self.timeout = Some(
            units::parse_duration(text).map_err(|r| invalid("--timeout", "duration", text, r, "e.g. --timeout 30s"))?,
        );
        Ok(self)
    }

    /// `--memory` (overrides the policy file).
    pub fn memory(&mut self, text: &str) -> Result<&mut Self> {
        self.memory = Some(
            units::parse_size(text, units::MAX_MEMORY)
                .map_err(|r| invalid("--memory", "size", text, r, "e.g. --memory 256MiB"))?,
        );
        Ok(self)
    }

    /// Cap on captured output per stream (overrides the policy file).
    pub fn output(&mut self, text: &str) -> Result<&mut Self> {
        self.output = Some(
            units::parse_size(text, units::MAX_OUTPUT)
                .map_err(|r| invalid("--output", "size", text, r, "e.g. 16MiB"))?,
        );
        Ok(self)
    }

    /// A file or tree bound from a call's argument (`serve`), already checked under its root
    /// and opened there (`mcp::bind`): granted as it was opened, never looked up again.
    pub fn bound_path(&mut self, path: PathBuf, handle: path::PathHandle, access: Access, exec: bool) -> &mut Self {
        self.policy.paths.push(PathRule { path, access, exec, handle, reason: None });
        self
    }

    /// An endpoint already validated elsewhere (an argument-bound endpoint in `serve`).
    pub fn endpoint(&mut self, endpoint: Endpoint) -> &mut Self {
        self.policy.endpoints.push(endpoint);
        self
    }

    /// Read-only view of the declarations so far (before limits are settled).
    pub fn declared(&self) -> &Policy {
        &self.policy
    }

    /// Drops every write grant to read-only, and every endpoint and listener: what a
    /// tool's `readOnlyHint`/`destructiveHint`/`openWorldHint` claims allow (annotations
    /// may narrow a policy, never widen it).
    pub fn narrow(&mut self, no_writes: bool, no_network: bool) -> &mut Self {
        if no_writes {
            for p in &mut self.policy.paths {
                p.access = Access::Read;
            }
        }
        if no_network {
            self.policy.endpoints.clear();
            self.policy.listen.clear();
        }
        self
    }

    /// The wall-clock limit when neither a flag nor the policy file set one (`proxy` runs a
    /// server for a whole session, not for one call).
    pub fn default_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout.get_or_insert(timeout);
        self
    }

    /// Sets limits directly (library use). Values past [`units::MAX_TIMEOUT`],
    /// [`units::MAX_MEMORY`] or [`units::MAX_OUTPUT`] are lowered to them when the policy is built.
    pub fn limits(&mut self, limits: Limits) -> &mut Self {
        self.timeout = Some(limits.timeout);
        self.memory = Some(limits.memory);
        self.output = Some(limits.output);
        self
    }

    /// Freezes the declarations. Duplicates are dropped; the wider access wins for a path.
    pub fn build(&self) -> Policy {
        let mut p = self.policy.clone();
        let d = Limits::default();
        // Parsed limits are already within the maxima; the clamp covers limits set directly,
        // so that no deadline, expiry or buffer computed from them can overflow.
        p.limits = Limits {
            timeout: self.timeout.unwrap_or(d.timeout).min(units::MAX_TIMEOUT),
            memory: self.memory.unwrap_or(d.memory).min(units::MAX_MEMORY),
            output: self.output.unwrap_or(d.output).min(units::MAX_OUTPUT),
            memory_declared: self.memory.is_some(),
        };
        p.paths.sort_by(|a, b| a.path.cmp(&b.path));
        // One rule per path: the wider access, executable if either said so.
        p.paths.dedup_by(|later, first| {
            if later.path != first.path {
                return false;
            }
            if later.access.cmp_key() > first.access.cmp_key() {
                first.access = later.access;
            }
            first.exec |= later.exec;
            true
        });
        p.endpoints.dedup();
        p.listen.dedup();
        p
    }

    fn path_at(&mut self, origin: &str, base: &Path, text: &str, access: Access) -> Result<&mut Self> {
        let hint = if access == Access::Read {
            "grant an existing file or directory"
        } else {
            "create it first, or grant an existing parent directory"
        };
        if text.trim().is_empty() {
            return Err(invalid(origin, "path", text, "empty", hint));
        }
        let (path, handle) = path::open(base, text)
            .map_err(|r| invalid(origin, "path", text, r.to_string(), &r.hint(origin).unwrap_or(hint.into())))?;
        self.policy.paths.push(PathRule { path, access, exec: false, handle, reason: None });
        Ok(self)
    }

    fn net_at(&mut self, origin: &str, text: &str) -> Result<&mut Self> {
        let ep: Endpoint =
            text.parse().map_err(|e: endpoint::EndpointError| invalid(origin, "endpoint", text, e.0, NET_HINT))?;
        self.policy.endpoints.push(ep);
        Ok(self)
    }

    fn listen_at(&mut self, origin: &str, text: &str) -> Result<&mut Self> {
        let hint = "expected [tcp://|udp://]IP:PORT, e.g. 127.0.0.1:8080";
        let ep: Endpoint =
            text.parse().map_err(|e: endpoint::EndpointError| invalid(origin, "listen address", text, e.0, hint))?;
        if ep.host.is_name() || matches!(ep.scheme, Scheme::Http | Scheme::Https) {
            return Err(invalid(origin, "listen address", text, "a listener is a local IP address and port", hint));
        }
        self.policy.listen.push(ep);
        Ok(self)
    }

    fn env_at(&mut self, origin: &str, text: &str) -> Result<&mut Self> {
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            // Never echo a value: it may be a secret.
            return Err(invalid(
                origin,
                "environment variable",
                name,
                "names are letters, digits and _, not starting with a digit",
                "e.g. --allow-env HOME or --allow-env MODE=fast",
            ));
        }
        self.policy.env.retain(|r| r.name() != name);
        self.policy.env.push(match value {
            Some(v) => EnvRule::Set(name.into(), v.into()),
            None => EnvRule::Pass(name.into()),
        });
        Ok(self)
    }

    fn resolve_at(&mut self, origin: &str, text: &str) -> Result<&mut Self> {
        let hint = "expected HOST:ADDR, e.g. --resolve api.example.com:203.0.113.7 or --resolve api.local:[::1]";
        let (name, ip) =
            endpoint::parse_pin(text).map_err(|e: endpoint::EndpointError| invalid(origin, "pin", text, e.0, hint))?;
        let list = self.policy.pins.entry(name).or_default();
        if !list.contains(&ip) {
            list.push(ip);
        }
        Ok(self)
    }
}

impl Access {
    fn cmp_key(self) -> u8 {
        match self {
            Access::Read => 0,
            Access::Write => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_validate_and_merge() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let p = Policy::builder()
            .allow_read(d)
            .unwrap()
            .allow_write(d)
            .unwrap()
            .allow_exec(d)
            .unwrap()
            .allow_net("https://api.example.com")
            .unwrap()
            .allow_env("MODE=fast")
            .unwrap()
            .allow_env("HOME")
            .unwrap()
            .resolve("api.example.com:[::1]")
            .unwrap()
            .timeout("5s")
            .unwrap()
            .build();
        assert_eq!(p.paths.len(), 1, "duplicate path collapses");
        assert_eq!(p.paths[0].access, Access::Write, "wider access wins");
        assert!(p.paths[0].exec, "exec survives the merge");
        assert_eq!(p.pins["api.example.com"], vec!["::1".parse::<IpAddr>().unwrap()]);
        assert_eq!(p.limits.timeout, Duration::from_secs(5));
        assert_eq!(p.limits.memory, 256 << 20);
        assert!(!p.limits.memory_declared, "the default memory limit is not a declared one");
        assert!(Policy::builder().memory("256MiB").unwrap().build().limits.memory_declared);
        assert!(!format!("{p:?}").contains("fast"), "env values are redacted");
    }

    #[test]
    fn bad_values_name_their_origin() {
        let e = Policy::builder().allow_net("10.0.0.5").unwrap_err().to_string();
        assert!(e.starts_with("--allow-net: invalid endpoint `10.0.0.5`: a port is required"), "{e}");
        let e = Policy::builder().allow_env("1X=secret").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
        assert!(Policy::builder().allow_read("/no/such/path").is_err());
        assert!(Policy::builder().resolve("a.com:nope").is_err());
        assert!(Policy::builder().allow_listen("example.com:80").is_err());
    }

    /// Found by fuzzing (`units`): the reason quoted the unit raw, across lines.
    #[test]
    fn refusals_quoting_input_stay_one_line() {
        for e in [
            Policy::builder().memory("15X\r\u{0}1").unwrap_err(),
            Policy::builder().timeout("1\ns").unwrap_err(),
            Policy::builder().allow_env("A\nB=1").unwrap_err(),
        ] {
            assert!(!e.to_string().contains(['\n', '\r', '\0']), "{e}");
        }
    }

    #[test]
    fn file_errors_carry_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "[network]\nallow = [\n  \"ok.com:1\",\n  \"bad\",\n]\n").unwrap();
        let e = Policy::builder().file(&f).unwrap_err().to_string();
        assert!(e.contains("p.toml:4:3: invalid endpoint `bad`"), "{e}");
        std::fs::write(&f, "[netwrk]\n").unwrap();
        let e = Policy::builder().file(&f).unwrap_err().to_string();
        assert!(e.contains("p.toml:1:"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn file_paths_are_relative_to_the_file_and_flags_override_limits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "[filesystem]\nread = [\"data\"]\n[limits]\ntimeout = \"9s\"\n").unwrap();
        let p = Policy::builder().timeout("2s").unwrap().file(&f).unwrap().build();
        assert_eq!(p.paths[0].path, std::fs::canonicalize(dir.path().join("data")).unwrap());
        assert_eq!(p.limits.timeout, Duration::from_secs(2));
    }
}
