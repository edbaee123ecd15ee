//! OpenTelemetry traces of `serve`: one span per `tools/call`, exported over OTLP
//! (HTTP/protobuf) in batches.
//!
//! Spans follow the MCP and GenAI semantic conventions: name `tools/call {tool}`, kind
//! SERVER, `mcp.method.name`, `gen_ai.operation.name=execute_tool`, `gen_ai.tool.name`,
//! `jsonrpc.request.id`, `mcp.session.id` (HTTP), `network.transport`, and on failure
//! `error.type` (`tool_error`, or the JSON-RPC error code) with an ERROR status; plus the
//! sandbox's own `mcp_sandbox.grant.id` and `mcp_sandbox.outcome`, and one
//! `mcp_sandbox.denial` event per refusal the call met. The parent is the W3C trace context
//! the client put in the request's `params._meta` (`traceparent`, `tracestate`), so the span
//! joins the client's trace.
//!
//! Off (no exporter, no thread, one branch per call) unless `--otlp` or one of the standard
//! `OTEL_EXPORTER_OTLP_*ENDPOINT` variables is given.

mod export;

pub use export::MAX_RESPONSE_BYTES;

use crate::audit::Refused;
use crate::error::{Error, Result};
use crate::invoke::Status as RunStatus;
use crate::mcp::{CallEnd, CallError, CallReport};
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, Span};
use rmcp::service::{RequestContext, RoleServer};
use std::sync::Arc;
use std::time::Duration;

