//! Catching up before a just-in-time window closes ([`Settle`]). A server that sends and then
//! replies at once must not lose what it sent: when its call's reply is read, its connection
//! may still be queued on a relay, being checked, or its bytes not yet copied out. Before the
//! window closes (and cuts what it let through), the call's end waits, at most
//! [`CLOSE_SETTLE`](crate::grant::window::CLOSE_SETTLE), until the broker has caught up:
//!
//! * no socket the broker serves (relay and proxy listeners, UDP relays, the DNS stub) has
//!   anything queued, and no datagram or question is being handled;
//! * every connection accepted so far was refused, or is piping with nothing left unread from
//!   the server's side (or its end read) and everything read written out.
//!
//! What the server sends after its reply is not waited for: the window closes as soon as the
//! broker is idle, and the bound holds however busy the server keeps it.

use super::Broker;
use crate::egress::quota::{Held, Permit, Quota};
use crate::grant::{Lease, Settle};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How often a settling call's end looks again.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(1);

tokio::task_local! {
    /// The progress of the connection the current task serves.
    pub(super) static PROGRESS: Arc<Progress>;
}

/// Where one accepted connection is.
#[derive(Debug)]
pub(super) struct Progress {
    lease: Lease,
    piping: AtomicBool,
    /// The server's side ended (its end was read).
    eof: AtomicBool,
    from_inside: AtomicU64,
    to_outside: AtomicU64,
    /// The last read of the server's side found nothing (what is checked without `inside`).
    inside_idle: AtomicBool,
    /// The server's side (a duplicate, with its place in the call's bound), to see whether it
    /// has anything unread: taken under a window only.
    inside: OnceLock<(OwnedFd, Permit)>,
}

impl Progress {
    fn settled(&self) -> bool {
        if !self.piping.load(Ordering::SeqCst) {
            // Refused: done. Let through (being dialled) or not decided yet: not.
            return self.lease.is_decided() && !self.lease.is_allowed();
        }
        if self.eof.load(Ordering::SeqCst) {
            return true;
        }
        let caught_up = self.from_inside.load(Ordering::SeqCst) == self.to_outside.load(Ordering::SeqCst);
        caught_up
            && match self.inside.get() {
                Some((fd, _)) => !readable(fd),
                None => self.inside_idle.load(Ordering::SeqCst),
            }
    }
}

/// Whether `fd` has something to read (or a connection to accept) right now.
fn readable(fd: &impl AsFd) -> bool {
    let mut polled = [rustix::event::PollFd::new(fd, rustix::event::PollFlags::IN)];
    let now = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(rustix::event::poll(&mut polled, Some(&now)), Ok(n) if n > 0)
}

/// What the broker watches to know it has caught up.
#[derive(Debug, Default)]
pub(super) struct Watched {
    sockets: Mutex<Vec<Weak<dyn AsFd + Send + Sync>>>,
    progress: Mutex<Vec<Weak<Progress>>>,
    /// Datagrams and DNS questions being handled.
    busy: AtomicUsize,
}

impl Watched {
    pub(super) fn socket(&self, s: Weak<dyn AsFd + Send + Sync>) {
        if let Ok(mut v) = self.sockets.lock() {
            v.push(s);
        }
    }

    /// A connection just accepted, under `lease`.
    pub(super) fn accepted(&self, lease: Lease) -> Arc<Progress> {
        let p = Arc::new(Progress {
            lease,
            piping: AtomicBool::new(false),
            eof: AtomicBool::new(false),
            from_inside: AtomicU64::new(0),
            to_outside: AtomicU64::new(0),
            inside_idle: AtomicBool::new(false),
            inside: OnceLock::new(),
        });
        if let Ok(mut v) = self.progress.lock() {
            v.retain(|w| w.strong_count() > 0);
            v.push(Arc::downgrade(&p));
        }
        p
    }

    /// Counts a datagram or question being handled while the guard lives.
    pub(super) fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(&self.busy)
    }

    fn caught_up(&self) -> bool {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let sockets: Vec<_> =
            self.sockets.lock().map(|v| v.iter().filter_map(Weak::upgrade).collect()).unwrap_or_default();
        if sockets.iter().any(|s| readable(&s.as_fd())) {
            return false;
        }
        let live: Vec<_> =
            self.progress.lock().map(|v| v.iter().filter_map(Weak::upgrade).collect()).unwrap_or_default();
        live.iter().all(|p| p.settled())
    }
}

/// A datagram or question being handled.
pub(super) struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Settle for Broker {
    fn settle(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // The caller bounds this (CLOSE_SETTLE).
            while !self.watched.caught_up() {
                tokio::time::sleep(SETTLE_POLL).await;
            }
        })
    }
}

