//! Lists the tools of a stdio MCP server that runs in the sandbox: `initialize`,
//! `notifications/initialized`, then `tools/list` page by page. Used by `mcp-sandbox vet
//! --server`, which vets what a server would show a model without trusting the server.

use super::lines::{Line, Lines};
use crate::error::{Error, Result};
use crate::invoke::{Call, Output, Stdin};
use crate::policy::Policy;
use crate::sandbox::{Sandbox, Tool};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long a server may take to list its tools.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pages of `tools/list` followed at most (a server that never stops paging is cut off).
pub const MAX_PAGES: usize = 64;

fn pipe() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))
}

/// The tools `tool` (a stdio MCP server) lists when run under `policy` with `args`.
pub async fn list_tools(
    sandbox: &Sandbox,
    tool: &Tool,
    policy: &Policy,
    args: Vec<String>,
    allow_degraded: bool,
) -> Result<Vec<Value>> {
    let (to_server_r, to_server_w) = pipe()?;
    let (from_server_r, from_server_w) = pipe()?;
    let grant = sandbox.issue(tool, policy, None);
    let handle = grant.revocation_handle();
    let call = Call {
        args,
        stdin: Stdin::Stream(Arc::new(to_server_r)),
        output: Output::Stream(Arc::new(from_server_w)),
        allow_degraded,
        observe: false,
    };
    let mut input = tokio::net::unix::pipe::Sender::from_owned_fd(to_server_w)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let output = tokio::net::unix::pipe::Receiver::from_owned_fd(from_server_r)
        .map_err(|e| Error::RunTool(format!("stdio pipe: {e}")))?;
    let running = sandbox.run(tool, grant, call);
    let talking = async {
        let mut lines = Lines::new(output);
        let hello = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "mcp-sandbox vet", "version": env!("CARGO_PKG_VERSION")}}});
        write(&mut input, &hello).await?;
        reply(&mut lines, 1).await?;
        write(&mut input, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
        let mut tools = Vec::new();
        let mut cursor: Option<Value> = None;
        for page in 0..MAX_PAGES {
            let id = 2 + page as u64;
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            write(&mut input, &json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params})).await?;
            let result = reply(&mut lines, id).await?;
            tools.extend(result.get("tools").and_then(Value::as_array).cloned().unwrap_or_default());
            cursor = result.get("nextCursor").filter(|c| !c.is_null()).cloned();
            if cursor.is_none() {
                break;
            }
        }
        Ok::<_, Error>(tools)
    };
    let listed = tokio::select! {
        r = talking => r,
        () = tokio::time::sleep(LIST_TIMEOUT) => Err(Error::RunTool(format!(
            "the server did not list its tools within {}s; check that it speaks MCP over stdio and that its policy lets it start",
            LIST_TIMEOUT.as_secs()
        ))),
        r = running => Err(match r {
            Ok(outcome) => Error::RunTool(format!(
                "the server ended ({:?}) before listing its tools; its stderr above says why (a missing grant, an interpreter it cannot see)",
                outcome.status
            )),
            Err(e) => e,
        }),
    };
    handle.revoke("tools listed");
    listed
}

async fn write(input: &mut tokio::net::unix::pipe::Sender, msg: &Value) -> Result<()> {
    input
        .write_all(format!("{msg}\n").as_bytes())
        .await
        .map_err(|e| Error::RunTool(format!("write to the server: {e}")))
}

/// The result of the response with `id`, skipping notifications and requests from the server.
async fn reply<R: tokio::io::AsyncRead + Unpin>(lines: &mut Lines<R>, id: u64) -> Result<Value> {
    loop {
        let line = match lines.next().await {
            Ok(Some(Line::Text(l))) => l,
            Ok(Some(Line::TooLong(n))) => return Err(Error::RunTool(super::lines::too_long_message(n))),
            // Not JSON: skipped like any other line that is not the reply.
            Ok(Some(Line::NotUtf8(_))) => continue,
            Ok(None) => return Err(Error::RunTool("the server closed its output before answering".into())),
            Err(e) => return Err(Error::RunTool(format!("read from the server: {e}"))),
        };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else { continue };
        if msg.get("id").and_then(Value::as_u64) != Some(id) || msg.get("method").is_some() {
            continue;
        }
        if let Some(err) = msg.get("error") {
            return Err(Error::RunTool(format!("the server answered request {id} with an error: {err}")));
        }
        return Ok(msg.get("result").cloned().unwrap_or(Value::Null));
    }
}
