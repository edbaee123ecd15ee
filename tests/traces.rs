//! OpenTelemetry traces of `serve`, received by a real OTLP/HTTP receiver that decodes with the
//! official OpenTelemetry protobuf definitions (`tests/otlp/receiver.py`, PyPI
//! `opentelemetry-proto`), from calls made by the official MCP Python SDK carrying W3C trace
//! context in `params._meta` (`tests/mcp/trace_client.py`). `./dev test` installs both.
//!
//! Over stdio with `--otlp`: one span per `tools/call`, child of the client's span, with the
//! MCP/GenAI attributes, the grant id the audit log names, and a denial event for each call that
//! met one (and none for the call that met none). Over HTTP with the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`/`OTEL_SERVICE_NAME` variables: the same, with the session id;
//! and the same server with neither flag nor variables exports nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{python, root, s, tool};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

/// The receiver: a Python child listening on loopback, appending spans to `out`.
struct Receiver {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let py = root().join("target/otlp-venv/bin/python");
        assert!(py.exists(), "{} missing: run ./dev test (it installs opentelemetry-proto there)", py.display());
        let out = dir.join("spans.jsonl");
        let mut child = Command::new(py)
            .arg(root().join("tests/otlp/receiver.py"))
            .arg(&out)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("receiver said {line:?}"));
        Receiver { child, port: port.parse().unwrap(), out }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What was received so far: one value per span (or rejected request).
    fn received(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Waits until `n` records arrived (the exporter sends within its batch delay, and on
    /// shutdown).
    fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tools directory: echo-json, read-file (bound to sample-tools/data), and exfil (tries to
/// connect where it declared nothing).
fn tools(dir: &Path) -> PathBuf {
    tool("echo-json");
    let wasm = |n: &str| s(&root().join(format!("sample-tools/target/wasm32-wasip2/release/{n}.wasm"))).to_string();
    let data = s(&root().join("sample-tools/data")).to_string();
    let t = dir.join("tools");
    std::fs::create_dir_all(&t).unwrap();
    let write = |name: &str, text: String| std::fs::write(t.join(format!("{name}.toml")), text).unwrap();
    write(
        "echo-json",
        format!(
            "name = \"echo-json\"\ndescription = \"Echoes.\"\nwasm = \"{}\"\n[input_schema]\ntype = \"object\"\n",
            wasm("echo-json")
        ),
    );
    write(
        "read-file",
        format!(
            "name = \"read-file\"\ndescription = \"Reads a file.\"\nwasm = \"{}\"\nargs = [\"{{path}}\"]\n\
             stdin = \"none\"\n[input_schema]\ntype = \"object\"\nrequired = [\"path\"]\n\
             properties = {{ path = {{ type = \"string\" }} }}\n\
             [[bind]]\nargument = \"path\"\naccess = \"read\"\nwithin = [\"{data}\"]\n",
            wasm("read-file")
        ),
    );
    write(
        "exfil",
        format!(
            "name = \"exfil\"\ndescription = \"Sends a file.\"\nwasm = \"{}\"\n\
             args = [\"--tcp\", \"127.0.0.1:9\", \"{data}/hello.txt\"]\nstdin = \"none\"\n\
             [input_schema]\ntype = \"object\"\n[policy.filesystem]\nread = [\"{data}\"]\n",
            wasm("exfil-file")
        ),
    );
    t
}

fn trace_client(args: &[&str]) -> Value {
    let out = Command::new(python()).arg(root().join("tests/mcp/trace_client.py")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed: {stdout}\n{stderr}");
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// The span of the client's call `n` (its trace id is `n`).
fn span_of(spans: &[Value], n: u32) -> &Value {
    let trace = format!("{n:032x}");
    let of: Vec<&Value> = spans.iter().filter(|s| s["trace_id"] == trace.as_str()).collect();
    assert_eq!(of.len(), 1, "one span in trace {trace}: {spans:#?}");
    of[0]
}

fn denials(span: &Value) -> Vec<&Value> {
    span["events"].as_array().unwrap().iter().filter(|e| e["name"] == "mcp_sandbox.denial").collect()
}

/// The grant ids the audit log issued, in order.
fn grants(audit: &Path) -> Vec<String> {
    std::fs::read_to_string(audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "grant.issued")
        .map(|e| e["invocation"].as_str().unwrap().to_string())
        .collect()
}

/// What every span of the four calls carries, and what sets each apart.
fn check_calls(spans: &[Value], transport: &str) {
    assert!(spans.iter().all(|s| s.get("rejected").is_none()), "{spans:#?}");
    for n in 1..=4u32 {
        let span = span_of(spans, n);
        let a = &span["attributes"];
        // Joined to the client's trace, as a child of the client's span, its state kept.
        assert_eq!(span["parent_span_id"], format!("{:016x}", 0xa0 + n), "{span:#}");
        assert_eq!(span["trace_state"], format!("client=call{n}"), "{span:#}");
        assert_eq!(span["kind"], 2, "SPAN_KIND_SERVER: {span:#}");
        assert_eq!(a["mcp.method.name"], "tools/call");
        assert_eq!(a["gen_ai.operation.name"], "execute_tool");
        assert_eq!(span["name"], format!("tools/call {}", a["gen_ai.tool.name"].as_str().unwrap()));
        assert!(!a["jsonrpc.request.id"].as_str().unwrap().is_empty(), "{span:#}");
        assert_eq!(a["network.transport"], transport);
        assert!(span["end"].as_u64() >= span["start"].as_u64());
    }
    let ids: std::collections::BTreeSet<&str> =
        (1..=4).map(|n| span_of(spans, n)["attributes"]["jsonrpc.request.id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "one request id per call");

    // echo-json: ran, no denial, no error (the control for the events below).
    let ok = span_of(spans, 1);
    assert_eq!(ok["attributes"]["gen_ai.tool.name"], "echo-json");
    assert_eq!(ok["attributes"]["mcp_sandbox.outcome"], "ok");
    assert!(ok["attributes"].get("error.type").is_none(), "{ok:#}");
    assert_eq!(ok["status"]["code"], 0, "unset: {ok:#}");
    assert!(denials(ok).is_empty(), "{ok:#}");

    // exfil: its connection was denied as it ran.
    let exfil = span_of(spans, 2);
    assert_eq!(exfil["attributes"]["error.type"], "tool_error");
    assert_eq!(exfil["status"]["code"], 2, "ERROR: {exfil:#}");
    assert_eq!(exfil["attributes"]["mcp_sandbox.outcome"], "tool_error");
    let d = denials(exfil);
    assert!(
        d.iter().any(|e| e["attributes"]["mcp_sandbox.denial.capability"] == "net.connect"
            && e["attributes"]["mcp_sandbox.denial.kind"] == "deny"
            && e["attributes"]["mcp_sandbox.denial.target"].as_str().unwrap().contains("127.0.0.1:9")
            && !e["attributes"]["mcp_sandbox.denial.reason"].as_str().unwrap().is_empty()),
        "{exfil:#}"
    );

    // read-file /etc/passwd: refused before it ran, by its argument binding.
    let refused = span_of(spans, 3);
    assert_eq!(refused["attributes"]["mcp_sandbox.outcome"], "refused");
    assert_eq!(refused["attributes"]["error.type"], "tool_error");
    let d = denials(refused);
    assert_eq!(d.len(), 1, "{refused:#}");
    assert_eq!(d[0]["attributes"]["mcp_sandbox.denial.capability"], "mcp.tool");
    assert!(d[0]["attributes"]["mcp_sandbox.denial.target"].as_str().unwrap().contains("/etc/passwd"));

    // read-file 42: a JSON-RPC error, no grant.
    let invalid = span_of(spans, 4);
    assert_eq!(invalid["attributes"]["error.type"], "-32602");
    assert_eq!(invalid["attributes"]["rpc.response.status_code"], "-32602");
    assert!(invalid["attributes"].get("mcp_sandbox.grant.id").is_none());
    assert_eq!(invalid["status"]["code"], 2);
    assert!(invalid["status"]["message"].as_str().unwrap().contains("/path"), "{invalid:#}");
}

#[test]
fn each_call_is_a_span_in_the_clients_trace_with_its_grant_and_denials() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let tools = tools(dir.path());
    let audit = dir.path().join("audit.jsonl");
    let v = trace_client(&["stdio", BIN, s(&tools), "--otlp", &receiver.url(), "--audit", s(&audit)]);
    assert_eq!(v["echo"]["is_error"], false, "{v}");
    assert_eq!(v["exfil"]["is_error"], true, "{v}");
    assert!(v["exfil"]["text"].as_str().unwrap().contains("denied: connect tcp://127.0.0.1:9"), "{v}");
    let spans = receiver.wait_for(4);
    check_calls(&spans, "pipe");
    assert_eq!(spans.len(), 4, "{spans:#?}");
    assert_eq!(spans[0]["resource"]["service.name"], "mcp-sandbox");
    // The grant ids are the audit log's.
    let issued = grants(&audit);
    for n in [1, 2] {
        let id = span_of(&spans, n)["attributes"]["mcp_sandbox.grant.id"].as_str().unwrap().to_string();
        assert!(issued.contains(&id), "{id} not in {issued:?}");
    }
    assert!(span_of(&spans, 3)["attributes"]["mcp_sandbox.grant.id"].as_str().is_some());
}

/// `serve --listen 127.0.0.1:0` with `env`; returns the child and its MCP URL.
fn serve_http(tools: &Path, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--tools", s(tools), "--listen", "127.0.0.1:0"])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = line.strip_prefix("mcp-sandbox: serving MCP at ") {
            break rest.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// Stops `serve` as an operator would (SIGINT) and waits for it to exit: what it exports on the
/// way out has been answered by then.
fn stop(mut child: Child) {
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve ended with {status}");
}

#[test]
fn the_standard_variables_turn_traces_on_and_without_them_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let tools = tools(dir.path());

    // Neither --otlp nor a variable: the same calls, and nothing reaches the receiver.
    let (child, url) = serve_http(&tools, &[]);
    let v = trace_client(&["http", &url]);
    assert_eq!(v["exfil"]["is_error"], true, "{v}");
    stop(child);
    assert!(receiver.received().is_empty(), "{:#?}", receiver.received());

    // The control: the standard variables, and the spans arrive, with the session id.
    let endpoint = receiver.url();
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_SERVICE_NAME", "gateway-7")];
    let (child, url) = serve_http(&tools, &env);
    trace_client(&["http", &url]);
    stop(child);
    let spans = receiver.received();
    check_calls(&spans, "tcp");
    assert_eq!(spans.len(), 4, "{spans:#?}");
    assert_eq!(spans[0]["resource"]["service.name"], "gateway-7");
    let sessions: std::collections::BTreeSet<&str> =
        spans.iter().map(|s| s["attributes"]["mcp.session.id"].as_str().unwrap()).collect();
    assert_eq!(sessions.len(), 1, "one session: {spans:#?}");
    assert!(!sessions.iter().next().unwrap().is_empty());
}

#[test]
fn an_unsupported_protocol_or_endpoint_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let tools = tools(dir.path());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(["serve", "--tools", s(&tools)])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125), "{out:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run(&["--otlp", "http://127.0.0.1:4317"], &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    assert!(e.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && e.contains("set it to http/protobuf"), "{e}");
    let e = run(&["--otlp", "127.0.0.1:4318"], &[]);
    assert!(e.contains("--otlp") && e.contains("e.g. http://127.0.0.1:4318"), "{e}");
}
