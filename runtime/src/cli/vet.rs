//! `mcp-sandbox vet`: vets tool definitions from files, manifest directories or a live server,
//! and prints the reports as text, JSON or SARIF. Exit 0 when nothing reaches `--fail-on`,
//! 1 when something does, 125 on bad input.

use super::run::{PolicyArgs, runtime, sandbox_builder};
use crate::mcp::manifest::{ToolSpec, manifest_paths};
use crate::vet::{self, Capabilities, Context, Report, Severity, Verdict};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
        }
    }
}

#[derive(Debug, Args)]
pub struct VetArgs {
    /// JSON files (a tools/list result, an array of tools, or one tool), manifest directories,
    /// or `-` for stdin
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 1 when a finding at or above this severity exists
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    fail_on: FailOn,
    /// A second opinion: run this program (with its arguments, split on spaces) on each tool
    /// that is not clean, JSON in on stdin, a JSON verdict out on stdout (README: Vetting)
    #[arg(long, value_name = "CMD")]
    judge: Option<String>,
    /// How long the judge may take per tool
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    judge_timeout: String,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Start the stdio MCP server given after `--` in the sandbox (with the policy flags above)
    /// and vet the tools it lists
    #[arg(long)]
    server: bool,
    /// The server's command line (with --server): a program (looked up in PATH) and its arguments
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// One document's tools and what is known about their capabilities.
struct Source {
    name: String,
    tools: Vec<Value>,
    capabilities: Vec<Option<Capabilities>>,
}

fn bad(msg: String) -> i32 {
    eprintln!("mcp-sandbox: vet: {msg}");
    125
}

pub fn command(a: VetArgs) -> i32 {
    if a.server == a.command.is_empty() {
        return bad(
            "--server needs the server's command after `--`, e.g. `mcp-sandbox vet --server -- python3 server.py`"
                .into(),
        );
    }
    if a.inputs.is_empty() && !a.server {
        return bad("nothing to vet; give a JSON file, a manifest directory, `-` for stdin, or `--server -- CMD` to list a server's tools".into());
    }
    let judge_timeout = match humantime::parse_duration(&a.judge_timeout) {
        Ok(d) => d,
        Err(e) => return bad(format!("--judge-timeout `{}`: {e}; e.g. --judge-timeout 30s", a.judge_timeout)),
    };
    let mut sources = Vec::new();
    for input in &a.inputs {
        match read_input(input) {
            Ok(s) => sources.push(s),
            Err(e) => return bad(e),
        }
    }
    if a.server {
        match list_server(&a) {
            Ok(s) => sources.push(s),
            Err(code) => return code,
        }
    }
    let mut reports: Vec<(String, Report, Option<Value>)> = Vec::new();
    for s in &sources {
        for (i, tool) in s.tools.iter().enumerate() {
            let siblings: Vec<Value> =
                s.tools.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, t)| t.clone()).collect();
            let caps = s.capabilities.get(i).and_then(Option::as_ref);
            let report = vet::vet_tool(tool, &Context { siblings: &siblings, capabilities: caps });
            let judged = match (&a.judge, report.verdict) {
                (Some(cmd), v) if v != Verdict::Clean => Some(judge(cmd, tool, &report, judge_timeout)),
                _ => None,
            };
            reports.push((s.name.clone(), report, judged));
        }
    }
    let threshold = a.fail_on.severity();
    print(&reports, a.format);
    let failed = reports.iter().any(|(_, r, _)| r.max_severity().is_some_and(|s| s >= threshold));
    i32::from(failed)
}

fn read_input(path: &Path) -> Result<Source, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("read stdin: {e}"))?;
        return json_source("-", &text);
    }
    if path.is_dir() {
        return manifest_source(path);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}; give a JSON file or a manifest directory", path.display()))?;
    json_source(&path.display().to_string(), &text)
}

fn json_source(name: &str, text: &str) -> Result<Source, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{name}:{}:{}: not JSON ({e}); give a tools/list result, an array of tools, or one tool",
            e.line(),
            e.column()
        )
    })?;
    let tools = vet::tools_in(&doc).ok_or_else(|| {
        format!(
            "{name}: no tool definitions found; expected {{\"tools\": [...]}}, a JSON-RPC response with result.tools, an array of tools, or one tool with a \"name\""
        )
    })?;
    let capabilities = vec![None; tools.len()];
    Ok(Source { name: name.to_string(), tools, capabilities })
}

fn manifest_source(dir: &Path) -> Result<Source, String> {
    let paths = manifest_paths(dir).map_err(|e| e.to_string())?;
    if paths.is_empty() {
        return Err(format!("{}: no tool manifests (*.toml or */tool.toml) found", dir.display()));
    }
    let (mut tools, mut capabilities) = (Vec::new(), Vec::new());
    for p in paths {
        let spec = ToolSpec::load(&p).map_err(|e| e.to_string())?;
        let def = serde_json::to_value(crate::mcp::server::definition(&spec)).map_err(|e| e.to_string())?;
        tools.push(def);
        capabilities.push(Some(crate::mcp::guard::capabilities(&spec.policy.build())));
    }
    Ok(Source { name: dir.display().to_string(), tools, capabilities })
}

