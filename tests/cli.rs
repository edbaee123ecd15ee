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

#[test]
fn a_cache_directory_others_can_write_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", s(&tool("echo-json"))])
        .env("MCP_SANDBOX_CACHE", cache.path())
        .stdin(json_stdin())
        .output()
        .unwrap();
    assert!(out.status.success(), "the tool still runs, compiled afresh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("compiled-component cache disabled") && stderr.contains("writable by group or others"),
        "{stderr}"
    );
    assert!(walk(cache.path()).iter().all(|p| p.extension().is_none_or(|e| e != "cwasm")));
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
