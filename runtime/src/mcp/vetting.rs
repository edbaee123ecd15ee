//! Vetting in `serve`: the loaded manifests are vetted (each against the others, with its own
//! declared policy as context), findings audited, and tools with a finding at or above
//! `--vet-deny` not served; the argument guard (secrets refused to a tool that can reach the
//! network unless its manifest says `accepts_secrets = true`) and the result guard (a result
//! carrying instructions aimed at the model audited, or replaced by an error).

use super::guard::{self, ResultMode};
use super::{CallEnd, CallReport, Entry, ToolSet};
use crate::audit::{Auditor, Capability, EventKind};
use crate::grant::GrantId;
use crate::vet::{self, Context, Report, Severity};
use serde_json::{Value, json};

/// How the reason of an argument guard refusal starts (metrics count these as vetting refusals).
pub const SECRET_REFUSAL: &str = "secret in the arguments";

/// One loaded tool's vetting: its report, and whether it was withdrawn (`--vet-deny`).
#[derive(Debug, Clone)]
pub struct Vetted {
    pub report: Report,
    pub withdrawn: bool,
}

impl ToolSet {
    fn auditor(&self, entry: &Entry) -> Auditor {
        Auditor::new(self.sandbox.audit_sink().clone(), GrantId::random().to_string(), entry.tool.digest().to_string())
    }

    /// Vets every loaded tool; those with a finding at or above `deny` are withdrawn (not
    /// listed, not callable). Each verdict is audited as a `vet` event.
    pub fn vet(&mut self, deny: Option<Severity>) -> Vec<Vetted> {
        let defs: Vec<(String, Value)> = self
            .specs()
            .map(|s| (s.name.clone(), serde_json::to_value(super::server::definition(s)).unwrap_or(Value::Null)))
            .collect();
        let mut out = Vec::new();
        for (i, (name, def)) in defs.iter().enumerate() {
            let Some(entry) = self.tools.get(name) else { continue };
            let siblings: Vec<Value> =
                defs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, (_, d))| d.clone()).collect();
            let caps = guard::capabilities(entry.spec.policy.declared());
            let report = vet::vet_tool(def, &Context { siblings: &siblings, capabilities: Some(&caps) });
            let withdrawn = deny.is_some_and(|d| report.max_severity().is_some_and(|s| s >= d));
            let reason = format!(
                "vetted: {}{}{}",
                report.verdict.as_str(),
                if report.findings.is_empty() { String::new() } else { format!(": {}", rules(&report.findings)) },
                if withdrawn { "; not served (--vet-deny)" } else { "" }
            );
            let detail = json!({"verdict": report.verdict, "findings": report.findings, "withdrawn": withdrawn});
            self.auditor(entry).emit(
                EventKind::Vet,
                Some(Capability::McpTool),
                Some(name.clone()),
                Some(reason),
                Some(detail),
            );
            out.push(Vetted { report, withdrawn });
        }
        for v in out.iter().filter(|v| v.withdrawn) {
            self.tools.remove(&v.report.tool);
        }
        out
    }

    /// The argument guard: a refusal report when `args` carry a secret to a tool that can reach
    /// the network and whose manifest does not accept secrets.
    pub(super) fn guard_arguments(&self, entry: &Entry, args: &Value) -> Option<CallReport> {
        let spec = &entry.spec;
        let refusal = guard::secrets_in_call(&spec.name, args, spec.derived.open_world, spec.accepts_secrets)?;
        // Refused before any grant: under the call's own id.
        let audit = self.call_auditor(entry);
        let what: Vec<String> = refusal.findings.iter().map(|f| format!("{} at {}", f.rule, f.argument)).collect();
        audit.emit(
            EventKind::Deny,
            Some(Capability::McpTool),
            Some(spec.name.clone()),
            Some(format!("{SECRET_REFUSAL}: {}", what.join(", "))),
            Some(refusal.detail()),
        );
        Some(self.report(audit.invocation().to_string(), CallEnd::Guarded(refusal.message)))
    }

    /// The result guard: what a successful call shows the model, judged; audited when it
    /// carries instructions aimed at the model, replaced by an error if `on_injected_result`
    /// says block.
    pub(super) fn guard_output(&self, entry: &Entry, report: &mut CallReport) {
        if report.is_error() {
            return;
        }
        let mut result = json!({"content": [{"type": "text", "text": String::from_utf8_lossy(&report.stdout)}]});
        if let Some(s) = &report.structured {
            result["structuredContent"] = s.clone();
        }
        let found = guard::injected(&entry.spec.name, &result);
        if found.is_empty() {
            return;
        }
        let block = self.on_injected_result == ResultMode::Block;
        let reason = format!(
            "the result of `{}` carries instructions aimed at the model: {}{}",
            entry.spec.name,
            rules(&found),
            if block { "; replaced by an error" } else { "" }
        );
        eprintln!("mcp-sandbox: {reason}");
        let audit =
            Auditor::new(self.sandbox.audit_sink().clone(), report.invocation.clone(), entry.tool.digest().to_string());
        audit.emit(
            EventKind::Vet,
            Some(Capability::McpTool),
            Some(entry.spec.name.clone()),
            Some(reason),
            Some(json!({"result": true, "blocked": block, "findings": found})),
        );
        if block {
            let text = guard::blocked_result(&entry.spec.name, &found)["content"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_string();
            report.end = CallEnd::Guarded(text);
            report.stdout.clear();
            report.structured = None;
        }
    }
}

/// `MCPS-SR001 (description), …`
fn rules(findings: &[vet::Finding]) -> String {
    findings.iter().map(|f| format!("{} ({})", f.rule, f.location)).collect::<Vec<_>>().join(", ")
}
