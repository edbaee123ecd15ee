//! The four official reference MCP servers under `mcp-sandbox proxy`, each with only the flags a
//! user would naturally write (the data directory or repository, the target origin, nothing for
//! time), driven by the official Python SDK client (`tests/mcp/ref_client.py`): `tools/list`, a
//! call that works (judged by what it returned and by what the listener received or what is on
//! disk) and a call the confinement must refuse (a directory, repository or origin not
//! granted: the server reports an error, the listener receives nothing, the file outside is
//! neither read nor written). `./dev test` installs the servers into `target/refservers`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::path::Path;
use std::process::Command;
use support::{HttpSink, call_text, filesystem_server, python_server, ref_session, s, tool_names};

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

/// `git -C repo ARGS` on the host, its stdout.
fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "safe.directory=*"])
        .args(args)
        .output()
        .expect("git is installed (./dev test installs it)");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn time_runs_with_nothing_granted_but_its_own_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let (pins, audit) = (dir.path().join("pins.json"), dir.path().join("audit.jsonl"));
    let server = python_server("mcp-server-time");
    let args = strings(&["--pins", s(&pins), "--audit", s(&audit), "--", &server]);
    let calls = json!([
        {"label": "now", "name": "get_current_time", "arguments": {"timezone": "Asia/Tokyo"}},
        {"label": "convert", "name": "convert_time",
         "arguments": {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}},
    ]);
    let (v, stderr) = ref_session(&args, &calls, &[]);
    assert_eq!(tool_names(&v), ["convert_time", "get_current_time"], "{stderr}");
    let now = call_text(&v, "now", false);
    assert!(now.contains("\"timezone\": \"Asia/Tokyo\"") && now.contains("+09:00"), "{now}");
    let converted = call_text(&v, "convert", false);
    assert!(converted.contains("21:00:00+09:00"), "12:00 UTC is 21:00 in Tokyo: {converted}");
    // What it was granted: its venv (and its interpreter's prefix, unless the system view shows
    // it), each with the runtime's reason; no file of the user's, no endpoint.
    let text = std::fs::read_to_string(&audit).unwrap();
    let issued: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "grant.issued")
        .unwrap();
    let paths = issued["detail"]["paths"].as_array().unwrap();
    let venv = support::refservers("venv").canonicalize().unwrap();
    assert!(paths.iter().any(|p| p["path"] == s(&venv)), "{paths:?}");
    for p in paths {
        assert!(p["reason"].as_str().is_some_and(|r| r.starts_with("runtime: ")), "only its runtime: {p}");
        assert_eq!(p["access"], "read", "{p}");
    }
    let home = std::env::var("HOME").unwrap_or_default();
    assert!(!paths.iter().any(|p| Path::new(&home).starts_with(p["path"].as_str().unwrap())), "{paths:?}");
    assert_eq!(issued["detail"]["net"]["endpoints"], json!([]), "{issued}");
}

#[test]
fn fetch_reaches_the_granted_origin_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let granted = HttpSink::start(None);
    let other = HttpSink::start(None);
    let origin = format!("http://{}", granted.addr);
    // `--allow-private-ips` is the server's own flag: it refuses loopback targets otherwise.
    let server = python_server("mcp-server-fetch");
    let args = strings(&["--pins", s(&pins), "--allow-net", &origin, "--", &server, "--allow-private-ips"]);
    let calls = json!([
        {"label": "raw", "name": "fetch", "arguments": {"url": granted.url("/page.html"), "raw": true}},
        {"label": "simplified", "name": "fetch", "arguments": {"url": granted.url("/other.html")}},
        {"label": "refused", "name": "fetch", "arguments": {"url": other.url("/page.html"), "raw": true}},
    ]);
    let (v, stderr) = ref_session(&args, &calls, &[]);
    assert_eq!(tool_names(&v), ["fetch"], "{stderr}");
    let hello = format!("hello from {}", granted.addr.port());
    let raw = call_text(&v, "raw", false);
    assert!(raw.contains(&hello), "{raw}");
    let simplified = call_text(&v, "simplified", false);
    assert!(simplified.contains(&hello), "{simplified}");
    let got = granted.requests();
    assert!(got.iter().any(|r| r.starts_with("GET /page.html ")), "the listener got the page request: {got:?}");
    assert!(got.iter().any(|r| r.starts_with("GET /other.html ")), "{got:?}");
    // The origin not granted: the server reports an error; its listener receives nothing.
    let refused = call_text(&v, "refused", true);
    assert!(refused.contains(&other.addr.to_string()), "{refused}");
    assert_eq!(other.requests(), Vec::<String>::new(), "nothing reached the origin not granted");
    assert!(stderr.contains(&format!("denied: http request to http://{}", other.addr)), "{stderr}");
}

