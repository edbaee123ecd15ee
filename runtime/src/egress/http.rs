//! Connections for HTTP requests, made to the *pinned* addresses of a checked origin.
//!
//! The host name is used only for TLS server-name verification; where the bytes go is
//! decided by the grant's resolution, never by a header or a second lookup.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream to an origin: plain TCP or TLS over it.
pub trait OriginStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> OriginStream for T {}

static TLS: LazyLock<Result<Arc<rustls::ClientConfig>, String>> = LazyLock::new(|| {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.into() };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        .map_err(|e| e.to_string())
});

/// Connects to the first reachable of `addrs` (in order), then wraps TLS for `server_name`
/// if asked.
pub async fn connect_pinned(
    addrs: &[SocketAddr],
    server_name: &str,
    tls: bool,
    timeout: Duration,
) -> io::Result<Box<dyn OriginStream>> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    let mut tcp = None;
    for a in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, format!("connect {a} timed out")),
        }
    }
    let Some(tcp) = tcp else { return Err(last) };
    let _ = tcp.set_nodelay(true);
    if !tls {
        return Ok(Box::new(tcp));
    }
    let config = TLS.as_ref().map_err(|e| io::Error::other(e.clone()))?;
    let name =
        rustls::pki_types::ServerName::try_from(server_name.trim_start_matches('[').trim_end_matches(']').to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let stream = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await?;
    Ok(Box::new(stream))
}
