//! The HTTP client the OTLP exporter sends with: hyper 1 over the tree's own connector
//! ([`crate::egress::http::connect_pinned`], rustls with ring for `https://`), driven on the
//! server's tokio runtime.
//!
//! The SDK's batch processor exports from a thread of its own, outside any runtime; each
//! request is therefore spawned onto the runtime captured at start-up and its result awaited
//! through the task's handle, which any executor can poll.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use opentelemetry_http::{HttpClient, HttpError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The largest response body read from a collector (a success answer is a few bytes; a
/// partial-success one a few hundred).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Sends OTLP requests on `runtime`, each bounded by `timeout` (connect, send and answer).
/// Says on stderr when exports start failing, and when they work again (one line each, not
/// one per batch).
#[derive(Debug, Clone)]
pub struct Client {
    pub runtime: tokio::runtime::Handle,
    pub timeout: Duration,
    pub failing: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let timeout = self.timeout;
        let task = self.runtime.spawn(async move {
            match tokio::time::timeout(timeout, send(request, timeout)).await {
                Ok(r) => r,
                Err(_) => {
                    Err(format!("no answer from the collector within {}", humantime::format_duration(timeout)).into())
                }
            }
        });
        let result = task.await?;
        let failure = match &result {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("the collector answered {}", r.status())),
            Err(e) => Some(e.to_string()),
        };
        match failure {
            Some(why) if !self.failing.swap(true, Ordering::SeqCst) => {
                eprintln!("mcp-sandbox: traces: export failed (spans are dropped until it works again): {why}");
            }
            None if self.failing.swap(false, Ordering::SeqCst) => eprintln!("mcp-sandbox: traces: export works again"),
            _ => {}
        }
        result
    }
}

async fn send(request: Request<Bytes>, timeout: Duration) -> Result<Response<Bytes>, HttpError> {
    let uri = request.uri().clone();
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        other => return Err(format!("unsupported scheme {other:?} in {uri}").into()),
    };
    let host = uri.host().ok_or_else(|| format!("no host in {uri}"))?.to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let lookup = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let addrs: Vec<_> = tokio::net::lookup_host((lookup.as_str(), port)).await?.collect();
    let stream = crate::egress::http::connect_pinned(&addrs, &host, tls, timeout).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    let authority = uri.authority().map(|a| a.as_str().to_string()).unwrap_or(host);
    parts.headers.insert(http::header::HOST, http::HeaderValue::from_str(&authority)?);
    parts.uri = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
    let response = sender.send_request(Request::from_parts(parts, Full::new(body))).await?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_RESPONSE_BYTES).collect().await?.to_bytes();
    Ok(Response::from_parts(parts, body))
}