fn list_server(a: &VetArgs) -> Result<Source, i32> {
    let fail = |e: crate::Error| {
        eprintln!("mcp-sandbox: vet: {e}");
        e.exit_code()
    };
    let policy = a.policy.builder().map_err(fail)?.build();
    let rt = runtime().map_err(fail)?;
    let sandbox =
        sandbox_builder(a.policy.audit.as_ref(), a.policy.resolver.as_ref()).and_then(|b| b.build()).map_err(fail)?;
    let program = super::mcp::which(&a.command[0]);
    let tool = sandbox.load(&program).map_err(fail)?;
    let tools = rt
        .block_on(crate::mcp::list::list_tools(
            &sandbox,
            &tool,
            &policy,
            a.command[1..].to_vec(),
            a.policy.allow_degraded,
        ))
        .map_err(fail)?;
    // The server's policy covers all its tools.
    let caps = Capabilities { shared: true, ..crate::mcp::guard::capabilities(&policy) };
    Ok(Source { name: format!("server:{}", a.command.join(" ")), capabilities: vec![Some(caps); tools.len()], tools })
}

/// Runs the judge on one tool: `{"tool", "verdict", "findings"}` in, `{"verdict", "reason"}`
/// out. Whatever it says is recorded beside our verdict; a failure is recorded too.
fn judge(cmd: &str, tool: &Value, report: &Report, timeout: Duration) -> Value {
    let mut words = cmd.split_whitespace();
    let Some(program) = words.next() else { return json!({"error": "empty --judge command"}) };
    let input = json!({"tool": tool, "verdict": report.verdict, "findings": report.findings});
    let child = std::process::Command::new(program)
        .args(words)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return json!({"error": format!("cannot start the judge `{program}`: {e}")}),
    };
    // Written from a thread: a judge that does not read its input must not hang us.
    if let Some(mut stdin) = child.stdin.take() {
        let text = input.to_string();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return json!({"error": format!("the judge took longer than {}s", timeout.as_secs())});
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    match serde_json::from_str::<Value>(out.trim()) {
        Ok(v)
            if v.get("verdict")
                .and_then(Value::as_str)
                .is_some_and(|s| ["clean", "suspicious", "poisoned"].contains(&s)) =>
        {
            v
        }
        _ => json!({"error": "the judge did not print {\"verdict\": \"clean|suspicious|poisoned\", …}"}),
    }
}

/// Writes the reports to stdout (a closed stdout, as in `| head`, is not an error).
fn print(reports: &[(String, Report, Option<Value>)], format: Format) {
    use std::io::Write;
    let text = render(reports, format);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn render(reports: &[(String, Report, Option<Value>)], format: Format) -> String {
    use std::fmt::Write;
    match format {
        Format::Json => {
            let tools: Vec<Value> = reports
                .iter()
                .map(|(input, r, j)| {
                    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                    v["input"] = json!(input);
                    if let Some(j) = j {
                        v["judge"] = j.clone();
                    }
                    v
                })
                .collect();
            format!("{}\n", json!({ "tools": tools, "summary": summary(reports) }))
        }
        Format::Sarif => {
            let plain: Vec<(String, Report)> = reports.iter().map(|(i, r, _)| (i.clone(), r.clone())).collect();
            serde_json::to_string_pretty(&vet::sarif::log(&plain)).unwrap_or_default() + "\n"
        }
        Format::Human => {
            let mut s = String::new();
            for (input, r, j) in reports {
                let _ = writeln!(s, "{} ({input}): {}", r.tool, r.verdict.as_str().to_uppercase());
                for f in &r.findings {
                    let _ =
                        writeln!(s, "  {:<6} {} {}  {}", f.severity.as_str(), f.rule, f.category.as_str(), f.location);
                    let _ = writeln!(s, "         {}", f.explanation);
                    let _ = writeln!(s, "         evidence: {}", f.evidence);
                }
                if let Some(j) = j {
                    let _ = writeln!(s, "  judge: {j}");
                }
            }
            let sum = summary(reports);
            let _ = writeln!(
                s,
                "{} tools: {} poisoned, {} suspicious, {} clean",
                sum["tools"], sum["poisoned"], sum["suspicious"], sum["clean"]
            );
            s
        }
    }
}

fn summary(reports: &[(String, Report, Option<Value>)]) -> Value {
    let count = |v: Verdict| reports.iter().filter(|(_, r, _)| r.verdict == v).count();
    json!({
        "tools": reports.len(),
        "poisoned": count(Verdict::Poisoned),
        "suspicious": count(Verdict::Suspicious),
        "clean": count(Verdict::Clean),
    })
}
