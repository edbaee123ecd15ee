//! Capabilities bound to a call's arguments. A manifest says, for instance, "read access to
//! exactly the path in `args.path`, if it lies under `data/`", or "HTTPS to the origin of
//! `args.url`, if it matches `https://*.example.com`". Each call's grant then holds the
//! concrete path or origin, never the whole root or pattern.
//!
//! A bound path is checked once: opened beneath its root with `openat2` (no symlink on the
//! way, see `policy::path`), and the grant carries that descriptor to the executor, so a name
//! swapped meanwhile (a symlink renamed over the directory) changes nothing. The rest is a pure
//! decision on already parsed values, unit-tested below.

use crate::policy::Access;
use crate::policy::endpoint::{Endpoint, HostPattern, Scheme};
use crate::policy::path::{self, PathHandle, Refused};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Component, Path, PathBuf};

/// A `[[bind]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingFile {
    /// The top-level argument (property of the input schema) that carries the value.
    argument: String,
    /// `read`, `write` or `exec` (a path), or `connect` (a URL or `host:port`).
    access: String,
    /// For paths: the roots the path must lie under (relative to the manifest).
    #[serde(default)]
    within: Vec<String>,
    /// For `connect`: endpoint patterns the value must match (`--allow-net` syntax).
    #[serde(default)]
    allow: Vec<String>,
}

/// A validated binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    Path { argument: String, access: Access, exec: bool, roots: Vec<PathBuf> },
    Connect { argument: String, patterns: Vec<Endpoint> },
}

/// One capability a call's arguments earned. A path comes with the descriptor its check opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    Path { path: PathBuf, handle: PathHandle, access: Access, exec: bool },
    Endpoint(Endpoint),
}

/// Why an argument was not granted: reported to the client as a tool error and audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub argument: String,
    pub value: String,
    pub reason: String,
    pub hint: String,
}

impl BindingFile {
    pub fn validate(self, base: &Path) -> Result<Binding, String> {
        let where_ = format!("[[bind]] argument `{}`", self.argument);
        let (access, exec) = match self.access.as_str() {
            "read" => (Access::Read, false),
            "write" => (Access::Write, false),
            "exec" => (Access::Read, true),
            "connect" => {
                if self.allow.is_empty() || !self.within.is_empty() {
                    return Err(format!("{where_}: access = \"connect\" needs `allow` patterns (and no `within`)"));
                }
                let mut patterns = Vec::new();
                for a in &self.allow {
                    patterns.push(a.parse::<Endpoint>().map_err(|e| format!("{where_}: allow `{a}`: {e}"))?);
                }
                return Ok(Binding::Connect { argument: self.argument, patterns });
            }
            other => return Err(format!("{where_}: access `{other}`: expected read, write, exec or connect")),
        };
        if self.within.is_empty() || !self.allow.is_empty() {
            return Err(format!("{where_}: a path binding needs `within` roots (and no `allow`)"));
        }
        let mut roots = Vec::new();
        for w in &self.within {
            // Written without symlinks, as every granted path is; opened again at each call.
            let (root, handle) = path::open(base, w).map_err(|e| match e {
                Refused::Symlink { leads_to: Some(ref to), .. } => {
                    format!("{where_}: within `{w}`: {e}; write the directory it leads to instead: {to:?}")
                }
                e => format!("{where_}: within `{w}`: {e}"),
            })?;
            if !handle.is_dir() {
                return Err(format!("{where_}: within `{w}`: not a directory"));
            }
            roots.push(root);
        }
        Ok(Binding::Path { argument: self.argument, access, exec, roots })
    }
}

impl Binding {
    pub fn argument(&self) -> &str {
        match self {
            Binding::Path { argument, .. } | Binding::Connect { argument, .. } => argument,
        }
    }

    pub fn writes(&self) -> bool {
        matches!(self, Binding::Path { access: Access::Write, .. })
    }

    pub fn connects(&self) -> bool {
        matches!(self, Binding::Connect { .. })
    }

    /// Applies annotation claims; `false` drops the binding altogether.
    pub fn narrow(&mut self, no_writes: bool, no_network: bool) -> bool {
        match self {
            Binding::Path { access, .. } => {
                if no_writes {
                    *access = Access::Read;
                }
                true
            }
            Binding::Connect { .. } => !no_network,
        }
    }

