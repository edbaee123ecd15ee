//! The command line: exit statuses, one-line errors with hints, the policy schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::*;

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    lines[0]
}

#[test]
fn echo_json_round_trips_and_exit_status_is_the_tools_own() {
    let echo = tool("echo-json");
    let r = run_with_stdin(&["run", s(&echo)], br#"{"q":[1,2]}"#);
    assert_eq!((r.code, r.stdout.trim()), (0, r#"{"echo":{"q":[1,2]}}"#), "{}", r.stderr);
    let r = run_with_stdin(&["run", s(&echo)], b"not json");
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn malformed_policy_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "version = 1\n[network]\nallow = [\"https://ok.example\", \"nope\"]\n").unwrap();
    let r = run(&["run", "--policy", s(&f), s(&tool("echo-json"))]);
    assert_eq!(r.code, 125);
    let line = one_line(&r.stderr);
    assert!(line.contains("bad.toml:3:32: invalid endpoint `nope`: a port is required"), "{line}");
    std::fs::write(&f, "[limits]\ntimeout = 30\n").unwrap();
    let r = run(&["run", "--policy", s(&f), s(&tool("echo-json"))]);
    assert_eq!(r.code, 125);
    assert!(one_line(&r.stderr).contains("bad.toml:2:11:"), "{}", r.stderr);
    let r = run(&["run", "--policy", "/no/such/policy.toml", s(&tool("echo-json"))]);
    assert_eq!(r.code, 125);
    assert!(one_line(&r.stderr).contains("cannot read policy /no/such/policy.toml"));
}

#[test]
fn malformed_flags_fail_with_125_and_a_hint() {
    let echo = tool("echo-json");
    for (flag, value, expect) in [
        ("--allow-net", "10.0.0.5", "a port is required"),
        ("--allow-net", "ftp://x.example:21", "unknown scheme"),
        ("--allow-read", "/definitely/not/here", "No such file"),
        ("--allow-env", "BAD-NAME", "invalid environment variable"),
        ("--resolve", "api.example.com", "missing `:ADDR`"),
        ("--timeout", "soon", "invalid duration"),
        ("--memory", "lots", "invalid size"),
        ("--resolver", "dns.example", "not an IP:PORT"),
    ] {
        let r = run(&["run", flag, value, s(&echo)]);
        assert_eq!(r.code, 125, "{flag} {value}");
        let line = one_line(&r.stderr);
        assert!(line.starts_with("mcp-sandbox: "), "{line}");
        assert!(line.contains(expect), "{flag} {value}: {line}");
        assert!(line.contains("; "), "a hint follows: {line}");
    }
    let r = run(&["run", "--no-such-flag", s(&echo)]);
    assert_eq!(r.code, 125);
    assert!(one_line(&r.stderr).contains("--help"));
}

#[test]
fn tools_that_cannot_be_loaded_exit_126() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm\x0d\0\x01\0garbage").unwrap();
    for (path, expect) in [
        ("/no/such/tool.wasm", "cannot read tool"),
        (s(&core), "core WebAssembly module, not a component"),
        (s(&text), "not a WebAssembly file"),
        (s(&broken), "cannot load tool"),
    ] {
        let r = run(&["run", path]);
        assert_eq!(r.code, 126, "{path}: {}", r.stderr);
        assert!(one_line(&r.stderr).contains(expect), "{path}: {}", r.stderr);
    }
}

#[test]
fn help_shows_examples() {
    let r = run(&["run", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:") && r.stdout.contains("--allow-net"));
}

#[test]
fn committed_schema_matches_the_policy_types() {
    let r = run(&["policy", "schema"]);
    assert_eq!(r.code, 0);
    let committed = std::fs::read_to_string(root().join("policies/policy.schema.json")).unwrap();
    assert_eq!(r.stdout, committed, "regenerate with: mcp-sandbox policy schema > policies/policy.schema.json");
}

#[test]
fn every_example_policy_validates() {
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let r = run(&["policy", "check", s(&path)]);
            assert_eq!(r.code, 0, "{}: {}", path.display(), r.stderr);
        }
    }
}

#[test]
fn the_audit_log_records_each_invocation_from_grant_to_exit() {
    let sink = TcpSink::start("127.0.0.1");
    let target = sink.addr.to_string();
    let r = run(&["run", "--allow-env", "TOKEN=s3cr3t-value", s(&tool("tcp-ping")), "--", &target]);
    let kinds: Vec<&str> = r.audit.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"grant.issued"));
    assert!(kinds.contains(&"deny"));
    assert_eq!(&kinds[kinds.len() - 2..], ["grant.revoked", "exit"]);
    let id = r.audit[0]["invocation"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    for e in &r.audit {
        assert_eq!(e["invocation"], id);
        assert!(e["tool"].as_str().unwrap().starts_with("sha256:"));
        assert!(e["ts"].as_str().unwrap().ends_with('Z'));
    }
    let deny = r.denials("net.connect")[0];
    assert_eq!(deny["target"], format!("tcp://{target}"));
    // What the log says is what happened: the listener got nothing.
    assert_eq!(sink.connections(), 0, "{}", sink.received());
    assert_eq!(deny["reason"], "not declared");
    assert_eq!(r.audit[0]["detail"]["env"][0], "TOKEN");
    assert!(!serde_json::to_string(&r.audit).unwrap().contains("s3cr3t-value"));
    // A second invocation gets a different grant.
    let again = run(&["run", s(&tool("echo-json"))]);
    assert_ne!(again.audit[0]["invocation"], r.audit[0]["invocation"]);
}

