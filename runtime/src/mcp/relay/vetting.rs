//! The vetting part of [`Relay`]: each tool of a listing is vetted (with its siblings and the
//! proxy's policy as context) before it is pinned, and the data-flow guard on `tools/call`:
//! secrets in arguments to a networked server refused, results carrying instructions aimed at
//! the model reported (and, with `--on-injected-result block`, replaced by an error).

use super::{Relay, lock};
use crate::audit::{Capability, EventKind};
use crate::mcp::guard::{self, ResultMode, VetMode};
use crate::mcp::pins;
use crate::vet::{self, Report, Verdict};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `MCPS-SR001 (description), MCPS-CN001 (description)`: the findings of a report, briefly.
pub(super) fn rules(findings: &[vet::Finding]) -> String {
    findings.iter().map(|f| format!("{} ({})", f.rule, f.location)).collect::<Vec<_>>().join(", ")
}

impl Relay {
    /// The reports of every tool in a listing, by name (the first of a name), unless vetting
    /// is off.
    pub(super) fn vet_reports(&self, tools: &[Value]) -> HashMap<String, Report> {
        let mut out = HashMap::new();
        if self.options.vet == VetMode::Off {
            return out;
        }
        for (tool, report) in tools.iter().zip(vet::vet_listing(tools, Some(&self.capabilities))) {
            if let Some(name) = tool.get("name").and_then(Value::as_str) {
                out.entry(name.to_string()).or_insert(report);
            }
        }
        out
    }

    /// Reports and audits a tool's vetting (once per definition per session); the findings
    /// when the tool is to be withheld as poisoned.
    pub(super) fn vet_verdict(&self, name: &str, tool: &Value, report: Option<&Report>) -> Option<Value> {
        let report = report?;
        let digest = pins::digest(tool);
        let detail = json!({"verdict": report.verdict, "sha256": digest, "findings": report.findings});
        if lock(&self.state).vetted.insert(digest) {
            let reason = match report.verdict {
                Verdict::Clean => "vetted: clean".to_string(),
                v => format!("vetted: {}: {}", v.as_str(), rules(&report.findings)),
            };
            if report.verdict != Verdict::Clean {
                eprintln!("mcp-sandbox: proxy: tool `{name}` {reason}");
            }
            self.audit.emit(
                EventKind::Vet,
                Some(Capability::McpTool),
                Some(name.into()),
                Some(reason),
                Some(detail.clone()),
            );
        }
        (self.options.vet == VetMode::Withhold && report.verdict == Verdict::Poisoned).then_some(detail)
    }

    /// A poisoned tool relayed because its definition was approved over its findings.
    pub(super) fn vet_overridden(&self, name: &str) {
        self.audit.emit(
            EventKind::Vet,
            Some(Capability::McpTool),
            Some(name.into()),
            Some("relayed although vetting found it poisoned: this definition was approved (`pins approve`)".into()),
            None,
        );
    }

    /// The argument guard: the tool error answering a call that carries a secret to a
    /// networked server, unless the tool may receive secrets.
    pub(super) fn guard_call(&self, name: &str, params: Option<&Value>, id: &Value) -> Result<(), Value> {
        let args = params.and_then(|p| p.get("arguments")).cloned().unwrap_or(Value::Null);
        let accepts = self.options.allow_secrets_to.iter().any(|t| t == name);
        let Some(refusal) = guard::secrets_in_call(name, &args, self.derived.open_world, accepts) else {
            return Ok(());
        };
        eprintln!("mcp-sandbox: proxy: {}", refusal.message);
        self.audit.emit(
            EventKind::Deny,
            Some(Capability::McpTool),
            Some(name.into()),
            Some(format!(
                "secret in the arguments: {}",
                refusal.findings.iter().map(|f| format!("{} at {}", f.rule, f.argument)).collect::<Vec<_>>().join(", ")
            )),
            Some(refusal.detail()),
        );
        Err(json!({"jsonrpc": "2.0", "id": id, "result": guard::tool_error(&refusal.message)}))
    }

    /// The result guard: what a `tools/call` result shows the model, judged; reported and
    /// audited when it carries instructions, replaced by an error with `--on-injected-result
    /// block`.
    pub(super) fn guard_result(&self, tool: Option<&str>, result: Value) -> Value {
        let name = tool.unwrap_or("");
        let found = guard::injected(name, &result);
        if found.is_empty() {
            return result;
        }
        let block = self.options.on_injected_result == ResultMode::Block;
        let reason = format!(
            "the result of `{name}` carries instructions aimed at the model: {}{}",
            rules(&found),
            if block { "; replaced by an error" } else { "" }
        );
        eprintln!("mcp-sandbox: proxy: {reason}");
        self.audit.emit(
            EventKind::Vet,
            Some(Capability::McpTool),
            Some(name.into()),
            Some(reason),
            Some(json!({"result": true, "blocked": block, "findings": found})),
        );
        if block { guard::blocked_result(name, &found) } else { result }
    }
}
