//! `http-get [--follow] [--post DATA] URL`: a sample HTTP client over
//! `wasi:http/outgoing-handler`. Prints `status: <code>` to stderr for each
//! response and the final body to stdout. With `--follow` it follows up to 5
//! redirects, printing `redirect: <url>` for each. Exit 0 on a final 2xx,
//! 1 otherwise; errors print `http-get: error: <error-code>` and exit 1.

use std::io::Write;
use std::process::ExitCode;

use guest_net::http::{Url, request};

const MAX_REDIRECTS: usize = 5;
const USAGE: &str = "usage: http-get [--follow] [--post DATA] URL";

fn main() -> ExitCode {
    let (mut follow, mut post, mut url) = (false, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--follow" => follow = true,
            "--post" if post.is_none() => post = args.next(),
            _ if url.is_none() && !arg.starts_with("--") => url = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(url) = url else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    match run(&url, post, follow) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("http-get: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Performs the request (and redirects); returns whether the final status was 2xx.
fn run(url: &str, mut post: Option<String>, follow: bool) -> Result<bool, String> {
    let mut url = Url::parse(url)?;
    let mut hops = 0;
    loop {
        let resp = request(&url, post.as_deref().map(str::as_bytes))?;
        eprintln!("status: {}", resp.status);
        let redirect = match &resp.location {
            Some(location) if follow && (300..400).contains(&resp.status) => location,
            _ => {
                let mut stdout = std::io::stdout();
                stdout.write_all(&resp.body).map_err(|e| e.to_string())?;
                stdout.flush().map_err(|e| e.to_string())?;
                return Ok((200..300).contains(&resp.status));
            }
        };
        if hops == MAX_REDIRECTS {
            return Err(format!("too many redirects (more than {MAX_REDIRECTS})"));
        }
        hops += 1;
        url = url.join(redirect)?;
        eprintln!("redirect: {url}");
        // As browsers do: only 307 and 308 repeat a POST; other redirects become GETs.
        if !matches!(resp.status, 307 | 308) {
            post = None;
        }
    }
}
