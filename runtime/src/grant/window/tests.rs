use super::*;
use crate::audit::MemorySink;
use crate::grant::{GrantBroker, GrantRequest, ToolDigest};
use crate::policy::Policy;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

fn grant(jit: bool, endpoints: &[&str]) -> (LiveGrant, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let mut b = Policy::builder();
    for e in endpoints {
        b.allow_net(e).unwrap();
    }
    let policy = b.build();
    let window = Some(WindowSpec { jit, bindable: Vec::new() });
    let g = GrantBroker::new(sink.clone()).issue(GrantRequest {
        tool: ToolDigest::of(b"server"),
        policy: &policy,
        ttl: None,
        window,
    });
    (g, sink)
}

fn bound(arg: &str, ep: &str) -> Vec<BoundEndpoint> {
    vec![BoundEndpoint { argument: arg.into(), endpoint: ep.parse().unwrap() }]
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Whether `ended()` has resolved (polled once: it resolves at once when it is over).
fn over(l: &Lease) -> bool {
    matches!(pin!(l.ended()).as_mut().poll(&mut Context::from_waker(Waker::noop())), Poll::Ready(()))
}

/// A lease for a connection to `to`, checked in its scope.
async fn leased(g: &LiveGrant, to: &str) -> Option<Lease> {
    let lease = g.lease();
    lease.scope(g.check_connect(addr(to), Transport::Tcp)).await.ok().map(|()| lease)
}

#[tokio::test]
async fn the_grant_is_closed_until_a_call_and_after_it() {
    let (g, sink) = grant(true, &["127.0.0.1:9", "http://127.0.0.1:80", "api.test:443"]);
    let w = g.call_window().unwrap();
    let d = g.check_connect(addr("127.0.0.1:9"), Transport::Tcp).await.unwrap_err();
    assert_eq!((d.reason.as_str(), d.hint.as_deref()), (CLOSED, Some("--jit off")), "at start-up");
    let d = g.check_connect(addr("127.0.0.2:9"), Transport::Tcp).await.unwrap_err();
    assert!(d.reason.ends_with("not declared either") && d.hint.is_none(), "--jit off alone would not help: {d}");
    let d = g.lookup("api.test").await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--jit off"), "a declared name is not resolved, nor is the resolver asked");
    let d = g.route_http(false, "127.0.0.1", 80).await.unwrap_err();
    assert_eq!(d.hint.as_deref(), Some("--jit off"));
    w.start(1, "fetch", &json!("a"), Vec::new());
    let lease = leased(&g, "127.0.0.1:9").await.expect("open while the call is in flight");
    assert!(!over(&lease));
    w.start(2, "fetch", &json!("b"), Vec::new());
    w.end(1, "fetch", "the server replied");
    assert!(!over(&lease), "open while any call is in flight");
    assert!(g.check_connect(addr("127.0.0.1:9"), Transport::Tcp).await.is_ok());
    w.end(2, "fetch", "cancelled by the client");
    assert!(over(&lease), "what was opened in the window is cut when it closes");
    assert!(g.check_connect(addr("127.0.0.1:9"), Transport::Tcp).await.is_err(), "between calls");
    w.end(2, "fetch", "again");
    w.start(3, "fetch", &json!(3), Vec::new());
    assert!(over(&lease), "a lease of a closed window stays over when another opens");
    let phases: Vec<(String, bool)> = sink
        .events()
        .iter()
        .filter(|e| e.event == EventKind::NetWindow)
        .map(|e| {
            let d = e.detail.as_ref().unwrap();
            (d["phase"].as_str().unwrap().to_string(), d["open"].as_bool().unwrap())
        })
        .collect();
    let expect = [("start", true), ("start", true), ("end", true), ("end", false), ("start", true)];
    assert_eq!(phases, expect.map(|(p, o)| (p.to_string(), o)), "one record per start and end, idempotent");
}

#[tokio::test]
async fn bound_endpoints_are_each_calls_own_and_granted_to_the_union() {
    let (g, sink) = grant(true, &[]);
    let w = g.call_window().unwrap();
    w.start(1, "fetch", &json!(1), bound("url", "10.0.0.7:443"));
    let first = leased(&g, "10.0.0.7:443").await.expect("bound by call 1");
    assert!(g.check_connect(addr("10.0.0.8:443"), Transport::Tcp).await.is_err(), "not bound by anyone");
    w.start(2, "fetch", &json!(2), bound("url", "10.0.0.8:443"));
    let second = leased(&g, "10.0.0.8:443").await.expect("bound by call 2");
    assert!(g.check_connect(addr("10.0.0.7:443"), Transport::Tcp).await.is_ok(), "the union while both run");
    w.end(1, "fetch", "the server replied");
    assert!(over(&first), "cut when the call that bound it ends, the window still open");
    assert!(!over(&second));
    assert!(g.check_connect(addr("10.0.0.7:443"), Transport::Tcp).await.is_err(), "call 1's endpoint is gone");
    assert!(
        sink.events().iter().any(|e| e.reason.as_deref().is_some_and(|r| r.ends_with("bound by call 2"))),
        "bound grants are audited with the call's id"
    );
}

#[tokio::test]
async fn jit_off_leaves_the_grant_open_and_windows_only_what_calls_bind() {
    let (g, _) = grant(false, &["127.0.0.1:9"]);
    let w = g.call_window().unwrap();
    let lease = leased(&g, "127.0.0.1:9").await.expect("open with no call in flight");
    assert!(g.check_connect(addr("10.0.0.7:443"), Transport::Tcp).await.is_err());
    let generation = g.window_generation();
    w.start(1, "fetch", &json!(1), bound("url", "10.0.0.7:443"));
    assert_ne!(g.window_generation(), generation, "a denied UDP flow is checked again");
    let bound_lease = leased(&g, "10.0.0.7:443").await.expect("bound");
    w.end(1, "fetch", "the server replied");
    assert!(!over(&lease), "the grant's own connection stays");
    assert!(over(&bound_lease), "the bound one is cut");
}

/// A settler that finishes when told to, and counts how often it was asked.
#[derive(Debug, Default)]
struct Gate {
    asked: std::sync::atomic::AtomicUsize,
    open: tokio::sync::Notify,
}

impl Settle for Gate {
    fn settle(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(self.open.notified())
    }
}

#[tokio::test]
async fn a_calls_end_waits_for_the_broker_to_catch_up_before_it_cuts() {
    let (g, _) = grant(true, &["127.0.0.1:9"]);
    let w = g.call_window().unwrap();
    let gate = Arc::new(Gate::default());
    let settler: Weak<dyn Settle> = Arc::downgrade(&gate) as Weak<Gate>;
    g.set_settler(settler);
    w.start(1, "post", &json!(1), Vec::new());
    w.start(2, "post", &json!(2), Vec::new());
    // Call 1 ends while 2 runs, binding nothing: nothing is cut, nothing waited for.
    w.settle_before_ending(&[1]).await;
    w.end(1, "post", "the server replied");
    assert_eq!(gate.asked.load(Ordering::SeqCst), 0);
    // The last call's end closes the window: it waits for the settler first.
    let ending = tokio::spawn({
        let w = w.clone();
        async move {
            w.settle_before_ending(&[2]).await;
            w.end(2, "post", "the server replied");
        }
    });
    let asked = async {
        while gate.asked.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), asked).await.expect("the last call's end asks the broker to settle");
    assert!(g.check_connect(addr("127.0.0.1:9"), Transport::Tcp).await.is_ok(), "open while the broker catches up");
    gate.open.notify_one();
    ending.await.unwrap();
    assert!(g.check_connect(addr("127.0.0.1:9"), Transport::Tcp).await.is_err(), "closed after");
}
