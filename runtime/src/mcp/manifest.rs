//! Tool manifests (`tool.toml`): what `serve` exposes as an MCP tool. A manifest names the
//! tool, describes it (title, description, JSON Schemas), points at its artifact (a `.wasm`
//! component or a native program), says how a call's arguments reach it (argv template,
//! JSON on stdin), declares its policy in the policy-file format, and binds capabilities to
//! arguments (`[[bind]]`, see [`super::bind`]).
//!
//! Loading validates everything once; a call only substitutes arguments. Relative paths
//! (artifact, policy paths, binding roots) are relative to the manifest's directory.

use super::bind::{Binding, BindingFile};
use crate::error::{Error, Result};
use crate::policy::file::{PolicyFile, line_col, one_line};
use crate::policy::{Access, Policy, PolicyBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The manifest file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// A WebAssembly component (`wasm = "tool.wasm"`); exclusive with `command`.
    #[serde(default)]
    wasm: Option<PathBuf>,
    /// A native program: an ELF executable or a `#!` script; exclusive with `wasm`.
    #[serde(default)]
    command: Option<PathBuf>,
    /// The tool's argv after its name. `"{name}"` is replaced by the argument `name`
    /// (a string, number or boolean; an array expands to one element per item when the
    /// template element is exactly `"{name}"`).
    #[serde(default)]
    args: Vec<String>,
    /// `"arguments"` (default): the call's arguments as one JSON object on stdin; `"none"`.
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default)]
    input_schema: Option<toml::Table>,
    #[serde(default)]
    output_schema: Option<toml::Table>,
    /// MCP tool annotations claimed by the author. They may narrow the policy (e.g.
    /// `readOnlyHint = true` drops write and network grants), never widen it.
    #[serde(default)]
    annotations: Option<AnnotationClaims>,
    #[serde(default)]
    policy: PolicyFile,
    #[serde(default, rename = "bind")]
    binds: Vec<BindingFile>,
    /// The tool's job is to receive secrets (a secret manager's `store`): the argument guard
    /// lets secrets in its arguments through although it can reach the network.
    #[serde(default)]
    accepts_secrets: bool,
}

/// Annotation claims from a manifest (or another source, such as a proxied server).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnnotationClaims {
    pub read_only_hint: Option<bool>,
    pub destructive_hint: Option<bool>,
    pub idempotent_hint: Option<bool>,
    pub open_world_hint: Option<bool>,
}

/// What the sandbox guarantees about a tool, derived from its effective policy (the static
/// grants plus every capability its bindings could add).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    /// No write access and no network: it cannot change anything outside itself.
    pub read_only: bool,
    /// It can write to granted files.
    pub destructive: bool,
    /// It can reach the network.
    pub open_world: bool,
}

/// The artifact a manifest runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    Wasm(PathBuf),
    Native(PathBuf),
}

impl Artifact {
    pub fn path(&self) -> &Path {
        match self {
            Artifact::Wasm(p) | Artifact::Native(p) => p,
        }
    }
}

/// A loaded, validated tool manifest.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub artifact: Artifact,
    pub args: Vec<String>,
    pub stdin_arguments: bool,
    pub input_schema: Arc<Map<String, Value>>,
    pub output_schema: Option<Arc<Map<String, Value>>>,
    /// The declared policy (narrowed by annotation claims); each call adds its bindings.
    pub policy: PolicyBuilder,
    pub bindings: Vec<Binding>,
    pub derived: Derived,
    pub idempotent: Option<bool>,
    /// Where it was loaded from.
    pub source: PathBuf,
    /// The argument guard lets secrets through to it (`accepts_secrets = true`).
    pub accepts_secrets: bool,
}

