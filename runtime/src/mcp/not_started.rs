//! `proxy` refused before its server could start: a program not found or not executable, a
//! granted path that does not exist, a flag it cannot read, a pins file it cannot use. An MCP
//! host has started `mcp-sandbox proxy` as the server and waits for its answer to `initialize`;
//! exiting at once would leave it waiting (the official Python SDK client never notices that
//! its server is gone). So the proxy answers every request the client sends with a JSON-RPC
//! error carrying the one-line reason and its fix, until the client closes its input or
//! [`NOT_STARTED_WAIT`] has passed, then exits with the error's status (125 or 126). On a
//! terminal nobody waits for an answer: it exits at once.

use super::lines::{Line, Lines};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// How long a proxy whose server could not start keeps answering its client (hosts send
/// `initialize` as soon as the process starts; one that sends nothing for this long has been
/// told on stderr).
pub const NOT_STARTED_WAIT: Duration = Duration::from_secs(10);

/// JSON-RPC's "internal error", as for a server that ended (`mcp::ended`).
const NOT_STARTED_CODE: i64 = -32603;

/// The error reply to one client line, if it is a request (a `method` and an `id`).
pub fn reply(line: &str, reason: &str, status: i32) -> Option<Value> {
    let msg: Value = serde_json::from_str(line).ok()?;
    let id = msg.get("id").filter(|id| id.is_string() || id.is_i64() || id.is_u64())?;
    msg.get("method")?.as_str()?;
    Some(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": NOT_STARTED_CODE,
            "message": format!("mcp-sandbox proxy could not start the MCP server: {reason}"),
            "data": { "exit_status": status },
        },
    }))
}

/// Answers each request read from `input` until its end or `wait` has passed.
pub async fn answer(
    reason: &str,
    status: i32,
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    wait: Duration,
) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut lines = Lines::new(input);
    while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, lines.next()).await {
        let Line::Text(text) = line else { continue };
        if let Some(r) = reply(&text, reason, status) {
            let out = format!("{r}\n");
            if output.write_all(out.as_bytes()).await.is_err() || output.flush().await.is_err() {
                return;
            }
        }
    }
}

/// [`answer`] on the process's stdin and stdout, unless stdin is a terminal; returns `status`.
pub fn answer_stdio(reason: &str, status: i32) -> i32 {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return status;
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return status };
    rt.block_on(answer(reason, status, tokio::io::stdin(), tokio::io::stdout(), NOT_STARTED_WAIT));
    // tokio's stdin reads on a thread that may still be blocked in read(2): do not wait for it.
    rt.shutdown_background();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_get_the_reason_notifications_and_garbage_nothing() {
        let r =
            reply(r#"{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}"#, "cannot read x; fix", 126).unwrap();
        assert_eq!(r["id"], 7);
        assert_eq!(r["error"]["code"], -32603);
        assert_eq!(r["error"]["data"]["exit_status"], 126);
        assert!(
            r["error"]["message"].as_str().unwrap().ends_with("could not start the MCP server: cannot read x; fix")
        );
        assert_eq!(reply(r#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#, "r", 125).unwrap()["id"], "a");
        assert!(reply(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, "r", 125).is_none());
        assert!(reply(r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, "r", 125).is_none());
        assert!(reply("not json", "r", 125).is_none());
    }

    #[tokio::test]
    async fn answering_ends_with_the_input_or_at_the_deadline() {
        let input =
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"n\"}\n";
        let mut out = Vec::new();
        answer("why", 125, &input[..], &mut out, Duration::from_secs(5)).await;
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        // An input that never ends: the deadline ends it.
        let (_keep, reader) = tokio::io::duplex(64);
        let started = std::time::Instant::now();
        answer("why", 125, reader, Vec::new(), Duration::from_millis(200)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
