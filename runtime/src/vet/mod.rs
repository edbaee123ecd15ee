//! Tool vetting: catches poisoned tool definitions before a model reads them.
//!
//! A poisoned tool does its harm through the model: its definition (description, title,
//! parameter descriptions, enum values, defaults, annotations, nested schemas) tells the model
//! to read secrets with another tool and hand them over, to change what other tools do, to
//! prefer it, to hide what it did. The sandbox confines what a tool *does*; this module judges
//! what its definition *says*.
//!
//! The engine looks for an instruction *aimed at the model* combined with a *harmful
//! objective*, not for keywords: an honest password manager that talks about passwords, or a
//! tool that says "IMPORTANT: always use absolute paths", is clean. Hidden text (invisible
//! characters, tag characters, bidi controls, comments, escapes, encodings, text pushed out of
//! view) is made visible, decoded and judged again.
//!
//! Pure functions over data: no I/O, no network, deterministic. The rules are tables
//! ([`rules::RULES`]) with an id, a category, a severity and a one-line reason each.

mod concepts;
pub mod corpus;
mod fields;
mod hidden;
mod lexicon;
mod names;
mod purpose;
pub mod rules;
pub mod sarif;
pub mod secrets;
mod semantic;
mod text;

pub use fields::Field;
use serde::Serialize;
use serde_json::Value;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// The public taxonomy of tool poisoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Instructions addressed to the model rather than a description of the tool.
    Instruction,
    /// Reads of sensitive resources the tool's purpose does not need.
    SensitiveRead,
    /// Parameters that exist to carry data out.
    ExfilParam,
    /// Instructions about how the model should use other tools.
    Shadowing,
    /// "Always use this tool", "the other tools are broken".
    Preference,
    /// "Do not tell the user".
    Concealment,
    /// Repeated calls, destructive operations.
    RepeatDestructive,
    /// Hidden or encoded text.
    Obfuscation,
    /// What the definition asks for against what the tool is or may do.
    PurposeMismatch,
    /// A name confusable with another tool's.
    NameSquatting,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Instruction => "instruction",
            Category::SensitiveRead => "sensitive-read",
            Category::ExfilParam => "exfil-param",
            Category::Shadowing => "shadowing",
            Category::Preference => "preference",
            Category::Concealment => "concealment",
            Category::RepeatDestructive => "repeat-destructive",
            Category::Obfuscation => "obfuscation",
            Category::PurposeMismatch => "purpose-mismatch",
            Category::NameSquatting => "name-squatting",
        }
    }
}

/// The verdict on one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding above `low`.
    Clean,
    /// At least one `medium` finding: a human should look.
    Suspicious,
    /// At least one `high` finding.
    Poisoned,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Poisoned => "poisoned",
        }
    }
}

/// One thing found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id (`rules::RULES`).
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Where in the definition: `description`, `inputSchema.properties.x.description`, …
    pub location: String,
    /// The text that matched, invisible characters made visible, decoded payloads decoded.
    pub evidence: String,
    /// One line: why this is a finding.
    pub explanation: String,
}

/// The vetting report for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The tool's name as listed (invisible characters made visible).
    pub tool: String,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

impl Report {
    /// The highest severity found, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// What mcp-sandbox knows about the tool beyond its definition: the capabilities it is granted
/// (a manifest's `[policy]`, a proxy's policy). Used to judge purpose mismatch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Declared network endpoints, as written (`https://api.example.com`, `host:443`).
    pub network: Vec<String>,
    /// Paths readable.
    pub reads: Vec<String>,
    /// Paths writable.
    pub writes: Vec<String>,
    /// Environment variable names passed.
    pub env: Vec<String>,
    /// The grant is a whole server's (a proxy's policy), shared by every tool it lists: what one
    /// tool needs is no evidence against another, so the purpose-against-capability rules judge
    /// it only when the server lists this one tool alone.
    pub shared: bool,
}