    /// The capabilities this binding grants for `args`. An absent (optional) argument binds
    /// nothing; a string or an array of strings binds each.
    pub fn bind(&self, args: &Map<String, Value>) -> Result<Vec<Bound>, Refusal> {
        let values: Vec<&Value> = match args.get(self.argument()) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
        };
        let mut out = Vec::new();
        for v in values {
            let Some(text) = v.as_str() else {
                return Err(self.refuse(&v.to_string(), "not a string".into(), "pass a string".into()));
            };
            out.push(match self {
                Binding::Path { access, exec, roots, .. } => self.bind_path(text, *access, *exec, roots)?,
                Binding::Connect { patterns, .. } => self.bind_endpoint(text, patterns)?,
            });
        }
        Ok(out)
    }

    fn refuse(&self, value: &str, reason: String, hint: String) -> Refusal {
        Refusal { argument: self.argument().into(), value: value.into(), reason, hint }
    }

    fn bind_path(&self, text: &str, access: Access, exec: bool, roots: &[PathBuf]) -> Result<Bound, Refusal> {
        let under = roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
        let hint = format!("pass an existing absolute path under {under}");
        let written = Path::new(text);
        if !written.is_absolute() {
            return Err(self.refuse(text, "not an absolute path".into(), hint));
        }
        if written.components().any(|c| c == Component::ParentDir) {
            return Err(self.refuse(text, "`..` is not accepted in a bound path".into(), hint));
        }
        let path = path::lexical(Path::new("/"), written);
        let within = |p: &Path| roots.iter().any(|r| p.starts_with(r));
        let Some(root) = roots.iter().find(|r| path.starts_with(r)) else {
            // Perhaps it reaches a root through a symlink: then say which path to pass.
            return Err(match std::fs::canonicalize(&path) {
                Ok(to) if within(&to) => self.refuse(
                    text,
                    format!("{} leads through a symlink to {}", path.display(), to.display()),
                    format!("pass the path it leads to: {}", to.display()),
                ),
                _ => self.refuse(text, format!("{} is outside the declared roots", path.display()), hint),
            });
        };
        let rel = path.strip_prefix(root).unwrap_or(Path::new(""));
        // The one look-up: the grant holds what this opened.
        match path::open_beneath(root, rel) {
            Ok(handle) => Ok(Bound::Path { path, handle, access, exec }),
            Err(r @ Refused::Symlink { .. }) => Err(match &r {
                Refused::Symlink { leads_to: Some(to), .. } if within(to) => {
                    self.refuse(text, r.to_string(), format!("pass the path it leads to: {}", to.display()))
                }
                _ => self.refuse(text, format!("{r}; it leads outside the declared roots"), hint),
            }),
            Err(Refused::Outside) => {
                Err(self.refuse(text, format!("{} is outside the declared roots", path.display()), hint))
            }
            Err(Refused::Io(e)) => Err(self.refuse(text, e.to_string(), hint)),
        }
    }

    fn bind_endpoint(&self, text: &str, patterns: &[Endpoint]) -> Result<Bound, Refusal> {
        let allowed = patterns.iter().map(|p| p.source.as_str()).collect::<Vec<_>>().join(", ");
        let hint = format!("pass a URL or host:port matching {allowed}");
        let ep = concrete_endpoint(text).map_err(|r| self.refuse(text, r, hint.clone()))?;
        if !patterns.iter().any(|p| covers(p, &ep)) {
            return Err(self.refuse(text, format!("{ep} matches no declared pattern"), hint));
        }
        Ok(Bound::Endpoint(ep))
    }
}

/// `--bind TOOL.ARG=connect:PATTERN[,PATTERN…]` (`proxy`): a connect binding of a wrapped
/// server's tool. Only `connect`: a wrapped server's files are fixed when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolBinding {
    pub tool: String,
    pub binding: Binding,
}

/// The example every `--bind` error shows.
const BIND_EXAMPLE: &str = "e.g. --bind fetch.url=connect:https://*.example.org";

impl ToolBinding {
    /// Parses one `--bind` value. The tool is what comes before the last `.` of the left side
    /// (tool names may hold dots; argument names do not).
    pub fn parse(text: &str) -> Result<ToolBinding, String> {
        let form = format!("expected TOOL.ARG=connect:PATTERN[,PATTERN...] ({BIND_EXAMPLE})");
        let Some((left, rule)) = text.split_once('=') else { return Err(form) };
        let Some((tool, argument)) = left.rsplit_once('.').filter(|(t, a)| !t.is_empty() && !a.is_empty()) else {
            return Err(form);
        };
        let Some((access, patterns)) = rule.split_once(':') else { return Err(form) };
        if access != "connect" {
            return Err(if ["read", "write", "exec"].contains(&access) {
                format!(
                    "`{access}` cannot be bound by proxy: a wrapped server's files are fixed when it starts; grant them with --allow-{access} PATH, or bind `connect` ({BIND_EXAMPLE})"
                )
            } else {
                form
            });
        }
        let allow: Vec<String> = patterns.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect();
        let file =
            BindingFile { argument: argument.to_string(), access: access.to_string(), within: Vec::new(), allow };
        let binding = file.validate(Path::new("/")).map_err(|e| format!("{e} ({BIND_EXAMPLE})"))?;
        Ok(ToolBinding { tool: tool.to_string(), binding })
    }

