//! The policy file: TOML, one per tool. Its JSON Schema (`mcp-sandbox policy schema`) is
//! generated from these types, so editors can validate policy files.
//!
//! Every list entry keeps its position in the file so that a bad value is reported as
//! `file:line:column`.

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// A tool's declared capabilities. Anything not listed is denied.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mcp-sandbox policy")]
pub struct PolicyFile {
    /// Format version; only 1 exists.
    #[serde(default)]
    pub version: Option<u32>,
    /// Files and directories. Relative paths are relative to the policy file.
    #[serde(default)]
    pub filesystem: FilesystemSection,
    /// Network endpoints, listeners and name pins.
    #[serde(default)]
    pub network: NetworkSection,
    /// Environment variables.
    #[serde(default)]
    pub env: EnvSection,
    /// Resource limits for one invocation.
    #[serde(default)]
    pub limits: LimitsSection,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesystemSection {
    /// Read-only access to each file or directory tree (same as `--allow-read`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub read: Vec<Spanned<String>>,
    /// Read-write access to each file or directory tree (same as `--allow-write`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub write: Vec<Spanned<String>>,
    /// Read and execute access, for native tools (same as `--allow-exec`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub exec: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Endpoints the tool may reach: `[scheme://]host[:port]` (same as `--allow-net`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub allow: Vec<Spanned<String>>,
    /// Local addresses the tool may bind and listen on: `[tcp://|udp://]ip:port`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub listen: Vec<Spanned<String>>,
    /// Pins a declared name to an address: `host:addr` (same as `--resolve`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub resolve: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    /// `NAME` passes the host's value; `NAME=VALUE` sets one (same as `--allow-env`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub allow: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Wall-clock limit, e.g. `30s` (default 30s).
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
    /// Memory limit, e.g. `256MiB` (default 256MiB).
    #[schemars(with = "Option<String>")]
    pub memory: Option<Spanned<String>>,
    /// Cap on captured stdout/stderr per stream when output is captured (default 16MiB).
    #[schemars(with = "Option<String>")]
    pub output: Option<Spanned<String>>,
}

/// The JSON Schema of the policy file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// `text` with every control character (a line break, a tab, NUL...) escaped, so that an
/// error message quoting input stays one line.
pub fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// 1-based line and column of byte offset `pos` in `text`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    // A position inside a character counts as that character's start (never a panic).
    let end = (0..=pos.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_control_characters_only() {
        assert_eq!(one_line("a\nb\t\"c\" \u{0}é"), "a\\nb\\t\"c\" \\u{0}é");
    }

    #[test]
    fn line_col_is_total() {
        let text = "a\nbé\nc";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 2));
        assert_eq!(line_col(text, 4), (2, 2), "inside `é`");
        assert_eq!(line_col(text, 5), (2, 3));
        assert_eq!(line_col(text, 6), (3, 1));
        assert_eq!(line_col(text, 999), (3, 2));
    }
}
