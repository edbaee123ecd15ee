//! Approved pins for `serve` (`--approved-pins FILE`): the tools an operator reviewed, and
//! nothing else. `mcp-sandbox pins lock --tools DIR` writes the file; `serve` reads it (and
//! never writes it, so it works from a read-only mount such as a Kubernetes ConfigMap).
//!
//! Each entry pins three parts of a tool:
//! * its definition as `serve` lists it (every field, canonical form and hash of
//!   [`super::pins`]), so a description poisoned after approval is caught;
//! * its artifact: the sha256 of the component or program file, the digest the grant carries
//!   ([`crate::grant::ToolDigest`]), so a replaced component or program is caught;
//! * its effective policy: what it may read, write, execute and reach, its limits and
//!   variables, its argument bindings, argv template and stdin mode, so a widened policy is
//!   caught.
//!
//! A tool that is not in the file, or differs in any part, is not served: withheld from
//! `tools/list`, its calls refused with a tool error naming what changed and how to approve
//! it, audited. It is never trusted on first use. The artifact is checked again at each call
//! (a file whose size, times or inode changed since start is hashed again), so a program
//! replaced under a running server is refused, not run.

use super::manifest::Artifact;
use super::{Entry, ToolSet, ToolSpec};
use crate::audit::{Capability, EventKind};
use crate::error::{Error, Result};
use crate::grant::ToolDigest;
use crate::mcp::bind::Binding;
use crate::policy::{Access, EnvRule};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// What the file says it is (`format`), so that a `proxy` pins file or another JSON file
/// given by mistake is refused rather than read as "no tool approved".
pub const FORMAT: &str = "mcp-sandbox/approved-pins";
/// The format version this mcp-sandbox writes and reads.
pub const VERSION: u32 = 1;

/// The approved pins file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedFile {
    pub format: String,
    pub version: u32,
    /// By tool name.
    pub tools: BTreeMap<String, ApprovedTool>,
}

/// One approved tool: each part's hash, and the definition and policy themselves (to show
/// what changed, field by field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedTool {
    pub definition_sha256: String,
    /// `sha256:<hex>` of the component or program file.
    pub artifact_sha256: String,
    pub policy_sha256: String,
    pub definition: Value,
    pub policy: Value,
}