/// One side of a relayed connection, counting what passes for [`Progress`].
pub(super) struct Counted<'a> {
    pub stream: &'a mut TcpStream,
    pub progress: Option<&'a Progress>,
    /// The server's side (else the destination's).
    pub inside: bool,
}

impl Counted<'_> {
    /// Marks the connection as piping (what it reads and writes counted from now on); under a
    /// window, keeps a duplicate of the server's side if the call's bound has room for it.
    pub(super) fn start(progress: Option<&Progress>, inside: &TcpStream, quota: &Arc<Quota>) {
        let Some(p) = progress else { return };
        if p.lease.is_windowed()
            && let Ok(permit) = quota.acquire(Held::Watched)
            && let Ok(fd) = inside.as_fd().try_clone_to_owned()
        {
            let _ = p.inside.set((fd, permit));
        }
        p.piping.store(true, Ordering::SeqCst);
    }
}

impl AsyncRead for Counted<'_> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut *this.stream).poll_read(cx, buf);
        match (&r, this.progress, this.inside) {
            (Poll::Ready(Ok(())), Some(p), true) => {
                let n = buf.filled().len() - before;
                if n == 0 {
                    p.eof.store(true, Ordering::SeqCst);
                }
                p.inside_idle.store(false, Ordering::SeqCst);
                p.from_inside.fetch_add(n as u64, Ordering::SeqCst);
            }
            (Poll::Pending, Some(p), true) => p.inside_idle.store(true, Ordering::SeqCst),
            _ => {}
        }
        r
    }
}

impl AsyncWrite for Counted<'_> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut *this.stream).poll_write(cx, data);
        if let (Poll::Ready(Ok(n)), Some(p), false) = (&r, this.progress, this.inside) {
            p.to_outside.fetch_add(*n as u64, Ordering::SeqCst);
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::MemorySink;
    use crate::grant::{GrantBroker, GrantRequest, ToolDigest, WindowSpec};
    use crate::policy::Policy;
    use crate::policy::endpoint::Transport;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn caught_up_only_when_nothing_is_queued_unchecked_or_unrelayed() {
        let policy = Policy::builder().allow_net("127.0.0.1:9").unwrap().build();
        let window = Some(WindowSpec { jit: true, bindable: Vec::new() });
        let grant = GrantBroker::new(Arc::new(MemorySink::default())).issue(GrantRequest {
            tool: ToolDigest::of(b"s"),
            policy: &policy,
            ttl: None,
            window,
        });
        grant.call_window().unwrap().start(1, "post", &serde_json::json!(1), Vec::new());
        let watched = Watched::default();
        let relay = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        watched.socket(Arc::downgrade(&relay) as Weak<dyn AsFd + Send + Sync>);
        assert!(watched.caught_up(), "idle");

        let mut server = TcpStream::connect(relay.local_addr().unwrap()).await.unwrap();
        server.write_all(b"sent").await.unwrap();
        assert!(!watched.caught_up(), "a connection queued on a relay");
        let (mut inside, _) = relay.accept().await.unwrap();
        let lease = grant.lease();
        let p = watched.accepted(lease.clone());
        assert!(!watched.caught_up(), "accepted, not checked yet");
        lease.scope(grant.check_connect("127.0.0.1:9".parse().unwrap(), Transport::Tcp)).await.unwrap();
        assert!(!watched.caught_up(), "let through, being dialled");
        let dest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut outside = TcpStream::connect(dest.local_addr().unwrap()).await.unwrap();
        Counted::start(Some(&p), &inside, &crate::egress::quota::Quota::new());
        assert!(!watched.caught_up(), "piping, what the server sent unread");
        let mut buf = [0u8; 16];
        let n = Counted { stream: &mut inside, progress: Some(&p), inside: true }.read(&mut buf).await.unwrap();
        assert!(!watched.caught_up(), "read, not written out");
        Counted { stream: &mut outside, progress: Some(&p), inside: false }.write_all(&buf[..n]).await.unwrap();
        assert!(watched.caught_up(), "everything relayed");
        {
            let _busy = watched.busy();
            assert!(!watched.caught_up(), "a datagram being handled");
        }

        let _other = TcpStream::connect(relay.local_addr().unwrap()).await.unwrap();
        let (_inside, _) = relay.accept().await.unwrap();
        let refused = grant.lease();
        let _p = watched.accepted(refused.clone());
        assert!(!watched.caught_up());
        assert!(refused.scope(grant.check_connect("127.0.0.1:10".parse().unwrap(), Transport::Tcp)).await.is_err());
        assert!(watched.caught_up(), "a refused connection is done");
        drop(p);
        server.shutdown().await.unwrap();
    }
}
