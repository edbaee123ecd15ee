//! `wasi:http` outgoing requests, checked against the live grant.
//!
//! Every request (each hop of a redirect is a new request) is checked by scheme, host and
//! port, then sent over a connection the runtime opens to the host's *pinned* address. The
//! connection is cut when the grant is revoked, or when the just-in-time window it was opened
//! in closes (a proxied component: [`crate::grant::window`]). A call has at most
//! [`MAX_HTTP_REQUESTS`](crate::egress::quota::MAX_HTTP_REQUESTS) requests in flight (each a
//! host connection until its response is read); beyond, a request fails with
//! `connection-limit-reached` and a `limit` record.

use super::host_memory::OUTGOING_BODY_CHUNK;
use crate::egress::http::connect_pinned;
use crate::egress::quota::{Held, Quota};
use crate::grant::{Lease, LiveGrant};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

type SendResult =
    wasmtime_wasi_http::Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>)>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct GrantHttpHooks {
    pub grant: LiveGrant,
    pub quota: Arc<Quota>,
}

impl WasiHttpHooks for GrantHttpHooks {
    /// Smaller than wasmtime's 1 MiB: what an unsent body buffers is charged against
    /// `--memory` (see `host_memory`).
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        OUTGOING_BODY_CHUNK
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let grant = self.grant.clone();
        let quota = self.quota.clone();
        Box::new(async move {
            // The origin only: user info, a path or a query may carry what the audit log must
            // not hold.
            let uri = request.uri();
            let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
            let target = format!("{}://{}{port}", uri.scheme_str().unwrap_or("http"), uri.host().unwrap_or(""));
            let Some(held) = quota.acquire_or_audit(Held::HttpRequest, &target, grant.audit()) else {
                return Err(Error::ConnectionLimitReached);
            };
            // Taken before the check: the request and its connection end with it.
            let lease = grant.lease();
            tokio::select! {
                r = lease.scope(send(grant, request, options, held, lease.clone())) => r,
                () = lease.ended() => Err(Error::ConnectionTerminated),
            }
        })
    }
}

async fn send(
    grant: LiveGrant,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    held: crate::egress::quota::Permit,
    lease: Lease,
) -> SendResult {
    let uri = request.uri().clone();
    let tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let addrs = grant.route_http(tls, &host, port).await.map_err(|_| Error::HttpRequestDenied)?;
    let timeout = options.and_then(|o| o.connect_timeout).unwrap_or(CONNECT_TIMEOUT);
    let stream = connect_pinned(&addrs, &host, tls, timeout)
        .await
        .map_err(|e| if tls { Error::Tls(e) } else { Error::Connect(e) })?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The request's place among those in flight is held until its connection ends.
        let _held = held;
        tokio::select! {
            _ = conn => {}
            () = lease.ended() => {}
        }
    });
    // The request line carries only the path; the origin went into the connection.
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;
    let response = sender.send_request(request).await?;
    let response = response.map(|body| body.map_err(Error::from).map_frame(|f| f.map_data(Bytes::from)).boxed_unsync());
    Ok((response, Box::new(async { Ok(()) })))
}