fn parse_error(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> Error {
    let (line, col) = line_col(text, offset);
    // One line, whatever the manifest quoted into the message.
    Error::ParseManifest { path: path.into(), line, col, message: one_line(&message.into()) }
}

fn schema_object(table: Option<toml::Table>, default_object: bool) -> Option<Map<String, Value>> {
    match table {
        Some(t) => match serde_json::to_value(t) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
        None if default_object => {
            let mut m = Map::new();
            m.insert("type".into(), Value::String("object".into()));
            Some(m)
        }
        None => None,
    }
}

/// Tool names as MCP clients accept them: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl ToolSpec {
    /// Reads and validates one manifest.
    pub fn load(path: &Path) -> Result<ToolSpec> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadManifest { path: path.into(), source })?;
        Self::parse(&text, path)
    }

    /// Validates the text of a manifest as if read from `path` (relative paths in it are
    /// relative to `path`'s directory; granted paths must exist). Reads no file itself, so
    /// it can be fuzzed.
    pub fn parse(text: &str, path: &Path) -> Result<ToolSpec> {
        let text = text.to_string();
        let file: ManifestFile = toml::from_str(&text)
            .map_err(|e| parse_error(path, &text, e.span().map_or(0, |s| s.start), e.message().trim()))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let bad = |message: String| parse_error(path, &text, 0, message);
        if !valid_name(&file.name) {
            return Err(bad(format!("tool name `{}` must be 1-64 of A-Z a-z 0-9 _ - .", file.name)));
        }
        let artifact = match (file.wasm, file.command) {
            (Some(w), None) => Artifact::Wasm(base.join(w)),
            (None, Some(c)) => Artifact::Native(base.join(c)),
            _ => return Err(bad("give exactly one of `wasm = \"tool.wasm\"` or `command = \"./tool\"`".into())),
        };
        let stdin_arguments = match file.stdin.as_deref() {
            None | Some("arguments") => true,
            Some("none") => false,
            Some(other) => return Err(bad(format!("stdin = \"{other}\": expected \"arguments\" or \"none\""))),
        };
        let input_schema = schema_object(file.input_schema, true)
            .ok_or_else(|| bad("input_schema must be a table (a JSON Schema object)".into()))?;
        if input_schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(bad("input_schema must have type = \"object\" (MCP tool arguments are an object)".into()));
        }
        let output_schema = schema_object(file.output_schema, false);
        for (which, schema) in [("input_schema", Some(&input_schema)), ("output_schema", output_schema.as_ref())] {
            if let Some(s) = schema {
                jsonschema::validator_for(&Value::Object(s.clone()))
                    .map_err(|e| bad(format!("{which} is not a valid JSON Schema: {e}")))?;
            }
        }
        let mut policy = PolicyBuilder::default();
        policy.parsed(&file.policy, &text, path, base)?;
        let mut bindings = Vec::new();
        for b in file.binds {
            let binding = b.validate(base).map_err(&bad)?;
            if input_schema.get("properties").and_then(|p| p.get(binding.argument())).is_none() {
                return Err(bad(format!(
                    "[[bind]] argument `{}` is not a property of input_schema",
                    binding.argument()
                )));
            }
            bindings.push(binding);
        }
        for a in &file.args {
            for name in super::bind::placeholders(a) {
                if input_schema.get("properties").and_then(|p| p.get(name)).is_none() {
                    return Err(bad(format!("args: `{{{name}}}` is not a property of input_schema")));
                }
            }
        }
        // Annotation claims narrow; the advertised annotations are what is then guaranteed.
        let claims = file.annotations.unwrap_or_default();
        let no_network = claims.read_only_hint == Some(true) || claims.open_world_hint == Some(false);
        let no_writes = claims.read_only_hint == Some(true) || claims.destructive_hint == Some(false);
        policy.narrow(no_writes, no_network);
        bindings.retain_mut(|b| b.narrow(no_writes, no_network));
        let derived = derive(policy.declared(), &bindings);
        Ok(ToolSpec {
            name: file.name,
            title: file.title,
            description: file.description,
            artifact,
            args: file.args,
            stdin_arguments,
            input_schema: Arc::new(input_schema),
            output_schema: output_schema.map(Arc::new),
            policy,
            bindings,
            derived,
            idempotent: claims.idempotent_hint.filter(|_| derived.read_only),
            source: path.into(),
            accepts_secrets: file.accepts_secrets,
        })
    }
}

/// The guarantees of a declared policy plus what its bindings could add.
pub fn derive(declared: &Policy, bindings: &[Binding]) -> Derived {
    let writes = declared.paths.iter().any(|p| p.access == Access::Write) || bindings.iter().any(Binding::writes);
    let network =
        !declared.endpoints.is_empty() || !declared.listen.is_empty() || bindings.iter().any(Binding::connects);
    Derived { read_only: !writes && !network, destructive: writes, open_world: network }
}

/// The manifests in `dir`: every `*.toml` in it and every `*/tool.toml` below it, sorted.
pub fn manifest_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadManifest { path: dir.into(), source })?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            let m = p.join("tool.toml");
            if m.is_file() {
                out.push(m);
            }
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}