/// One part of a tool that differs from its approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The tool is not in the file.
    Unknown,
    /// Definition fields that changed (JSON pointers).
    Definition(Vec<String>),
    Artifact {
        approved: String,
        now: String,
    },
    /// Policy fields that changed (JSON pointers into the pinned policy).
    Policy(Vec<String>),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Unknown => f.write_str("it is not in the approved pins"),
            Change::Definition(fields) => write!(f, "its definition changed ({})", fields.join(", ")),
            Change::Artifact { approved, now } => write!(f, "its artifact changed ({approved} -> {now})"),
            Change::Policy(fields) => write!(f, "its policy changed ({})", fields.join(", ")),
        }
    }
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `v` with its keys sorted at every level (as the file is written, whatever serde_json's map).
fn sorted(v: &Value) -> Value {
    serde_json::from_str(&super::pins::canonical(v)).unwrap_or(Value::Null)
}

/// The definition `serve` lists for `spec`.
pub fn definition(spec: &ToolSpec) -> Value {
    sorted(&serde_json::to_value(super::server::definition(spec)).unwrap_or(Value::Null))
}

/// The effective policy of `spec`: what every call starts from (paths resolved, limits
/// settled), what its arguments may add, and how they reach the tool. A variable's value is
/// pinned by its hash, never written out.
pub fn policy(spec: &ToolSpec) -> Value {
    let built = spec.policy.build();
    let mut p = serde_json::to_value(&built).unwrap_or(Value::Null);
    p["env"] = built
        .env
        .iter()
        .map(|e| match e {
            EnvRule::Pass(n) => json!({"name": n, "pass": true}),
            EnvRule::Set(n, v) => json!({"name": n, "value_sha256": sha256(v)}),
        })
        .collect();
    let binds: Vec<Value> = spec
        .bindings
        .iter()
        .map(|b| match b {
            Binding::Path { argument, access, exec, roots } => {
                let access = match (exec, access) {
                    (true, _) => "exec",
                    (false, Access::Read) => "read",
                    (false, Access::Write) => "write",
                };
                json!({"argument": argument, "access": access, "within": roots})
            }
            Binding::Connect { argument, patterns } => {
                let allow: Vec<&str> = patterns.iter().map(|e| e.source.as_str()).collect();
                json!({"argument": argument, "access": "connect", "allow": allow})
            }
        })
        .collect();
    let runs = match spec.artifact {
        Artifact::Wasm(_) => "wasm",
        Artifact::Native(_) => "native",
    };
    sorted(&json!({
        "runs": runs,
        "args": spec.args,
        "stdin": if spec.stdin_arguments { "arguments" } else { "none" },
        "accepts_secrets": spec.accepts_secrets,
        "declared": p,
        "bind": binds,
    }))
}

/// The pin of `spec` whose artifact has digest `artifact`.
pub fn pin(spec: &ToolSpec, artifact: &ToolDigest) -> ApprovedTool {
    let definition = definition(spec);
    let policy = policy(spec);
    ApprovedTool {
        definition_sha256: super::pins::digest(&definition),
        artifact_sha256: artifact.to_string(),
        policy_sha256: super::pins::digest(&policy),
        definition,
        policy,
    }
}

/// The digest of the file `spec` runs, read as `serve` will load it (a pyenv shim as the
/// interpreter it runs).
pub fn artifact_digest(spec: &ToolSpec) -> Result<ToolDigest> {
    let given = spec.artifact.path();
    let unshimmed = crate::native::runtime_deps::unshim(&crate::native::runtime_deps::RealFs, given);
    let path = unshimmed.as_ref().map_or(given, |(p, _)| p.as_path());
    let bytes = std::fs::read(path).map_err(|source| Error::ReadTool { path: path.into(), source })?;
    Ok(ToolDigest::of(&bytes))
}

/// How `now` differs from `approved` (empty: it is approved).
pub fn compare(approved: Option<&ApprovedTool>, now: &ApprovedTool) -> Vec<Change> {
    let Some(a) = approved else { return vec![Change::Unknown] };
    let mut out = Vec::new();
    if a.definition_sha256 != now.definition_sha256 {
        out.push(Change::Definition(super::pins::changed_fields(&a.definition, &now.definition)));
    }
    if a.artifact_sha256 != now.artifact_sha256 {
        out.push(Change::Artifact { approved: a.artifact_sha256.clone(), now: now.artifact_sha256.clone() });
    }
    if a.policy_sha256 != now.policy_sha256 {
        out.push(Change::Policy(super::pins::changed_fields(&a.policy, &now.policy)));
    }
    out
}

impl ApprovedFile {
    /// The approved pins of `specs` with their artifacts' digests.
    pub fn lock(tools: &[(ToolSpec, ToolDigest)]) -> ApprovedFile {
        let tools = tools.iter().map(|(s, d)| (s.name.clone(), pin(s, d))).collect();
        ApprovedFile { format: FORMAT.into(), version: VERSION, tools }
    }

    /// The file's text: pretty JSON, keys sorted, one trailing newline.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Parses and checks a file: its format and version, and that each entry's hashes are
    /// those of the definition and policy it holds, under its own name (an entry edited by
    /// hand is refused, not half-trusted).
    pub fn parse(text: &str, path: &Path) -> Result<ApprovedFile> {
        let bad = |reason: String| approved_error(path, reason);
        let file: ApprovedFile =
            serde_json::from_str(text).map_err(|e| bad(format!("not an approved pins file: {e}")))?;
        if file.format != FORMAT {
            return Err(bad(format!("format is `{}`, not `{FORMAT}`", file.format)));
        }
        if file.version != VERSION {
            return Err(bad(format!("format version {} (this mcp-sandbox reads {VERSION})", file.version)));
        }
        for (name, t) in &file.tools {
            if t.definition.get("name").and_then(Value::as_str) != Some(name.as_str()) {
                return Err(bad(format!("tool `{name}`: its definition names another tool")));
            }
            if super::pins::digest(&t.definition) != t.definition_sha256 {
                return Err(bad(format!("tool `{name}`: definition_sha256 is not the hash of its definition")));
            }
            if super::pins::digest(&t.policy) != t.policy_sha256 {
                return Err(bad(format!("tool `{name}`: policy_sha256 is not the hash of its policy")));
            }
            if t.artifact_sha256.strip_prefix("sha256:").is_none_or(|h| h.len() != 64) {
                return Err(bad(format!("tool `{name}`: artifact_sha256 is not `sha256:` and 64 hex digits")));
            }
        }
        Ok(file)
    }

    /// Reads and checks the file at `path` (see [`parse`](Self::parse)).
    pub fn read(path: &Path) -> Result<ApprovedFile> {
        let text = std::fs::read_to_string(path).map_err(|e| approved_error(path, e.to_string()))?;
        Self::parse(&text, path)
    }
}

fn approved_error(path: &Path, reason: String) -> Error {
    Error::Approved {
        path: path.into(),
        reason: crate::policy::file::one_line(&reason),
        hint: "write it with `mcp-sandbox pins lock --tools DIR --out FILE` from the reviewed tools".into(),
    }
}

/// The command that approves the tools of `dir` into `file`.
pub fn fix(dir: &Path, file: &Path) -> String {
    format!(
        "if the change is intended, review the tool, then approve it with `mcp-sandbox pins lock --tools {} --out {}` and redeploy",
        dir.display(),
        file.display()
    )
}

/// A file's identity and times: if these are unchanged, its bytes are (`ctime` moves on any
/// write, and no one can set it back).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint(u64, u64, u64, i64, i64, i64, i64);

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Fingerprint(m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()))
}

