//! The tools part of [`Relay`]: listings checked against the pins, definitions found in
//! refused messages compared with them, annotations replaced.

use super::{Relay, lock};
use crate::audit::{Capability, EventKind};
use crate::mcp::pins::{PinStore, Verdict};
use crate::mcp::watch::is_hold;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// The tools a message carries, where a client could read them: `result.tools`, `params.tools`.
pub(super) fn carried_tools(m: &Map<String, Value>) -> Option<&Value> {
    let inside = |key: &str| m.get(key).and_then(|v| v.get("tools"));
    inside("result").or_else(|| inside("params"))
}

impl Relay {
    /// Runs `f` on the pins, fresh from the file and under its lock, then saves them.
    fn with_pins<T>(&self, f: impl FnOnce(&mut PinStore) -> T) -> T {
        let mut pins = lock(&self.pins);
        let _file_lock = PinStore::lock(&self.options.pins).map_err(|e| eprintln!("mcp-sandbox: warning: {e}"));
        // Approvals (and other proxies' pins) written since we last looked take effect now.
        if let Ok(fresh) = PinStore::open(&self.options.pins) {
            *pins = fresh;
        }
        let out = f(&mut pins);
        if let Err(e) = pins.save() {
            eprintln!("mcp-sandbox: warning: {e}");
        }
        out
    }

    /// Compares the tools a refused message carried with their pins: a changed one is withheld.
    pub(super) fn inspect(&self, msg: &Map<String, Value>, why: &str) {
        let Some(tools) = carried_tools(msg).and_then(Value::as_array) else { return };
        let named: Vec<&Value> = tools.iter().filter(|t| t.get("name").and_then(Value::as_str).is_some()).collect();
        if named.is_empty() {
            return;
        }
        let server = self.options.server.clone();
        self.with_pins(|pins| {
            for tool in named {
                let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                if let Verdict::Changed { pinned, now, fields } = pins.inspect(&server, tool, why) {
                    let what = format!(
                        "the server sent a changed definition{} (sha256 {pinned} -> {now}) in a message the proxy refused",
                        fields_note(fields.as_deref())
                    );
                    self.withhold(name, what);
                }
            }
        });
    }

    /// Checks a `tools/list` result against the pins; the result relayed, or why it is refused.
    pub(super) fn listing(&self, mut result: Value) -> Result<Value, String> {
        let Some(tools) = result.get_mut("tools").and_then(Value::as_array_mut) else {
            return Err("a `tools/list` result without a `tools` array".into());
        };
        let server = self.options.server.clone();
        let mut seen = HashSet::new();
        self.check_binds(tools);
        let reports = self.vet_reports(tools);
        self.with_pins(|pins| {
            tools.retain_mut(|tool| {
                let Some(name) = tool.get("name").and_then(Value::as_str).map(str::to_string) else {
                    self.dropped("a tool definition without a string `name`");
                    return false;
                };
                if !seen.insert(name.clone()) {
                    self.dropped(&format!("tool `{name}` listed twice in one reply (the first definition is kept)"));
                    return false;
                }
                let poisoned = self.vet_verdict(&name, tool, reports.get(&name));
                let vetted_poisoned = poisoned.is_some();
                match pins.check_vetted(&server, tool, poisoned) {
                    Verdict::Poisoned { now, changed } => {
                        let findings = reports.get(&name).map(|r| super::vetting::rules(&r.findings)).unwrap_or_default();
                        let change = match changed {
                            Some(f) => format!("; its definition also changed since it was pinned{}", fields_note(Some(&f))),
                            None => String::new(),
                        };
                        self.withhold(name, format!("vetting found its definition poisoned (sha256 {now}): {findings}{change}"));
                        false
                    }
                    Verdict::Changed { pinned, now, fields } => {
                        let what = format!(
                            "its definition changed since it was pinned{} (sha256 {pinned} -> {now})",
                            fields_note(fields.as_deref())
                        );
                        self.withhold(name, what);
                        false
                    }
                    verdict => {
                        if let Some(note) = held(pins, &server, &name) {
                            self.withhold(name, note);
                            return false;
                        }
                        if vetted_poisoned {
                            self.vet_overridden(&name);
                        }
                        match verdict {
                            Verdict::FirstSeen => self.audit.allow(Capability::McpTool, name.clone(), "pinned on first sight"),
                            Verdict::Upgraded => {
                                let why = "pin upgraded to the whole definition: it was made (form 1) over name, description, inputSchema and annotations, which are unchanged; the other fields are pinned as seen now";
                                eprintln!("mcp-sandbox: tool `{name}`: {why}");
                                self.audit.allow(Capability::McpTool, name.clone(), why);
                            }
                            _ => {}
                        }
                        let mut state = lock(&self.state);
                        state.withheld.remove(&name);
                        state.definitions.insert(name.clone(), tool.clone());
                        state.allowed.insert(name);
                        drop(state);
                        self.annotate(tool);
                        true
                    }
                }
            });
        });
        Ok(result)
    }

    fn withhold(&self, name: String, why: String) {
        eprintln!("mcp-sandbox: withheld tool `{name}`: {why}");
        self.audit.emit(EventKind::Deny, Some(Capability::McpTool), Some(name.clone()), Some(why.clone()), None);
        let mut state = lock(&self.state);
        state.allowed.remove(&name);
        state.withheld.insert(name, why);
    }

    /// Replaces a tool's safety annotations by what the sandbox guarantees.
    fn annotate(&self, tool: &mut Value) {
        let d = self.derived;
        let Some(obj) = tool.as_object_mut() else { return };
        let mut a = obj.get("annotations").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        a["readOnlyHint"] = json!(d.read_only);
        a["destructiveHint"] = json!(d.destructive);
        a["openWorldHint"] = json!(d.open_world);
        if !d.read_only
            && let Some(m) = a.as_object_mut()
        {
            m.remove("idempotentHint");
        }
        obj.insert("annotations".into(), a);
    }
}

/// Why `name` is held by a quarantine (`proxy --quarantine`), until `pins approve`.
fn held(pins: &PinStore, server: &str, name: &str) -> Option<String> {
    let pending = pins.servers().get(server)?.pending.get(name)?;
    is_hold(pending).then(|| pending.note.clone().unwrap_or_default())
}

/// ` (changed: /title, /description)`, or nothing when the fields are not known.
fn fields_note(fields: Option<&[String]>) -> String {
    match fields {
        Some(f) if !f.is_empty() => format!(" (changed: {})", f.join(", ")),
        _ => String::new(),
    }
}
