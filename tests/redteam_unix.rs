//! Breaks found by attacking the sandbox from outside, after issue 9: host daemons' unix
//! sockets reached through a grant that shows their socket file. Each attack runs unconfined
//! first (the positive control: the host listener receives it), then under the sandbox, judged
//! by what the host listener received; "nothing arrived" is read only after a later control
//! has arrived on the same listener, which serves in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::io::Read;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use support::*;

const PYTHON: &str = "/usr/bin/python3";

/// Connects to argv[1] (a stream socket) and sends argv[2]; sends argv[2] as a datagram to
/// argv[3]; prints what each did. A server of its own at argv[4] (in its `/tmp`) answers too (the sandbox's
/// own sockets still work), and a `multiprocessing` listener (pathname sockets, as CPython's
/// forkserver uses).
const ATTACK: &str = r#"
import socket, sys, threading
srv = socket.socket(socket.AF_UNIX); srv.bind(sys.argv[4]); srv.listen()
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[4]); a, _ = srv.accept(); c.sendall(b'own'); print('own:', a.recv(3).decode())
from multiprocessing.connection import Listener, Client
l = Listener(family='AF_UNIX'); t = threading.Thread(target=lambda: l.accept().send('ok')); t.start()
print('multiprocessing:', Client(l.address).recv())
try:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()); s.close(); print('stream: sent')
except OSError as e:
    print('stream: refused', e.errno)
try:
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
except OSError as e:
    d, _ = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM); print('dgram socket: refused', e.errno)
try:
    pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); print('dgram pair: made')
    d = pair[0]
except OSError as e:
    print('dgram pair: refused', e.errno)
try:
    d.sendmsg([sys.argv[2].encode()], [], 0, sys.argv[3]); print('dgram: sent')
except OSError as e:
    print('dgram: refused', e.errno)
"#;

/// A host daemon: a stream listener that reads each connection to its end, in order, and a
/// datagram socket; both report what they received on `rx`.
fn daemon(dir: &Path) -> (PathBuf, PathBuf, mpsc::Receiver<String>) {
    let (stream, dgram) = (dir.join("daemon.sock"), dir.join("log.sock"));
    let listener = UnixListener::bind(&stream).unwrap();
    let datagrams = UnixDatagram::bind(&dgram).unwrap();
    let (tx, rx) = mpsc::channel();
    let t = tx.clone();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut got = String::new();
            let _ = c.read_to_string(&mut got);
            if t.send(format!("stream:{got}")).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = datagrams.recv(&mut buf) {
            if tx.send(format!("dgram:{}", String::from_utf8_lossy(&buf[..n]))).is_err() {
                return;
            }
        }
    });
    (stream, dgram, rx)
}

/// What the daemon received up to and including `marker` (sent by the host after the attack).
fn received_until(rx: &mpsc::Receiver<String>, stream: &Path, dgram: &Path, marker: &str) -> Vec<String> {
    let mut s = UnixStream::connect(stream).unwrap();
    std::io::Write::write_all(&mut s, marker.as_bytes()).unwrap();
    drop(s);
    UnixDatagram::unbound().unwrap().send_to(marker.as_bytes(), dgram).unwrap();
    let mut got = Vec::new();
    while got.iter().filter(|g: &&String| g.ends_with(marker)).count() < 2 {
        got.push(rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the host's own marker arrives"));
    }
    got
}

#[test]
fn redteam_host_unix_sockets_in_a_read_grant_are_unreachable() {
    let t = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(t.path()).unwrap();
    let (stream, dgram, rx) = daemon(&dir);
    let (s, d) = (stream.to_str().unwrap(), dgram.to_str().unwrap());
    // Control: unconfined, both reach the daemon.
    let own = dir.join("own.sock");
    let host = Command::new(PYTHON).args(["-c", ATTACK, s, "control", d, own.to_str().unwrap()]).output().unwrap();
    let host_out = String::from_utf8_lossy(&host.stdout);
    assert!(host_out.contains("stream: sent") && host_out.contains("dgram: sent"), "{host_out}{:?}", host.stderr);
    let got = received_until(&rx, &stream, &dgram, "after-control");
    assert!(got.contains(&"stream:control".into()) && got.contains(&"dgram:control".into()), "{got:?}");
    // Under the sandbox, with the directory granted read-only: nothing arrives.
    let r =
        run(&["run", "--allow-read", dir.to_str().unwrap(), PYTHON, "--", "-c", ATTACK, s, "leak", d, "/tmp/own.sock"]);
    let got = received_until(&rx, &stream, &dgram, "after-sandbox");
    assert!(!got.iter().any(|g| g.contains("leak")), "the host daemon received {got:?}: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("stream: refused 13"), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("dgram socket: refused 1") && r.stdout.contains("dgram pair: refused 1"), "{}", r.stdout);
    // The sandbox's own unix sockets still work, through the same path.
    assert!(r.stdout.contains("own: own") && r.stdout.contains("multiprocessing: ok"), "{}{}", r.stdout, r.stderr);
    let refused: Vec<_> = r.denials("net.connect").into_iter().filter(|e| e["target"] == format!("unix:{s}")).collect();
    assert_eq!(refused.len(), 1, "audited once: {:?}", r.audit);
}

/// The supervisor's look at a `connect` must be what the kernel does: a tool that swaps, while
/// the supervisor looks, the descriptor (a TCP socket, then a unix one, by `dup2`) and the
/// address (loopback, then the daemon's socket file) must never reach the daemon. Before the
/// fix, the supervisor let a TCP `connect` through to the kernel after its look, and this won
/// within ten attempts in some runs by hand and not in others (it depends on load): a pass here
/// is evidence, not proof; the fix holds by construction (the kernel never reads the descriptor
/// or the address again after the supervisor's look).
#[test]
fn redteam_a_connect_raced_against_the_supervisors_look_reaches_no_host_daemon() {
    let t = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(t.path()).unwrap();
    let (stream, dgram, rx) = daemon(&dir);
    let race = native_tool("connect-race.c");
    // Control: unconfined, the program reaches the daemon (directly: there is no look to race).
    let host = Command::new(&race).arg(&stream).arg("direct").output().unwrap();
    assert!(String::from_utf8_lossy(&host.stdout).starts_with("WON"), "{host:?}");
    let got = received_until(&rx, &stream, &dgram, "after-control");
    assert!(got.contains(&"stream:RACED\n".into()), "{got:?}");
    let r = run(&["run", "--timeout", "120s", "--allow-read", dir.to_str().unwrap(), race.to_str().unwrap(), "--"]
        .into_iter()
        .chain([stream.to_str().unwrap(), "5000"])
        .collect::<Vec<_>>());
    assert!(r.stdout.starts_with("lost"), "{}{}", r.stdout, r.stderr);
    let got = received_until(&rx, &stream, &dgram, "after-sandbox");
    assert!(!got.iter().any(|g| g.contains("RACED")), "the host daemon received {got:?}");
}