#[test]
fn git_changes_the_granted_repository_and_cannot_see_another() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let (repo, other) = (dir.path().join("repo"), dir.path().join("other"));
    for r in [&repo, &other] {
        std::fs::create_dir(r).unwrap();
        git(r, &["init", "-q"]);
        git(r, &["commit", "-q", "--allow-empty", "-m", "first"]);
    }
    std::fs::write(repo.join("notes.txt"), "notes\n").unwrap();
    std::fs::write(other.join("stolen.txt"), "not for the server\n").unwrap();
    // No `--repository`: the server itself would serve any repository on the machine.
    let args = strings(&["--pins", s(&pins), "--allow-write", s(&repo), "--", &python_server("mcp-server-git")]);
    let (r, o) = (s(&repo), s(&other));
    let calls = json!([
        {"label": "status", "name": "git_status", "arguments": {"repo_path": r}},
        {"label": "add", "name": "git_add", "arguments": {"repo_path": r, "files": ["notes.txt"]}},
        {"label": "commit", "name": "git_commit", "arguments": {"repo_path": r, "message": "from the sandbox"}},
        {"label": "other_log", "name": "git_log", "arguments": {"repo_path": o}},
        {"label": "other_add", "name": "git_add", "arguments": {"repo_path": o, "files": ["stolen.txt"]}},
        {"label": "other_commit", "name": "git_commit", "arguments": {"repo_path": o, "message": "planted"}},
    ]);
    let (v, stderr) = ref_session(&args, &calls, &[]);
    let names = tool_names(&v);
    assert!(names.contains(&"git_commit".to_string()) && names.contains(&"git_status".to_string()), "{names:?}");
    assert!(call_text(&v, "status", false).contains("notes.txt"), "{v}\n{stderr}");
    call_text(&v, "add", false);
    call_text(&v, "commit", false);
    assert_eq!(git(&repo, &["log", "-1", "--format=%s"]).trim(), "from the sandbox", "the commit is on disk");
    // The repository not granted: invisible to the server, unchanged on disk.
    for step in ["other_log", "other_add", "other_commit"] {
        call_text(&v, step, true);
    }
    assert_eq!(git(&other, &["log", "--format=%s"]).trim(), "first", "no commit landed in the other repository");
    assert_eq!(git(&other, &["status", "--porcelain"]).trim(), "?? stolen.txt", "nothing was staged there");
}

#[test]
fn filesystem_works_in_the_granted_directory_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let ws = dir.path().canonicalize().unwrap().join("workspace");
    let (data, outside) = (ws.join("data"), ws.join("outside"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(data.join("in.txt"), "data: 42\n").unwrap();
    std::fs::write(outside.join("secret.txt"), "outside secret\n").unwrap();
    // The server is pointed at the whole workspace, as host configurations often point it at a
    // home directory; the sandbox grants the data directory only.
    let args = strings(&["--pins", s(&pins), "--allow-write", s(&data), "--", &filesystem_server(), s(&ws)]);
    let calls = json!([
        {"label": "read", "name": "read_text_file", "arguments": {"path": s(&data.join("in.txt"))}},
        {"label": "write", "name": "write_file",
         "arguments": {"path": s(&data.join("new.txt")), "content": "written in the sandbox"}},
        {"label": "read_outside", "name": "read_text_file", "arguments": {"path": s(&outside.join("secret.txt"))}},
        {"label": "write_outside", "name": "write_file",
         "arguments": {"path": s(&outside.join("planted.txt")), "content": "planted"}},
    ]);
    let (v, stderr) = ref_session(&args, &calls, &[]);
    let names = tool_names(&v);
    assert!(names.contains(&"read_text_file".to_string()) && names.contains(&"write_file".to_string()), "{stderr}");
    assert_eq!(call_text(&v, "read", false), "data: 42\n");
    call_text(&v, "write", false);
    assert_eq!(std::fs::read_to_string(data.join("new.txt")).unwrap(), "written in the sandbox");
    let refused = call_text(&v, "read_outside", true);
    assert!(!refused.contains("outside secret"), "{refused}");
    call_text(&v, "write_outside", true);
    assert!(!outside.join("planted.txt").exists(), "nothing was written outside the grant");
}