/// How long one export may take (connect, send, answer) unless
/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`/`OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds) say otherwise.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The service name spans carry unless `OTEL_SERVICE_NAME` (or `service.name` in
/// `OTEL_RESOURCE_ATTRIBUTES`) names another.
pub const SERVICE_NAME: &str = "mcp-sandbox";

/// The path the OTLP/HTTP trace endpoint has under a collector's base URL.
const TRACES_PATH: &str = "/v1/traces";

/// The trace exporter of a server, or nothing. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Telemetry(Option<Arc<Exporting>>);

#[derive(Debug)]
struct Exporting {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    endpoint: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn invalid(origin: &str, what: &'static str, value: &str, reason: &str, hint: &str) -> Error {
    Error::InvalidValue { origin: origin.into(), what, value: value.into(), reason: reason.into(), hint: hint.into() }
}

/// Where spans go: `--otlp` (a collector's base URL, like `OTEL_EXPORTER_OTLP_ENDPOINT`), else
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT`; none:
/// traces are off. `/v1/traces` is appended to a base URL that does not already end with it.
pub fn endpoint(otlp: Option<&str>) -> Result<Option<String>> {
    let (origin, url, base) =
        match (otlp, var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), var("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(u), _, _) => ("--otlp", u.trim().to_string(), true),
            (None, Some(u), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", u, false),
            (None, None, Some(u)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", u, true),
            (None, None, None) => return Ok(None),
        };
    if otlp.is_none() && var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let hint = "give the collector's OTLP/HTTP address, e.g. http://127.0.0.1:4318";
    let uri: http::Uri =
        url.parse().map_err(|e: http::uri::InvalidUri| invalid(origin, "endpoint", &url, &e.to_string(), hint))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(invalid(origin, "endpoint", &url, "is not an http:// or https:// URL with a host", hint));
    }
    if uri.query().is_some() {
        return Err(invalid(origin, "endpoint", &url, "has a query string", hint));
    }
    let trimmed = url.trim_end_matches('/');
    if base && !trimmed.ends_with(TRACES_PATH) {
        return Ok(Some(format!("{trimmed}{TRACES_PATH}")));
    }
    Ok(Some(url))
}

/// Refuses a protocol other than OTLP over HTTP/protobuf, the one exporter built in.
fn check_protocol() -> Result<()> {
    for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
        if let Some(p) = var(name) {
            if p != "http/protobuf" {
                return Err(invalid(
                    name,
                    "protocol",
                    &p,
                    "mcp-sandbox exports OTLP over http/protobuf only",
                    "unset it or set it to http/protobuf, and point the endpoint at the collector's OTLP/HTTP port (4318 by default)",
                ));
            }
            return Ok(());
        }
    }
    Ok(())
}

fn export_timeout() -> Duration {
    ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]
        .iter()
        .find_map(|n| var(n)?.parse::<u64>().ok())
        .map_or(DEFAULT_EXPORT_TIMEOUT, Duration::from_millis)
}

impl Telemetry {
    /// No traces.
    pub fn off() -> Self {
        Telemetry(None)
    }

    /// Traces to `--otlp` or the standard variables (see [`endpoint`]); off when neither is
    /// given. Must be called inside the tokio runtime the exports are to run on.
    pub fn start(otlp: Option<&str>) -> Result<Self> {
        let Some(endpoint) = endpoint(otlp)? else { return Ok(Telemetry::off()) };
        check_protocol()?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::Serve(format!("traces need the async runtime: {e}")))?;
        let timeout = export_timeout();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_http_client(export::Client { runtime, timeout, failing: Default::default() })
            .with_endpoint(endpoint.clone())
            .with_timeout(timeout)
            .build()
            .map_err(|e| Error::Serve(format!("cannot export traces to {endpoint}: {e}")))?;
        let named = var("OTEL_SERVICE_NAME").is_some()
            || var("OTEL_RESOURCE_ATTRIBUTES")
                .is_some_and(|a| a.split(',').any(|kv| kv.trim().starts_with("service.name=")));
        let mut resource = opentelemetry_sdk::Resource::builder()
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        if !named {
            resource = resource.with_service_name(SERVICE_NAME);
        }
        let provider =
            SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
        let tracer = provider.tracer("mcp-sandbox");
        Ok(Telemetry(Some(Arc::new(Exporting { provider, tracer, endpoint }))))
    }

    /// Where spans go, when traces are on.
    pub fn endpoint(&self) -> Option<&str> {
        self.0.as_deref().map(|e| e.endpoint.as_str())
    }

    /// Starts the span of a `tools/call` of `tool`, child of the trace context in the
    /// request's `_meta`.
    pub fn start_call(&self, tool: &str, context: &RequestContext<RoleServer>) -> CallSpan {
        let Some(e) = &self.0 else { return CallSpan(None) };
        let parent = parent_context(context.meta.get_traceparent(), context.meta.get_tracestate());
        let http = context.extensions.get::<http::request::Parts>();
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", "tools/call"),
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", tool.to_string()),
            KeyValue::new("jsonrpc.request.id", context.id.to_string()),
            KeyValue::new("network.transport", if http.is_some() { "tcp" } else { "pipe" }),
        ];
        if let Some(parts) = http {
            attributes.push(KeyValue::new("network.protocol.name", "http"));
            if let Some(id) = parts.headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) {
                attributes.push(KeyValue::new("mcp.session.id", id.to_string()));
            }
        }
        let span = e
            .tracer
            .span_builder(format!("tools/call {tool}"))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&e.tracer, &parent);
        CallSpan(Some((span, tool.to_string())))
    }

    /// Exports what is queued and stops the exporter (waits at most the export timeout).
    pub async fn shutdown(&self) {
        let Some(e) = self.0.clone() else { return };
        // The exporter's thread sends through this runtime: wait for it off the workers.
        let done = tokio::task::spawn_blocking(move || e.provider.shutdown()).await;
        if let Ok(Err(err)) = done {
            eprintln!("mcp-sandbox: traces: {err}");
        }
    }
}

/// The remote parent a client propagated (W3C Trace Context), or none.
fn parent_context(traceparent: Option<&str>, tracestate: Option<&str>) -> Context {
    use opentelemetry::propagation::TextMapPropagator;
    let Some(tp) = traceparent else { return Context::new() };
    let mut carrier = std::collections::HashMap::new();
    carrier.insert("traceparent".to_string(), tp.to_string());
    if let Some(ts) = tracestate {
        carrier.insert("tracestate".to_string(), ts.to_string());
    }
    opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier)
}

/// The span of one call; ended by [`CallSpan::end`] (or when dropped, without an outcome).
#[derive(Debug)]
pub struct CallSpan(Option<(Span, String)>);

/// A serde name (`net.connect`, `deny`), as the audit log writes it.
fn serde_name(v: impl serde::Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl CallSpan {
    /// Records how the call ended (grant, outcome, denials as events, error) and ends the span.
    pub fn end(self, result: &std::result::Result<CallReport, CallError>) {
        let Some((mut span, tool)) = self.0 else { return };
        match result {
            Ok(report) => {
                span.set_attribute(KeyValue::new("mcp_sandbox.grant.id", report.invocation.clone()));
                span.set_attribute(KeyValue::new("mcp_sandbox.outcome", report.outcome()));
                if let CallEnd::Ran(RunStatus::Exited(code)) = report.end {
                    span.set_attribute(KeyValue::new("mcp_sandbox.exit_code", i64::from(code)));
                }
                match &report.end {
                    CallEnd::Refused(r) => {
                        let target = format!("{tool}({}={:?})", r.argument, r.value);
                        denial(&mut span, "deny", "mcp.tool", target, r.reason.clone());
                    }
                    CallEnd::Guarded(why) => denial(&mut span, "deny", "mcp.tool", tool.clone(), why.clone()),
                    _ => {}
                }
                for r in &report.refused {
                    refused(&mut span, r);
                }
                if report.is_error() {
                    span.set_attribute(KeyValue::new("error.type", "tool_error"));
                    let text = report.text();
                    span.set_status(Status::error(text.lines().next().unwrap_or_default().to_string()));
                }
            }
            Err(e) => {
                let code = match e {
                    CallError::UnknownTool(_) | CallError::InvalidArguments { .. } => "-32602",
                    CallError::Busy { .. } | CallError::ShuttingDown => "-32603",
                };
                span.set_attribute(KeyValue::new("error.type", code));
                span.set_attribute(KeyValue::new("rpc.response.status_code", code));
                span.set_status(Status::error(e.to_string()));
            }
        }
        span.end();
    }
}

fn refused(span: &mut Span, r: &Refused) {
    let capability = r.capability.map(serde_name).unwrap_or_default();
    denial(span, &serde_name(r.event), &capability, r.target.clone(), r.reason.clone());
}

/// One `mcp_sandbox.denial` event: what kind (`deny`, `limit`, `degraded`), the capability
/// (as the audit log names it), the target and the reason.
fn denial(span: &mut Span, kind: &str, capability: &str, target: String, reason: String) {
    span.add_event(
        "mcp_sandbox.denial",
        vec![
            KeyValue::new("mcp_sandbox.denial.kind", kind.to_string()),
            KeyValue::new("mcp_sandbox.denial.capability", capability.to_string()),
            KeyValue::new("mcp_sandbox.denial.target", target),
            KeyValue::new("mcp_sandbox.denial.reason", reason),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_traces_path_and_a_full_one_is_kept() {
        assert_eq!(endpoint(Some("http://127.0.0.1:4318")).unwrap().unwrap(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(endpoint(Some("http://127.0.0.1:4318/")).unwrap().unwrap(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(endpoint(Some("http://c:4318/v1/traces")).unwrap().unwrap(), "http://c:4318/v1/traces");
        for bad in ["127.0.0.1:4318", "ftp://c/", "http://c:4318/?x=1", "not a url"] {
            let e = endpoint(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("--otlp") && e.contains("e.g. http://127.0.0.1:4318"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_client_trace_context_becomes_the_remote_parent() {
        use opentelemetry::trace::TraceContextExt;
        let cx = parent_context(Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Some("a=b"));
        let sc = cx.span().span_context().clone();
        assert!(sc.is_remote());
        assert_eq!(sc.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(!parent_context(Some("garbage"), None).span().span_context().is_valid());
        assert!(!parent_context(None, None).span().span_context().is_valid());
    }
}