#[test]
fn the_second_run_of_a_tool_loads_it_from_the_disk_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("c");
    let echo = tool("echo-json");
    let run_in = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
            .args(["run", s(&echo)])
            .env("MCP_SANDBOX_CACHE", dir)
            .stdin(json_stdin())
            .output()
            .unwrap()
    };
    let first = run_in(&dir);
    assert!(first.status.success());
    let entries: Vec<_> = walk(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "cwasm")).collect();
    assert_eq!(entries.len(), 1, "one compiled artifact, named for the tool's digest");
    let modified = std::fs::metadata(&entries[0]).unwrap().modified().unwrap();
    assert!(run_in(&dir).status.success());
    assert_eq!(std::fs::metadata(&entries[0]).unwrap().modified().unwrap(), modified, "reused, not rewritten");
}

/// A cache root holding, under echo-json's name, the compiled artifact of another tool
/// (read-file): loaded, it makes `run echo-json` print read-file's usage instead of the echo.
struct Planted {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    /// Where echo-json's entry goes, and read-file's real artifact, to plant there.
    entry: std::path::PathBuf,
    artifact: std::path::PathBuf,
}

fn run_cached(root: &std::path::Path, tool_name: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", s(&tool(tool_name))])
        .env("MCP_SANDBOX_CACHE", root)
        .stdin(json_stdin())
        .output()
        .unwrap()
}

fn cwasm_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    walk(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "cwasm")).collect()
}

impl Planted {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cache");
        // read-file compiled into the cache: its artifact, in the engine's directory.
        run_cached(&root, "read-file");
        let artifact = cwasm_files(&root).pop().expect("read-file's artifact");
        let moved = dir.path().join("read-file.cwasm");
        std::fs::rename(&artifact, &moved).unwrap();
        // echo-json's entry: named for its digest, as the audit log gives it.
        let digest = run(&["run", s(&tool("echo-json"))]).audit[0]["tool"].as_str().unwrap().replace("sha256:", "");
        let entry = artifact.with_file_name(format!("{digest}.cwasm"));
        Planted { _dir: dir, root, entry, artifact: moved }
    }

    /// Plants read-file's artifact as echo-json's entry, with `mode`.
    fn plant(&self, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_file(&self.entry);
        std::fs::copy(&self.artifact, &self.entry).unwrap();
        std::fs::set_permissions(&self.entry, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Runs echo-json with this cache: true if its own code ran, false if the planted one did.
    fn echo_ran(&self) -> bool {
        let out = run_cached(&self.root, "echo-json");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match (out.status.code(), stdout.trim()) {
            (Some(0), r#"{"echo":{}}"#) => true,
            (Some(1), "") if stderr.contains("usage: read-file") => false,
            other => panic!("neither tool ran: {other:?} {stderr}"),
        }
    }
}

/// Loading a compiled artifact runs its machine code, so only a regular file owned by us and
/// writable by nobody else is loaded. Judged by which code runs: the planted artifact is
/// another tool's.
#[test]
fn cache_entries_others_could_have_written_are_not_loaded() {
    let p = Planted::new();
    // Positive control: planted as the cache itself writes entries, it is loaded.
    p.plant(0o600);
    assert!(!p.echo_ran(), "the planted artifact is loaded when it passes the checks");
    for mode in [0o666, 0o620] {
        p.plant(mode);
        assert!(p.echo_ran(), "an entry with mode {mode:o} was loaded");
    }
    // Not a regular file: a symlink (ours) to the planted artifact.
    let _ = std::fs::remove_file(&p.entry);
    std::os::unix::fs::symlink(&p.artifact, &p.entry).unwrap();
    assert!(p.echo_ran(), "a symlinked entry was loaded");
    // Owned by someone else (needs root to plant).
    if is_root() {
        p.plant(0o600);
        std::os::unix::fs::chown(&p.entry, Some(65534), Some(65534)).unwrap();
        assert!(p.echo_ran(), "an entry owned by another user was loaded");
    } else {
        skipped("cache_entries_others_could_have_written_are_not_loaded", "planting a foreign-owned entry needs root");
    }
}

#[test]
fn a_cache_directory_others_can_write_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let p = Planted::new();
    p.plant(0o600);
    std::fs::set_permissions(&p.root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = run_cached(&p.root, "echo-json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"echo":{}}"#, "echo-json's own code ran: {stderr}");
    assert!(
        stderr.contains("compiled-component cache disabled") && stderr.contains("writable by group or others"),
        "{stderr}"
    );
    // Nothing was written to it either.
    assert_eq!(cwasm_files(&p.root), std::slice::from_ref(&p.entry));
    // Positive control: the same directory, closed again, is trusted and its entry loaded.
    std::fs::set_permissions(&p.root, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!p.echo_ran());
}

fn json_stdin() -> std::process::Stdio {
    let mut f = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut f, b"{}").unwrap();
    std::io::Seek::rewind(&mut f).unwrap();
    f.into()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
