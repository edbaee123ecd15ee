//! `mcp-sandbox serve`: the tools of a [`ToolSet`] as an MCP server (rmcp), over stdio or
//! streamable HTTP.
//!
//! Errors the client made (unknown tool, arguments that fail the schema, a full queue) are
//! JSON-RPC errors; everything the sandbox decided (a refused argument, a denial, a limit,
//! a failing tool) is a tool result with `isError: true`, so the model can read it.
//! `notifications/cancelled` and the client going away revoke the call's grant, which stops
//! the tool.

use super::lines::{Line, Lines};
use super::{CallError, CallReport, ToolSet, wire};
use crate::error::{Error, Result};
use crate::ops::Ops;
use crate::ops::endpoints::Endpoint;
use rmcp::ErrorData;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

/// The MCP face of a [`ToolSet`].
#[derive(Debug, Clone)]
pub struct McpServer {
    tools: Arc<ToolSet>,
    /// Cancelled when the client goes away: every running call is revoked.
    gone: CancellationToken,
    listing: Arc<Vec<Tool>>,
    /// Metrics, probes and the drain (`serve --listen`).
    ops: Arc<Ops>,
    /// A span per `tools/call` when traces are on.
    telemetry: crate::telemetry::Telemetry,
}

/// The MCP tool definition of a spec: annotations are what the sandbox guarantees.
pub(crate) fn definition(spec: &super::ToolSpec) -> Tool {
    let d = spec.derived;
    let annotations = ToolAnnotations::from_raw(
        spec.title.clone(),
        Some(d.read_only),
        (!d.read_only).then_some(d.destructive),
        spec.idempotent,
        Some(d.open_world),
    );
    let mut tool =
        Tool::new_with_raw(spec.name.clone(), spec.description.clone().map(Into::into), spec.input_schema.clone())
            .with_annotations(annotations);
    if let Some(t) = &spec.title {
        tool = tool.with_title(t.clone());
    }
    if let Some(o) = &spec.output_schema {
        tool = tool.with_raw_output_schema(o.clone());
    }
    tool
}

impl McpServer {
    pub fn new(tools: Arc<ToolSet>) -> Self {
        let listing = Arc::new(tools.specs().map(definition).collect());
        McpServer { tools, gone: CancellationToken::new(), listing, ops: Arc::default(), telemetry: Default::default() }
    }

    /// Counts calls into `ops` (its metrics) and serves its endpoints over HTTP.
    pub fn with_ops(mut self, ops: Arc<Ops>) -> Self {
        self.ops = ops;
        self
    }