    /// Several `--bind` values: one binding per tool and argument, with all its patterns; or
    /// the first value refused, with why.
    pub fn parse_all(texts: &[String]) -> Result<Vec<ToolBinding>, (String, String)> {
        let mut out: Vec<ToolBinding> = Vec::new();
        for t in texts {
            let b = ToolBinding::parse(t).map_err(|e| (t.clone(), e))?;
            let same = out.iter_mut().find(|o| o.tool == b.tool && o.binding.argument() == b.binding.argument());
            match (same, b.binding) {
                (
                    Some(ToolBinding { binding: Binding::Connect { patterns, .. }, .. }),
                    Binding::Connect { patterns: more, .. },
                ) => {
                    patterns.extend(more);
                }
                (_, binding) => out.push(ToolBinding { tool: b.tool, binding }),
            }
        }
        Ok(out)
    }

    /// The patterns (as the grant records them).
    pub fn patterns(&self) -> &[Endpoint] {
        match &self.binding {
            Binding::Connect { patterns, .. } => patterns,
            Binding::Path { .. } => &[],
        }
    }
}

/// The endpoint a URL (its origin) or a `host:port` names: one host, one port.
pub fn concrete_endpoint(text: &str) -> Result<Endpoint, String> {
    let origin = match text.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            format!("{scheme}://{}", &rest[..end])
        }
        None => text.to_string(),
    };
    if origin.contains('@') {
        return Err("user information in a URL is not accepted".into());
    }
    let ep: Endpoint = origin.parse().map_err(|e: crate::policy::endpoint::EndpointError| e.0)?;
    if !matches!(ep.host, HostPattern::Name(_) | HostPattern::Ip(_)) || ep.ports.first != ep.ports.last {
        return Err("expected one host and one port, not a pattern".into());
    }
    Ok(ep)
}

/// Whether `pattern` (a declared endpoint) covers the concrete endpoint `ep`.
pub fn covers(pattern: &Endpoint, ep: &Endpoint) -> bool {
    let scheme = pattern.scheme == ep.scheme
        || (pattern.scheme == Scheme::Any && matches!(ep.scheme, Scheme::Tcp | Scheme::Udp));
    let host = match &ep.host {
        HostPattern::Name(n) => pattern.host.matches_name(n),
        HostPattern::Ip(ip) => pattern.host.names_ip(*ip),
        _ => false,
    };
    scheme && host && pattern.ports.contains(ep.ports.first)
}

