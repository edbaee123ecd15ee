//! Tool pinning for `proxy`: the first time a server advertises a tool, a hash of its
//! canonical definition is stored. If the definition later changes (a "rug pull": a harmless
//! tool turned into a poisoned one), the tool is withheld and its calls refused until someone
//! approves the new definition with `mcp-sandbox pins approve`.
//!
//! What is pinned (form 2): the whole definition as the server sent it, every field (`title`,
//! `outputSchema`, `_meta`, … and the server's own `annotations`, although the proxy replaces
//! those before the client sees them), canonicalised: keys sorted at every level, no
//! insignificant whitespace, a number with an integral value written as an integer (`1.0` and
//! `1` are one definition). The pinned definition is kept too, so a change can be shown field by
//! field.
//!
//! Pins written before (form 1) hashed the name, description, input schema and annotations only.
//! Such a pin is upgraded the first time its tool is listed with those four fields unchanged: the
//! whole definition is pinned then (the other fields are trusted as seen at that moment), and the
//! proxy says so on stderr and in the audit log. If those four fields changed, the tool is
//! withheld as before. Nothing is re-pinned silently.
//!
//! The pins file is JSON, written atomically (temporary file + rename) and re-read before
//! each check, so an approval takes effect without restarting the proxy.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The canonical form new pins hash: the whole definition.
pub const FORM: u32 = 2;
/// The pins file format this version writes (1: form-1 pins only, read and upgraded).
const FILE_VERSION: u32 = 2;
/// How many changed fields a report names (the rest are counted).
pub const MAX_CHANGES_SHOWN: usize = 8;
/// The fields a form-1 pin covers.
const FORM1_FIELDS: [&str; 4] = ["name", "description", "inputSchema", "annotations"];

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinFile {
    version: u32,
    /// Keyed by server (by default its command line).
    servers: BTreeMap<String, ServerPins>,
}

/// The pins of one server.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerPins {
    /// Approved definitions.
    pub tools: BTreeMap<String, Pin>,
    /// Changed definitions waiting for approval.
    #[serde(default)]
    pub pending: BTreeMap<String, Pending>,
}

fn form1() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pin {
    pub sha256: String,
    pub pinned_at: String,
    /// Which canonical form `sha256` hashes (absent in files written before forms: 1).
    #[serde(default = "form1")]
    pub form: u32,
    /// The definition pinned (form 2), to show what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
    /// Set when the definition was approved over vetting findings (`pins approve` of a tool
    /// withheld as poisoned): when, and the findings approved over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vet_override: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub sha256: String,
    pub seen_at: String,
    /// The changed definition, for review before approval.
    pub definition: Value,
    /// Set when the definition came in a message the proxy refused (and did not relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set when vetting withheld the definition as poisoned: the verdict and findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vet: Option<Value>,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Never seen: pinned now (trust on first use).
    FirstSeen,
    /// Same as pinned.
    Pinned,
    /// A form-1 pin whose fields still match: the whole definition is pinned now.
    Upgraded,
    /// Differs from the pin: withheld until approved. `fields`: JSON pointers of what changed
    /// (`None` when the pin is form 1, which kept no definition).
    Changed { pinned: String, now: String, fields: Option<Vec<String>> },
    /// Vetting found the definition poisoned and it was not approved over that: recorded as
    /// pending (with the findings), not pinned. `changed`: the fields that differ from the pin,
    /// if the tool was pinned with another definition.
    Poisoned { now: String, changed: Option<Vec<String>> },
}

/// A copy of `v` with every number that has an integral value as an integer.
fn normalised(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), normalised(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(normalised).collect()),
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => match n.as_f64() {
            // Exactly representable integers only (|x| < 2^53).
            #[allow(clippy::cast_possible_truncation)]
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Value::from(f as i64),
            _ => v.clone(),
        },
        other => other.clone(),
    }
}

/// The canonical form of a whole tool definition (form 2).
pub fn canonical(tool: &Value) -> String {
    let mut out = String::new();
    write_canonical(&normalised(tool), &mut out);
    out
}

/// The canonical form of the fields a form-1 pin covered.
fn canonical_form1(tool: &Value) -> String {
    let mut out = String::new();
    let mut pinned = Map::new();
    for key in FORM1_FIELDS {
        if let Some(v) = tool.get(key) {
            pinned.insert(key.into(), v.clone());
        }
    }
    write_canonical(&Value::Object(pinned), &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash a new pin of `tool` holds.
pub fn digest(tool: &Value) -> String {
    sha256(&canonical(tool))
}

/// JSON pointers of the fields that differ between two definitions (after normalising
/// numbers), at most [`MAX_CHANGES_SHOWN`] of them, then a count of the rest.
pub fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let mut all = Vec::new();
    diff(&normalised(old), &normalised(new), String::new(), &mut all);
    if all.len() > MAX_CHANGES_SHOWN {
        let more = all.len() - MAX_CHANGES_SHOWN;
        all.truncate(MAX_CHANGES_SHOWN);
        all.push(format!("(and {more} more)"));
    }
    all
}

fn diff(old: &Value, new: &Value, at: String, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    let here = |out: &mut Vec<String>| out.push(if at.is_empty() { "/".to_string() } else { at.clone() });
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff(x, y, path, out),
                    _ => out.push(path),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, format!("{at}/{i}"), out);
            }
        }
        _ => here(out),
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A pins file.
#[derive(Debug)]
pub struct PinStore {
    path: PathBuf,
    file: PinFile,
}