    /// Exports a span per `tools/call` (see [`crate::telemetry`]).
    pub fn with_telemetry(mut self, telemetry: crate::telemetry::Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    fn result(report: CallReport) -> CallToolResult {
        let text = report.text();
        let mut r = if report.is_error() {
            CallToolResult::error(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::success(vec![ContentBlock::text(text)])
        };
        r.structured_content = report.structured;
        r
    }

    /// Serves one client over stdin/stdout until it disconnects.
    pub async fn serve_stdio(self) -> Result<()> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves one client over a byte-stream pair carrying newline-delimited JSON-RPC.
    ///
    /// A line that is not JSON (nor UTF-8, nor within serde_json's nesting limit, or that
    /// holds a lone surrogate escape) gets a JSON-RPC parse error (-32700) and the session goes
    /// on (rmcp alone would drop it silently, and end the session on invalid UTF-8). End of input is the client going away: every
    /// running call is revoked at once (rmcp alone would let handlers run on for seconds).
    pub async fn serve_io(
        self,
        input: impl AsyncRead + Unpin + Send + 'static,
        output: impl AsyncWrite + Unpin + Send + 'static,
    ) -> Result<()> {
        use rmcp::ServiceExt;
        let gone = self.gone.clone();
        let (mut to_rmcp, rmcp_in) = tokio::io::duplex(1 << 16);
        let (rmcp_out, from_rmcp) = tokio::io::duplex(1 << 16);
        let (errors, mut error_lines) = tokio::sync::mpsc::channel::<String>(16);
        let left = gone.clone();
        let reader = tokio::spawn(async move {
            let mut lines = Lines::new(input);
            while let Ok(Some(line)) = lines.next().await {
                let refusal = match line {
                    Line::Text(l) if l.trim().is_empty() => continue,
                    // The strict parse (nesting, lone surrogates): what rmcp would drop
                    // silently gets its parse error here.
                    Line::Text(l) => match wire::check(&l) {
                        Ok(_) => {
                            if to_rmcp.write_all(format!("{l}\n").as_bytes()).await.is_err() {
                                break;
                            }
                            continue;
                        }
                        Err(why) => wire::parse_error(&why),
                    },
                    Line::TooLong(len) => Line::too_long_reply(len),
                    Line::NotUtf8(_) => wire::not_utf8_error(),
                };
                if errors.send(refusal.to_string()).await.is_err() {
                    break;
                }
            }
            left.cancel();
        });
        let writer = tokio::spawn(async move {
            // One write and one flush per burst of messages: stdout writes go through tokio's
            // blocking pool, so each is a thread hand-off.
            let mut out = tokio::io::BufWriter::with_capacity(1 << 16, output);
            let mut lines = BufReader::new(from_rmcp).lines();
            loop {
                let mut line = tokio::select! {
                    l = lines.next_line() => match l {
                        Ok(Some(l)) => l,
                        _ => break,
                    },
                    Some(e) = error_lines.recv() => e,
                };
                loop {
                    line.push('\n');
                    if out.write_all(line.as_bytes()).await.is_err() {
                        return;
                    }
                    // More already waiting? (`next_line` is cancel-safe.)
                    match ready_now(lines.next_line()).await {
                        Some(Ok(Some(next))) => line = next,
                        _ => break,
                    }
                }
                if out.flush().await.is_err() {
                    return;
                }
            }
            // rmcp is done, so is the reader: errors it queued last are still answered.
            while let Ok(mut e) = error_lines.try_recv() {
                e.push('\n');
                if out.write_all(e.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = out.flush().await;
        });
        let running = self.serve((rmcp_in, rmcp_out)).await.map_err(|e| Error::Serve(e.to_string()))?;
        let _ = running.waiting().await;
        gone.cancel();
        reader.abort();
        let _ = writer.await;
        Ok(())
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-sandbox", env!("CARGO_PKG_VERSION")))
            .with_instructions("Each tool runs in a sandbox under a grant issued for that call alone.")
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        // A quarantined tool is withheld until approved.
        let tools = self.listing.iter().filter(|t| self.tools.withheld(&t.name).is_none()).cloned().collect();
        Ok(ListToolsResult { tools, ..Default::default() })
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.listing.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let cancel = context.ct.child_token();
        let gone = self.gone.clone();
        let linked = cancel.clone();
        // Either the request's own cancellation or the client leaving.
        let watcher = tokio::spawn(async move {
            tokio::select! {
                () = gone.cancelled() => linked.cancel(),
                () = linked.cancelled() => {}
            }
        });
        let known = self.tools.spec(&request.name).is_some();
        let timer = self.ops.call(if known { &request.name } else { crate::ops::metrics::UNKNOWN_TOOL });
        let span = self.telemetry.start_call(&request.name, &context);
        let args = request.arguments.unwrap_or_default();
        let result = self.tools.call(&request.name, args, cancel.clone()).await;
        timer.finish(crate::ops::metrics::outcome(&result));
        cancel.cancel();
        watcher.abort();
        span.end(&result);
        match result {
            Ok(report) => Ok(Self::result(report).into()),
            Err(e @ CallError::UnknownTool(_)) => Err(ErrorData::invalid_params(e.to_string(), None)),
            Err(e @ CallError::InvalidArguments { .. }) => {
                let field = match &e {
                    CallError::InvalidArguments { field, .. } => field.clone(),
                    _ => String::new(),
                };
                Err(ErrorData::invalid_params(e.to_string(), Some(serde_json::json!({ "field": field }))))
            }
            Err(e @ (CallError::Busy { .. } | CallError::ShuttingDown)) => {
                Err(ErrorData::internal_error(e.to_string(), None))
            }
        }
    }
}

/// Polls `f` once: its output if it is ready now, `None` (and `f` dropped) otherwise.
async fn ready_now<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// Streamable HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// `Host` values accepted (besides loopback names): DNS-rebinding protection.
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted; a request with any other `Origin` is refused (403).
    pub allowed_origins: Vec<String>,
    /// If set, every MCP request (and `/metrics`, `/status`) must carry
    /// `Authorization: Bearer <token>`; the probes `/healthz` and `/readyz` need none.
    pub token: Option<String>,
    /// On shutdown, how long calls in flight may run on before they are revoked.
    pub grace: std::time::Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            token: None,
            grace: crate::ops::DEFAULT_GRACE,
        }
    }
}

/// Serves over streamable HTTP on `listener` until `stop` is cancelled, then drains:
/// `/readyz` answers 503, MCP requests outside a session (a new session) get 503 and new
/// `tools/call`s are refused, while a session's other requests are still answered; calls in
/// flight have `options.grace` to finish and answer, then the rest are revoked (their tools
/// stopped) and get [`crate::ops::REVOKE_WAIT`] to answer.
pub async fn serve_http(
    server: McpServer,
    listener: tokio::net::TcpListener,
    options: HttpOptions,
    stop: CancellationToken,
) -> Result<()> {
    use hyper_util::service::TowerToHyperService;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    let local = listener.local_addr().map_err(|e| Error::Serve(e.to_string()))?;
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into(), "[::1]".into()];
    hosts.extend(options.allowed_hosts.iter().cloned());
    // Sessions end after the drain, not when it starts: answers in flight still go out.
    let sessions = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation()
        .with_cancellation_token(sessions.clone());
    let gone = server.gone.clone();
    let (ops, tools) = (server.ops.clone(), server.tools.clone());
    let mcp = StreamableHttpService::new(move || Ok(server.clone()), LocalSessionManager::default().into(), config);
    let front = Arc::new(Front { mcp: TowerToHyperService::new(mcp), token: options.token, ops, tools });
    eprintln!("mcp-sandbox: serving MCP at http://{local}/mcp");
    // The listener stays open through the drain: a session's client may open a new
    // connection to fetch what its call needs (the front door refuses new sessions).
    let accepting = CancellationToken::new();
    let acceptor = tokio::spawn(accept(listener, front.clone(), accepting.clone()));
    stop.cancelled().await;
    drain(&front, &gone, options.grace).await;
    accepting.cancel();
    let _ = acceptor.await;
    sessions.cancel();
    gone.cancel();
    Ok(())
}