/// The `{name}` placeholders in an argv template element.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        out.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The tool's argv for `args`: each `{name}` replaced by that argument. An element that is
/// exactly `{name}` expands an array to one element per item; an element naming an absent
/// argument is left out.
pub fn expand_args(template: &[String], args: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for t in template {
        let names = placeholders(t);
        if names.iter().any(|n| matches!(args.get(*n), None | Some(Value::Null))) {
            continue;
        }
        if let [only] = names.as_slice()
            && t.len() == only.len() + 2
            && let Some(Value::Array(items)) = args.get(*only)
        {
            out.extend(items.iter().map(scalar));
            continue;
        }
        let mut s = t.clone();
        for n in names {
            if let Some(v) = args.get(n) {
                s = s.replace(&format!("{{{n}}}"), &scalar(v));
            }
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn path_binding(root: &Path) -> Binding {
        BindingFile { argument: "path".into(), access: "read".into(), within: vec![".".into()], allow: vec![] }
            .validate(root)
            .unwrap()
    }

    #[test]
    fn paths_bind_only_inside_their_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
        let b = path_binding(&root);
        let inside = root.join("a.txt").to_str().unwrap().to_string();
        let bound = b.bind(&args(json!({ "path": inside }))).unwrap();
        match bound.as_slice() {
            [Bound::Path { path, handle, access: Access::Read, exec: false }] => {
                assert_eq!(*path, std::fs::canonicalize(root.join("a.txt")).unwrap());
                assert_eq!(std::fs::read_to_string(handle.proc_path()).unwrap(), "a", "the handle is the file");
            }
            other => panic!("{other:?}"),
        }
        for escape in [
            dir.path().join("secret"),
            root.join("../secret"),
            root.join("link"),
            PathBuf::from("a.txt"),
            root.join("missing"),
        ] {
            let e = b.bind(&args(json!({ "path": escape.to_str().unwrap() }))).unwrap_err();
            assert_eq!(e.argument, "path");
            assert!(e.hint.contains("under"), "{e:?}");
        }
        // A link that stays inside: refused too (the grant is shown at the path passed), with
        // the path to pass instead, which binds.
        std::os::unix::fs::symlink("a.txt", root.join("alias")).unwrap();
        let e = b.bind(&args(json!({ "path": root.join("alias").to_str().unwrap() }))).unwrap_err();
        assert!(e.reason.contains("is a symlink"), "{e:?}");
        let real = std::fs::canonicalize(root.join("a.txt")).unwrap();
        assert_eq!(e.hint, format!("pass the path it leads to: {}", real.display()));
        assert!(b.bind(&args(json!({ "path": real.to_str().unwrap() }))).is_ok());
        let e = b.bind(&args(json!({ "path": root.join("link").to_str().unwrap() }))).unwrap_err();
        assert!(e.reason.contains("outside the declared roots"), "{e:?}");
        assert!(b.bind(&args(json!({}))).unwrap().is_empty(), "absent argument binds nothing");
        assert!(b.bind(&args(json!({ "path": 5 }))).is_err());
    }

    #[test]
    fn urls_bind_their_origin_if_a_pattern_covers_it() {
        let b = BindingFile {
            argument: "url".into(),
            access: "connect".into(),
            within: vec![],
            allow: vec!["https://*.example.com".into(), "127.0.0.1:8000-8100".into()],
        }
        .validate(Path::new("."))
        .unwrap();
        let ok = b.bind(&args(json!({ "url": "https://api.example.com/v1/x?q=1" }))).unwrap();
        assert_eq!(ok, vec![Bound::Endpoint("https://api.example.com".parse().unwrap())]);
        assert!(b.bind(&args(json!({ "url": "127.0.0.1:8080" }))).is_ok());
        for bad in [
            "https://example.com/",
            "http://api.example.com/",
            "https://api.example.com:8443/",
            "https://evil.com/",
            "https://api.example.com@evil.com/",
            "127.0.0.1:9000",
            "127.0.0.2:8080",
            "https://*.example.com",
        ] {
            assert!(b.bind(&args(json!({ "url": bad }))).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_flags_parse_to_connect_bindings() {
        let all = ToolBinding::parse_all(&[
            "fetch.url=connect:https://*.example.org".into(),
            "fetch.url=connect:http://127.0.0.1:8000-8100,api.test:443".into(),
            "my.tool.target=connect:10.0.0.1:53".into(),
        ])
        .unwrap();
        assert_eq!(all.len(), 2, "one binding per tool and argument: {all:?}");
        assert_eq!((all[0].tool.as_str(), all[0].binding.argument()), ("fetch", "url"));
        assert_eq!(all[0].patterns().len(), 3);
        assert_eq!((all[1].tool.as_str(), all[1].binding.argument()), ("my.tool", "target"));
        let ok = all[0].binding.bind(&args(json!({ "url": "http://127.0.0.1:8050/x" }))).unwrap();
        assert_eq!(ok, vec![Bound::Endpoint("http://127.0.0.1:8050".parse().unwrap())]);
        for (bad, says) in [
            ("fetch.url", "expected TOOL.ARG=connect:PATTERN"),
            ("fetch=connect:a.com:1", "expected TOOL.ARG"),
            ("fetch.url=read:/data", "--allow-read PATH"),
            ("fetch.url=connect:", "needs `allow` patterns"),
            ("fetch.url=connect:https://", "allow `https://`"),
            ("fetch.url=listen:a.com:1", "expected TOOL.ARG"),
        ] {
            let (text, e) = ToolBinding::parse_all(&[bad.into()]).unwrap_err();
            assert!(e.contains(says) && text == bad, "{bad}: {e}");
        }
    }

    #[test]
    fn argv_templates_substitute_arguments() {
        let t = vec!["--n".to_string(), "{n}".into(), "{files}".into(), "x={opt}".into(), "lit".into()];
        let a = args(json!({ "n": 3, "files": ["a", "b"] }));
        assert_eq!(expand_args(&t, &a), vec!["--n", "3", "a", "b", "lit"]);
        assert_eq!(placeholders("a{b}c{d}"), vec!["b", "d"]);
    }

    #[test]
    fn annotation_claims_narrow_bindings() {
        let dir = tempfile::tempdir().unwrap();
        let mut b =
            BindingFile { argument: "p".into(), access: "write".into(), within: vec![".".into()], allow: vec![] }
                .validate(dir.path())
                .unwrap();
        assert!(b.writes());
        assert!(b.narrow(true, false));
        assert!(!b.writes());
        let mut c = BindingFile {
            argument: "u".into(),
            access: "connect".into(),
            within: vec![],
            allow: vec!["a.com:1".into()],
        }
        .validate(dir.path())
        .unwrap();
        assert!(!c.narrow(false, true), "no network drops a connect binding");
    }
}
