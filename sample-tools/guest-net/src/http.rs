//! A minimal blocking HTTP client over `wasi:http/outgoing-handler`.

use std::fmt;
use std::io::{Read, Write};

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

/// An absolute `http://` or `https://` URL, split the way wasi:http wants it.
#[derive(Debug, Clone)]
pub struct Url {
    pub scheme: String,
    pub authority: String,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("not an absolute URL: {url}"))?;
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(format!("no host in URL: {url}"));
        }
        Ok(Url {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path: format!("/{}", path.trim_start_matches('/')),
        })
    }

    /// Resolves a `location` header value (absolute, or relative to this URL).
    pub fn join(&self, location: &str) -> Result<Url, String> {
        if location.contains("://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Ok(Url { path, ..self.clone() })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.path)
    }
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The first `location` header, if any.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Sends a GET (`post == None`) or a POST with the given body, and reads the
/// whole response. Errors are the `Debug` text of the wasi:http `error-code`
/// (e.g. `ErrorCode::HttpRequestDenied`) or a short description.
pub fn request(url: &Url, post: Option<&[u8]>) -> Result<Response, String> {
    let headers = Fields::new();
    if let Some(data) = post {
        headers.append("content-length", data.len().to_string().as_bytes()).map_err(|e| format!("{e:?}"))?;
    }
    let req = OutgoingRequest::new(headers);
    let scheme = match url.scheme.as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let method = if post.is_some() { Method::Post } else { Method::Get };
    let invalid = |what: &str| format!("invalid {what} in {url}");
    req.set_method(&method).map_err(|()| invalid("method"))?;
    req.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
    req.set_authority(Some(&url.authority)).map_err(|()| invalid("authority"))?;
    req.set_path_with_query(Some(&url.path)).map_err(|()| invalid("path"))?;
    let body = match post {
        Some(data) => Some((req.body().map_err(|()| "request body already taken")?, data)),
        None => None, // no body resource at all: the host sends an empty body
    };

    // Hand the request over first, then stream the body, so a large body
    // cannot deadlock against the host's buffer.
    let future = outgoing_handler::handle(req, None).map_err(|e| format!("{e:?}"))?;
    if let Some((body, data)) = body {
        // If this fails, the server answered early or the host failed the
        // request; either way the response future below has the outcome.
        let _ = send_body(body, data);
    }

    let resp = loop {
        match future.get() {
            Some(Ok(result)) => break result.map_err(|e| format!("{e:?}"))?,
            Some(Err(())) => return Err("response already taken".into()),
            None => future.subscribe().block(),
        }
    };
    let status = resp.status();
    let location = resp.headers().get("location").into_iter().next().map(|v| String::from_utf8_lossy(&v).into_owned());
    let incoming = resp.consume().map_err(|()| "response body already taken".to_string())?;
    let mut body = Vec::new();
    {
        let mut stream = incoming.stream().map_err(|()| "body stream already taken".to_string())?;
        stream.read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    Ok(Response { status, location, body })
}

/// Writes `data` to an outgoing body and finishes it.
fn send_body(body: OutgoingBody, data: &[u8]) -> Result<(), String> {
    {
        let mut out = body.write().map_err(|()| "body stream already taken")?;
        out.write_all(data).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))
}