/// Accepts connections on `listener` and serves each through `front` until `until`.
async fn accept<S, B>(listener: tokio::net::TcpListener, front: Arc<Front<S>>, until: CancellationToken)
where
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: std::error::Error + Send + Sync + 'static,
    B: hyper::body::Body<Data = bytes::Bytes, Error = std::convert::Infallible> + Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    loop {
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                // Out of descriptors (EMFILE) and the like: back off instead of spinning on
                // an accept that fails at once; the connection waits in the backlog.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = until.cancelled() => break,
        };
        // Answers are written in several pieces (headers, SSE events): without this, Nagle's
        // algorithm holds each last piece for the client's delayed ACK (~40 ms per call).
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let front = front.clone();
                async move { front.handle(req).await }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// What every HTTP request meets first.
struct Front<S> {
    mcp: S,
    token: Option<String>,
    ops: Arc<Ops>,
    tools: Arc<ToolSet>,
}

impl<S, B> Front<S>
where
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
    B: hyper::body::Body<Data = bytes::Bytes, Error = std::convert::Infallible> + Send + 'static,
{
    async fn handle(&self, req: http::Request<hyper::body::Incoming>) -> Result<http::Response<BoxedBody>, S::Error> {
        use http_body_util::BodyExt;
        let authorized = self.token.as_deref().is_none_or(|t| bearer_matches(req.headers(), t));
        if let Some(endpoint) = Endpoint::at(req.uri().path()) {
            if endpoint.needs_token() && !authorized {
                return Ok(unauthorized());
            }
            let (status, content_type, body) = endpoint.answer(&self.ops, &self.tools);
            return Ok(plain(status, content_type, body));
        }
        if !authorized {
            return Ok(unauthorized());
        }
        if req.method() != http::Method::POST {
            return self.mcp.call(req).await.map(|r| r.map(|b| b.boxed_unsync()));
        }
        // Counted before the drain check, so a drain that starts now waits for it.
        let request = self.ops.request();
        // Draining: no new session starts here; a session's own requests still reach it (a
        // client lists tools or acknowledges after a call that finishes in the grace period),
        // and the tool set refuses any new call in them.
        if self.ops.draining() && !req.headers().contains_key(SESSION_HEADER) {
            let mut r = plain(503, "text/plain; charset=utf-8", "shutting down; retry on another replica\n".into());
            r.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            return Ok(r);
        }
        let response = self.mcp.call(req).await?;
        // The request is in flight until its answer (an SSE stream for a call) is written.
        Ok(response.map(|b| {
            b.map_frame(move |f| {
                let _ = &request;
                f
            })
            .boxed_unsync()
        }))
    }
}