/// `serve --approved-pins`: which loaded tools are withheld, and the call-time artifact check.
#[derive(Debug, Default)]
pub struct Approval {
    /// Set once `approve` ran: every tool is checked.
    on: bool,
    /// Withheld tools and why (the whole message a call gets).
    withheld: Mutex<BTreeMap<String, String>>,
    /// Approved tools: their approved artifact digest and the file's fingerprint when it last
    /// matched.
    artifacts: Mutex<BTreeMap<String, (String, Option<Fingerprint>)>>,
    /// The fix, for a call-time refusal.
    fix: String,
}

impl Approval {
    /// Why `name` is withheld, if it is.
    pub fn withheld(&self, name: &str) -> Option<String> {
        if !self.on {
            return None;
        }
        self.withheld.lock().ok()?.get(name).cloned()
    }
}

/// What `ToolSet::approve` found, for stderr: one line per withheld tool, one per approved
/// tool missing from the directory.
#[derive(Debug, Default)]
pub struct Approved {
    pub withheld: Vec<(String, String)>,
    pub missing: Vec<String>,
}

impl ToolSet {
    /// Compares every loaded tool with `file` (read from `origin`; the tools from `dir`):
    /// a tool not in it or differing in any part is withheld from listing and calls, and
    /// audited. Only approved tools are served from then on.
    pub fn approve(&mut self, file: &ApprovedFile, origin: &Path, dir: &Path) -> Approved {
        let fix = fix(dir, origin);
        let mut out = Approved::default();
        let mut withheld = BTreeMap::new();
        let mut artifacts = BTreeMap::new();
        for (name, entry) in &self.tools {
            let now = pin(&entry.spec, entry.tool.digest());
            let changes = compare(file.tools.get(name), &now);
            if changes.is_empty() {
                // No fingerprint yet: the first call hashes the file again, so a replacement
                // between loading and now is caught too.
                artifacts.insert(name.clone(), (now.artifact_sha256, None));
                continue;
            }
            let what: Vec<String> = changes.iter().map(ToString::to_string).collect();
            let reason = format!(
                "tool `{name}` is not served: {} since it was approved in {}; {fix}",
                what.join("; "),
                origin.display()
            );
            let detail = json!({"approved_pins": origin, "changed": what});
            let audit = self.call_auditor(entry);
            audit.emit(
                EventKind::Deny,
                Some(Capability::McpTool),
                Some(name.clone()),
                Some(reason.clone()),
                Some(detail),
            );
            out.withheld.push((name.clone(), reason.clone()));
            withheld.insert(name.clone(), reason);
        }
        out.missing = file.tools.keys().filter(|n| !self.tools.contains_key(*n)).cloned().collect();
        self.approval = Approval { on: true, withheld: Mutex::new(withheld), artifacts: Mutex::new(artifacts), fix };
        out
    }

    /// Why a call to `entry` is refused by the approved pins, if it is: the tool is withheld,
    /// or its artifact on disk is no longer the approved one (then it is withheld from now on).
    pub(super) fn unapproved(&self, entry: &Entry) -> Option<String> {
        let a = &self.approval;
        if !a.on {
            return None;
        }
        let name = &entry.spec.name;
        if let Some(why) = a.withheld(name) {
            return Some(why);
        }
        let path = entry.tool.path();
        let now = fingerprint(path);
        let mut artifacts = a.artifacts.lock().ok()?;
        let (approved, seen) = artifacts.get_mut(name)?;
        if now.is_some() && *seen == now {
            return None;
        }
        let digest = std::fs::read(path).map(|b| ToolDigest::of(&b).to_string()).ok();
        if digest.as_deref() == Some(approved.as_str()) {
            *seen = now;
            return None;
        }
        let found = digest.unwrap_or_else(|| "unreadable".into());
        let reason = format!(
            "tool `{name}` is not served: its artifact {} changed since start ({approved} -> {found}); {}",
            path.display(),
            a.fix
        );
        artifacts.remove(name);
        drop(artifacts);
        if let Ok(mut w) = a.withheld.lock() {
            w.insert(name.clone(), reason.clone());
        }
        eprintln!("mcp-sandbox: {reason}");
        Some(reason)
    }
}

#[cfg(test)]
mod tests;
