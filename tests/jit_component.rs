//! A component's side of just-in-time windows (a proxied WebAssembly server): a `wasi:sockets`
//! TCP connection made while a call is in flight is shut down once the window closes, before the
//! component can send on it again. `sample-tools/hold-send` connects to a loopback listener, sends
//! `first`, waits for the listener's `go`, then tries to send `second`. The window is closed
//! while it waits: `second` never arrives and the listener sees the connection end. Control: the
//! window left open, `second` arrives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use mcp_sandbox_runtime::grant::WindowSpec;
use mcp_sandbox_runtime::{CacheSetting, Call, Output, Policy, Sandbox, Stdin};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use support::{root, tool};

/// Runs hold-send under a windowed grant, with a call in flight; once the listener has `first`,
/// closes the window (or not), says `go`, and returns what the listener read afterwards and what
/// the tool printed.
async fn session(close: bool) -> (String, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sandbox =
        Sandbox::builder().cache(CacheSetting::Dir(root().join("target/test-component-cache"))).build().unwrap();
    let component = sandbox.load(&tool("hold-send")).unwrap();
    let policy = Policy::builder().allow_net(&addr.to_string()).unwrap().build();
    let grant = sandbox.issue_windowed(&component, &policy, None, Some(WindowSpec { jit: true, bindable: Vec::new() }));
    let window = grant.call_window().unwrap();
    window.start(1, "hold", &serde_json::json!(1), Vec::new());
    let peer = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert_eq!(first, "first\n");
        (conn, reader)
    });
    let call = Call { args: vec![addr.to_string()], stdin: Stdin::Empty, output: Output::Capture, ..Call::default() };
    let run = tokio::spawn({
        let sandbox = std::sync::Arc::new(sandbox);
        async move { sandbox.run(&component, grant, call).await }
    });
    // The listener has `first`: the connection is up, made in the window.
    let (mut conn, mut reader) = tokio::task::spawn_blocking(move || peer.join().unwrap()).await.unwrap();
    if close {
        window.end(1, "hold", "the server replied");
    }
    conn.write_all(b"go\n").unwrap();
    let after = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        rest
    });
    let outcome = run.await.unwrap().unwrap();
    drop(conn);
    (after.await.unwrap(), String::from_utf8_lossy(&outcome.stdout).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_components_connection_is_shut_down_when_its_window_closes() {
    // Control: the window stays open, the second send arrives.
    let (after, printed) = session(false).await;
    assert_eq!(after, "second\n", "{printed}");
    assert!(printed.contains("second: sent"), "{printed}");
    // Closed while the component waited: it is cut as soon as it runs again (its read ends, its
    // send fails), and nothing more arrives.
    let (after, printed) = session(true).await;
    assert_eq!(after, "", "{printed}");
    assert!(printed.contains("second: ") && !printed.contains("second: sent"), "{printed}");
}