impl PinStore {
    /// Opens (or starts) the pins file at `path`.
    pub fn open(path: &Path) -> Result<PinStore> {
        let mut file: PinFile = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Pins {
                path: path.into(),
                reason: e.to_string(),
                hint: "fix or remove the file (every tool will be pinned afresh)",
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                PinFile { version: FILE_VERSION, ..PinFile::default() }
            }
            Err(e) => {
                return Err(Error::Pins { path: path.into(), reason: e.to_string(), hint: "check the --pins path" });
            }
        };
        if file.version > FILE_VERSION {
            return Err(Error::Pins {
                path: path.into(),
                reason: format!(
                    "format version {} is newer than this mcp-sandbox reads ({FILE_VERSION})",
                    file.version
                ),
                hint: "use the mcp-sandbox that wrote it, or pass another --pins file",
            });
        }
        // Written back in the current format (form-1 pins stay as they are until upgraded).
        file.version = FILE_VERSION;
        Ok(PinStore { path: path.into(), file })
    }

    /// The default location: `$XDG_STATE_HOME/mcp-sandbox/pins.json`, else
    /// `~/.local/state/mcp-sandbox/pins.json`.
    pub fn default_path() -> Option<PathBuf> {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(state.join("mcp-sandbox/pins.json"))
    }

    pub fn servers(&self) -> &BTreeMap<String, ServerPins> {
        &self.file.servers
    }

    pub(crate) fn servers_mut(&mut self) -> &mut BTreeMap<String, ServerPins> {
        &mut self.file.servers
    }

    /// How `tool` compares with the pins of `server`; changes nothing.
    pub fn verdict(&self, server: &str, tool: &Value) -> Verdict {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
        let Some(pin) = self.file.servers.get(server).and_then(|p| p.tools.get(name)) else {
            return Verdict::FirstSeen;
        };
        if pin.form == 1 {
            if sha256(&canonical_form1(tool)) == pin.sha256 {
                return Verdict::Upgraded;
            }
            return Verdict::Changed { pinned: pin.sha256.clone(), now: digest(tool), fields: None };
        }
        let now = digest(tool);
        if now == pin.sha256 {
            return Verdict::Pinned;
        }
        let fields = pin.definition.as_ref().map(|old| changed_fields(old, tool));
        Verdict::Changed { pinned: pin.sha256.clone(), now, fields }
    }

    /// Checks one definition of a listing the proxy relays against the pins of `server`:
    /// pins it on first sight (or upgrades a form-1 pin), records a changed one as pending.
    pub fn check(&mut self, server: &str, tool: &Value) -> Verdict {
        let verdict = self.verdict(server, tool);
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let pins = self.file.servers.entry(server.into()).or_default();
        match &verdict {
            Verdict::FirstSeen | Verdict::Upgraded => {
                let pin = Pin {
                    sha256: digest(tool),
                    pinned_at: now(),
                    form: FORM,
                    definition: Some(tool.clone()),
                    vet_override: None,
                };
                pins.tools.insert(name.clone(), pin);
                pins.pending.remove(&name);
            }
            Verdict::Changed { now: hash, .. } => {
                let seen =
                    Pending { sha256: hash.clone(), seen_at: now(), definition: tool.clone(), note: None, vet: None };
                pins.pending.insert(name, seen);
            }
            Verdict::Pinned | Verdict::Poisoned { .. } => {}
        }
        verdict
    }

    /// [`PinStore::check`] for a definition vetting judged: `poisoned` carries the findings when
    /// it was found poisoned. Such a definition is pinned only if this very definition was
    /// approved over its findings; otherwise it is recorded as pending with them (whether it
    /// was new, changed, or pinned before vetting existed) and [`Verdict::Poisoned`] returned.
    pub fn check_vetted(&mut self, server: &str, tool: &Value, poisoned: Option<Value>) -> Verdict {
        let Some(findings) = poisoned else { return self.check(server, tool) };
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let verdict = self.verdict(server, tool);
        let approved = self
            .file
            .servers
            .get(server)
            .and_then(|p| p.tools.get(&name))
            .is_some_and(|pin| pin.vet_override.is_some());
        if verdict == Verdict::Pinned && approved {
            return verdict;
        }
        let changed = match verdict {
            Verdict::Changed { fields, .. } => Some(fields.unwrap_or_default()),
            _ => None,
        };
        let hash = digest(tool);
        let note = Some("withheld by vetting: poisoned (see `vet`)".to_string());
        let seen =
            Pending { sha256: hash.clone(), seen_at: now(), definition: tool.clone(), note, vet: Some(findings) };
        self.file.servers.entry(server.into()).or_default().pending.insert(name, seen);
        Verdict::Poisoned { now: hash, changed }
    }

    /// Checks a definition found in a message the proxy refused (`why`): a change is recorded
    /// as pending (with `why`), nothing is pinned or upgraded.
    pub fn inspect(&mut self, server: &str, tool: &Value, why: &str) -> Verdict {
        let verdict = self.verdict(server, tool);
        if let Verdict::Changed { now: hash, .. } = &verdict {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let note = Some(format!("sent in a message the proxy refused: {why}"));
            let seen = Pending { sha256: hash.clone(), seen_at: now(), definition: tool.clone(), note, vet: None };
            self.file.servers.entry(server.into()).or_default().pending.insert(name, seen);
        }
        verdict
    }

    /// The file's content for `pins list`: each pending change also names the fields that
    /// changed (`changed`).
    pub fn report(&self) -> Value {
        let mut out = Map::new();
        for (server, pins) in &self.file.servers {
            let mut v = serde_json::to_value(pins).unwrap_or(Value::Null);
            for (name, p) in &pins.pending {
                let changed = match pins.tools.get(name).and_then(|t| t.definition.as_ref()) {
                    Some(old) => Value::from(changed_fields(old, &p.definition)),
                    None if pins.tools.contains_key(name) => {
                        "unknown: pinned (form 1) before definitions were kept; one of name, description, inputSchema, annotations".into()
                    }
                    None => "not pinned".into(),
                };
                if let Some(entry) = v.pointer_mut(&format!("/pending/{}", name.replace('~', "~0").replace('/', "~1")))
                {
                    entry["changed"] = changed;
                }
            }
            out.insert(server.clone(), v);
        }
        Value::Object(out)
    }

    /// Approves the pending definitions of `names` (all pending ones if empty) for `server`
    /// (the only server in the file if `None`). Returns the names approved.
    pub fn approve(&mut self, server: Option<&str>, names: &[String]) -> Result<Vec<String>> {
        let key = match server {
            Some(s) => s.to_string(),
            None if self.file.servers.len() == 1 => self.file.servers.keys().next().cloned().unwrap_or_default(),
            None => {
                return Err(Error::Pins {
                    path: self.path.clone(),
                    reason: format!("{} servers are pinned here", self.file.servers.len()),
                    hint: "name one with --server (see `mcp-sandbox pins list`)",
                });
            }
        };
        let Some(pins) = self.file.servers.get_mut(&key) else {
            return Err(Error::Pins {
                path: self.path.clone(),
                reason: format!("no server `{key}`"),
                hint: "see `mcp-sandbox pins list` for the server names",
            });
        };
        let wanted: Vec<String> =
            if names.is_empty() { pins.pending.keys().cloned().collect() } else { names.to_vec() };
        let mut done = Vec::new();
        for n in wanted {
            let Some(p) = pins.pending.remove(&n) else {
                return Err(Error::Pins {
                    path: self.path.clone(),
                    reason: format!("tool `{n}` has no pending change"),
                    hint: "see `mcp-sandbox pins list`",
                });
            };
            // Pinned in the current form, whatever form the pending entry was recorded under.
            let vet_override = p.vet.map(|findings| serde_json::json!({"approved_at": now(), "findings": findings}));
            let pin = Pin {
                sha256: digest(&p.definition),
                pinned_at: now(),
                form: FORM,
                definition: Some(p.definition),
                vet_override,
            };
            pins.tools.insert(n.clone(), pin);
            done.push(n);
        }
        Ok(done)
    }

    /// Takes the pins file's lock (`FILE.lock`, an exclusive `flock`), held until the returned
    /// file is dropped: a proxy's read-check-write and an approval never interleave, so no
    /// process overwrites a pin another has just written.
    pub fn lock(path: &Path) -> Result<std::fs::File> {
        let fail = |e: std::io::Error| Error::Pins {
            path: path.into(),
            reason: format!("cannot lock it: {e}"),
            hint: "check that its directory is writable",
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&name).map_err(fail)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map_err(|e| fail(e.into()))?;
        Ok(file)
    }

    /// Writes the file atomically (creating its directory).
    pub fn save(&self) -> Result<()> {
        let fail = |e: std::io::Error| Error::Pins {
            path: self.path.clone(),
            reason: e.to_string(),
            hint: "check that the directory is writable",
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_string_pretty(&self.file).unwrap_or_default() + "\n";
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

#[cfg(test)]
mod tests;