/// The drain after `stop`: see [`serve_http`].
async fn drain<S>(front: &Front<S>, gone: &CancellationToken, grace: std::time::Duration) {
    let ops = &front.ops;
    ops.drain();
    front.tools.drain();
    let shown = humantime::format_duration(grace);
    eprintln!(
        "mcp-sandbox: shutting down: new sessions and calls refused; {} request(s) in flight have {shown} to finish",
        ops.requests()
    );
    if tokio::time::timeout(grace, ops.quiet(crate::ops::DRAIN_QUIET)).await.is_ok() {
        return;
    }
    eprintln!("mcp-sandbox: grace period over: revoking the {} request(s) still in flight", ops.requests());
    front.tools.stopping();
    gone.cancel();
    if tokio::time::timeout(crate::ops::REVOKE_WAIT, ops.idle()).await.is_err() {
        eprintln!("mcp-sandbox: {} revoked request(s) did not answer in time; exiting", ops.requests());
    }
}

/// The streamable HTTP transport's session header.
const SESSION_HEADER: &str = "mcp-session-id";

type BoxedBody = http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, std::convert::Infallible>;

fn plain(status: u16, content_type: &'static str, body: String) -> http::Response<BoxedBody> {
    use http_body_util::BodyExt;
    let body = http_body_util::Full::new(bytes::Bytes::from(body));
    let mut r = http::Response::new(body.map_err(|e| match e {}).boxed_unsync());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    r
}

fn unauthorized() -> http::Response<BoxedBody> {
    use http_body_util::BodyExt;
    let body = http_body_util::Full::new(bytes::Bytes::from_static(b"missing or wrong bearer token\n"));
    let mut r = http::Response::new(body.map_err(|e| match e {}).boxed_unsync());
    *r.status_mut() = http::StatusCode::UNAUTHORIZED;
    r.headers_mut().insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    r
}

/// Constant-time comparison of the presented bearer token.
fn bearer_matches(headers: &http::HeaderMap, token: &str) -> bool {
    let Some(given) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(given) = given.strip_prefix("Bearer ") else { return false };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let mut h = http::HeaderMap::new();
        assert!(!bearer_matches(&h, "s3cret"));
        h.insert(http::header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(bearer_matches(&h, "s3cret"));
        assert!(!bearer_matches(&h, "s3cre"));
        h.insert(http::header::AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!bearer_matches(&h, "s3cret"));
    }
}
