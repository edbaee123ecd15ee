//! The crate's one error type. Every message is one line that says what failed and how to
//! fix it; `exit_code` maps it onto the CLI's documented exit statuses.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read policy {path}: {source}; check the path given to --policy")]
    ReadPolicy { path: PathBuf, source: std::io::Error },

    #[error("{path}:{line}:{col}: {message}; see policies/README.md for the policy format")]
    ParsePolicy { path: PathBuf, line: usize, col: usize, message: String },

    /// A value from a flag or a policy file that does not validate. `origin` is the flag
    /// name or `file:line:col`.
    #[error("{origin}: invalid {what} `{value}`: {reason}; {hint}")]
    InvalidValue { origin: String, what: &'static str, value: String, reason: String, hint: String },

    #[error("cannot open audit log {path}: {source}; check that its directory exists and is writable")]
    OpenAudit { path: PathBuf, source: std::io::Error },

    #[error("cannot read tool {path}: {source}; check the path to the tool")]
    ReadTool { path: PathBuf, source: std::io::Error },

    #[error("cannot load tool {path}: {reason}; {hint}")]
    LoadTool { path: PathBuf, reason: String, hint: &'static str },

    #[error("cannot instantiate tool {path}: {reason}; the tool must be a wasi:cli command component for WASI 0.2")]
    InstantiateTool { path: PathBuf, reason: String },

    #[error("cannot grant {path}: {reason}")]
    PrepareGrant { path: PathBuf, reason: String },

    #[error("cannot start the sandbox engine: {0}")]
    StartEngine(String),

    #[error("cannot run tool: {0}")]
    RunTool(String),

    #[error("cannot read tool manifest {path}: {source}; check the --tools directory")]
    ReadManifest { path: PathBuf, source: std::io::Error },

    #[error("{path}:{line}:{col}: {message}; see tools/README.md for the manifest format")]
    ParseManifest { path: PathBuf, line: usize, col: usize, message: String },

    #[error("invalid JSON Schema: {0}")]
    InvalidSchema(String),

    #[error("tool `{0}` is defined twice; tool names must be unique in a tools directory")]
    DuplicateTool(String),

    #[error("cannot use pins file {path}: {reason}; {hint}")]
    Pins { path: PathBuf, reason: String, hint: &'static str },

    #[error("cannot read profile {origin}: {reason}; profiles are written by `mcp-sandbox learn`")]
    ParseProfile { origin: String, reason: String },

    #[error("cannot use approved pins {path}: {reason}; {hint}")]
    Approved { path: PathBuf, reason: String, hint: String },

    #[error("cannot serve MCP: {0}")]
    Serve(String),
}

impl Error {
    /// The CLI exit status for this error: 126 when the tool cannot be loaded, 125 for
    /// every other sandbox or policy error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ReadTool { .. } | Error::LoadTool { .. } | Error::InstantiateTool { .. } => 126,
            _ => 125,
        }
    }
}