/// The tool definitions in a JSON document: a `tools/list` result (`{"tools": […]}`), a
/// JSON-RPC response carrying one, an array of tools, or one tool. `None` if it is none of
/// these.
pub fn tools_in(doc: &Value) -> Option<Vec<Value>> {
    let is_tool = |v: &Value| v.get("name").is_some_and(Value::is_string);
    if let Some(tools) = doc.pointer("/result/tools").or_else(|| doc.get("tools")).and_then(Value::as_array) {
        return tools.iter().all(is_tool).then(|| tools.clone());
    }
    match doc {
        Value::Array(items) if items.iter().all(is_tool) => Some(items.clone()),
        v if is_tool(v) => Some(vec![v.clone()]),
        _ => None,
    }
}

/// Context for vetting one tool.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The other tools of the same listing (full definitions or `{"name": …}`); tools of other
    /// servers can be added too.
    pub siblings: &'a [Value],
    /// The tool's granted capabilities, where known.
    pub capabilities: Option<&'a Capabilities>,
}

/// Vets one tool definition (an MCP `Tool` object).
pub fn vet_tool(tool: &Value, ctx: &Context<'_>) -> Report {
    let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
    let fields = fields::extract(tool);
    let mut findings = Vec::new();
    let profile = purpose::Profile::of(tool, &fields).with_siblings(ctx.siblings);
    for field in &fields {
        findings.extend(hidden::scan(field));
        for view in hidden::views(field) {
            findings.extend(semantic::scan(&view, &profile, ctx));
        }
    }
    findings.extend(names::scan(name, ctx.siblings));
    findings.extend(purpose::credential_params(&profile));
    findings.extend(purpose::annotation_mismatch(&profile));
    if let Some(caps) = ctx.capabilities
        && (!caps.shared || ctx.siblings.is_empty())
    {
        findings.extend(purpose::against_capabilities(&profile, caps));
    }
    dedupe(&mut findings);
    combine(&mut findings);
    let verdict = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::High) => Verdict::Poisoned,
        Some(Severity::Medium) => Verdict::Suspicious,
        _ => Verdict::Clean,
    };
    Report { tool: text::reveal(name), verdict, findings }
}

/// Diagnostics: the concepts found in each view of `tool` (`location: concept*` per view,
/// concepts the tool's purpose explains in brackets). For developing rules, not for verdicts.
#[doc(hidden)]
pub fn concepts_of(tool: &Value, ctx: &Context<'_>) -> Vec<String> {
    let fields = fields::extract(tool);
    let profile = purpose::Profile::of(tool, &fields);
    fields
        .iter()
        .flat_map(hidden::views)
        .map(|v| format!("{}: {}", v.location, semantic::describe(&v, &profile, ctx)))
        .collect()
}

/// Diagnostics: the feature windows of every view of `tool` (see `semantic::windows`).
#[doc(hidden)]
pub fn windows_of(tool: &Value, ctx: &Context<'_>) -> Vec<Vec<String>> {
    let fields = fields::extract(tool);
    let profile = purpose::Profile::of(tool, &fields);
    fields.iter().flat_map(hidden::views).flat_map(|v| semantic::windows(&v, &profile, ctx)).collect()
}

/// Vets every tool of a listing, each against the others as siblings.
pub fn vet_listing(tools: &[Value], capabilities: Option<&Capabilities>) -> Vec<Report> {
    tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let siblings: Vec<Value> =
                tools.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, s)| s.clone()).collect();
            vet_tool(t, &Context { siblings: &siblings, capabilities })
        })
        .collect()
}

/// Independent medium signs in different categories add up to a high one.
fn combine(findings: &mut Vec<Finding>) {
    if findings.iter().any(|f| f.severity == Severity::High) {
        return;
    }
    let medium: std::collections::BTreeSet<Category> =
        findings.iter().filter(|f| f.severity == Severity::Medium).map(|f| f.category).collect();
    if medium.len() >= 2 {
        let rules: Vec<&str> = findings.iter().filter(|f| f.severity == Severity::Medium).map(|f| f.rule).collect();
        findings.insert(0, rules::finding(&semantic::COMBINED, "definition", &rules.join(", ")));
    }
}

/// Keeps one finding per (rule, location), the first; sorts by severity, highest first.
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.location.clone())));
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.location.cmp(&b.location)));
}
