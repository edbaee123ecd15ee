//! The library API on real components: revocation from outside cuts in-flight work,
//! captured output is capped, concurrent invocations hold separate grants.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use mcp_sandbox_runtime::audit::{EventKind, MemorySink};
use mcp_sandbox_runtime::{CacheSetting, Call, Output, Policy, Sandbox, Status, Stdin};
use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{root, tool};

fn sandbox(sink: Arc<MemorySink>) -> Sandbox {
    Sandbox::builder().audit(sink).cache(CacheSetting::Dir(root().join("target/test-component-cache"))).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_grant_stops_the_tool_and_cuts_its_open_request() {
    // An HTTP server that reads the request and never answers; it reports when its peer hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, accepted) = mpsc::channel();
    let (closed_tx, closed) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        accepted_tx.send(()).unwrap();
        let mut buf = [0u8; 1024];
        loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        closed_tx.send(Instant::now()).unwrap();
    });

    let sink = Arc::new(MemorySink::default());
    let sb = sandbox(sink.clone());
    let get = sb.load(&tool("http-get")).unwrap();
    let policy = Policy::builder().allow_net(&format!("http://{addr}")).unwrap().build();
    let grant = sb.issue(&get, &policy, None);
    let (handle, id) = (grant.revocation_handle(), grant.id());
    let call = Call { args: vec![format!("http://{addr}/slow")], output: Output::Capture, ..Call::default() };
    let run = tokio::spawn(async move { sb.run(&get, grant, call).await });

    tokio::task::spawn_blocking(move || accepted.recv_timeout(Duration::from_secs(10))).await.unwrap().unwrap();
    let revoked_at = Instant::now();
    handle.revoke("cancelled by the caller");
    let outcome = run.await.unwrap().unwrap();
    assert_eq!(outcome.status, Status::Revoked);
    let closed_at = tokio::task::spawn_blocking(move || closed.recv_timeout(Duration::from_secs(5))).await.unwrap();
    assert!(closed_at.is_ok(), "the server's connection must be cut by revocation");
    assert!(closed_at.unwrap() >= revoked_at);
    let events = sink.take(&id.to_string());
    let revoked: Vec<_> = events.iter().filter(|e| e.event == EventKind::GrantRevoked).collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].reason.as_deref(), Some("cancelled by the caller"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_output_is_capped() {
    let sink = Arc::new(MemorySink::default());
    let sb = sandbox(sink.clone());
    let echo = sb.load(&tool("echo-json")).unwrap();
    let policy = Policy::builder().output("1KiB").unwrap().build();
    let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(64 * 1024));
    let call = Call { stdin: Stdin::Bytes(big.into_bytes()), output: Output::Capture, ..Call::default() };
    let outcome = sb.invoke(&echo, &policy, call).await.unwrap();
    assert!(outcome.output_truncated);
    assert!(outcome.stdout.len() <= 1024, "{}", outcome.stdout.len());
    let events = sink.take(&outcome.invocation.to_string());
    assert!(events.iter().any(|e| e.event == EventKind::Limit));
    // Control: the same call with room for the output is complete.
    let roomy = Policy::builder().build();
    let call = Call { stdin: Stdin::Bytes(br#"{"blob":"small"}"#.to_vec()), ..Call::default() };
    let outcome = sb.invoke(&echo, &roomy, call).await.unwrap();
    assert!(!outcome.output_truncated);
    assert_eq!(String::from_utf8_lossy(&outcome.stdout).trim(), r#"{"echo":{"blob":"small"}}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_each_see_only_their_own_grant() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::write(a.path().join("f"), "from-a").unwrap();
    std::fs::write(b.path().join("f"), "from-b").unwrap();
    let sb = Arc::new(sandbox(Arc::new(MemorySink::default())));
    let reader = sb.load(&tool("read-file")).unwrap();
    let mut tasks = Vec::new();
    for (mine, other) in [(&a, &b), (&b, &a)] {
        let (sb, reader) = (sb.clone(), reader.clone());
        let policy = Policy::builder().allow_read(mine.path().to_str().unwrap()).unwrap().build();
        let args = vec![mine.path().join("f").display().to_string(), other.path().join("f").display().to_string()];
        tasks.push(tokio::spawn(async move {
            sb.invoke(&reader, &policy, Call { args, ..Call::default() }).await.unwrap()
        }));
    }
    let (ra, rb) = (tasks.remove(0).await.unwrap(), tasks.remove(0).await.unwrap());
    assert_eq!(String::from_utf8_lossy(&ra.stdout), "from-a");
    assert_eq!(String::from_utf8_lossy(&rb.stdout), "from-b");
    assert_eq!((ra.status.exit_code(), rb.status.exit_code()), (1, 1), "each failed on the other's file");
    assert_ne!(ra.invocation, rb.invocation);
}
