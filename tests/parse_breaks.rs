//! Crashes and inconsistencies in input parsing found by fuzzing (issue 9), on the real binary:
//! each bad value is one line on stderr with a hint, exit 125, never a panic or a hang; and
//! each hint, followed, is accepted (the positive control that the bound is where it says).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rmcp::model::CallToolRequestParams;
use rmcp::service::ServiceExt;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::json;
use support::*;
use tokio::io::AsyncReadExt;

/// A refusal as the CLI must give it: exit 125, exactly one line, no panic.
fn assert_refused(r: &Run, expected: &str) {
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {:?}", r.stderr);
    assert!(r.stderr.contains(expected), "expected {expected:?} in {:?}", r.stderr);
}

fn year(rfc3339: &serde_json::Value) -> i32 {
    rfc3339.as_str().unwrap()[..4].parse().unwrap()
}

#[test]
fn timeouts_past_the_maximum_are_refused_and_the_maximum_runs() {
    for v in ["18446744073709551615s", "10000y", "366days"] {
        let r = run(&["run", "--timeout", v, "/bin/true"]);
        assert_refused(&r, &format!("mcp-sandbox: --timeout: invalid duration `{v}`: "));
        assert!(r.stderr.contains("maximum of 1year") || r.stderr.contains("too large"), "{}", r.stderr);
        assert!(r.audit.is_empty(), "nothing was issued");
    }
    // Positive control: the maximum itself runs, and the grant's expiry is written a year on.
    let r = run(&["run", "--timeout", "1y", "/bin/true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let issued = r.events("grant.issued");
    let detail = &issued[0]["detail"];
    let (from, to) = (year(&detail["issued_at"]), year(&detail["expires_at"]));
    assert!(to == from + 1 || to == from + 2, "{detail}");
}

#[test]
fn policy_check_refuses_limits_past_the_maxima_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.toml");
    let check = |body: &str| {
        std::fs::write(&f, body).unwrap();
        run(&["policy", "check", s(&f)])
    };
    let r = check("[limits]\ntimeout = \"18446744073709551615s\"\n");
    assert_refused(&r, "p.toml:2:11: invalid timeout `18446744073709551615s`: ");
    let r = check("[limits]\nmemory = \"2TiB\"\n");
    assert_refused(&r, "p.toml:2:10: invalid memory limit `2TiB`: larger than the maximum of 1TiB");
    let r = check("[limits]\noutput = \"18446744073709551615\"\n");
    assert_refused(&r, "invalid output limit `18446744073709551615`: larger than the maximum of 1GiB");
    // Positive control: the maxima themselves are accepted.
    let r = check("[limits]\ntimeout = \"1y\"\nmemory = \"1TiB\"\noutput = \"1GiB\"\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(p["limits"], json!({ "timeout": "1year", "memory": 1u64 << 40, "output": 1u64 << 30 }));
}

/// `serve` loaded a manifest whose limit overflowed later, and every call to it panicked a
/// worker without a reply. Now the manifest is skipped with one line, and a tool at the
/// maximum is listed and answers.
#[tokio::test]
async fn serve_skips_manifests_past_the_maxima_and_answers_calls_at_them() {
    tool("echo-json");
    let dir = tempfile::tempdir().unwrap();
    let wasm = root().join("sample-tools/target/wasm32-wasip2/release/echo-json.wasm");
    let manifest = |name: &str, extra: &str| {
        let body = format!("name = \"{name}\"\nwasm = \"{}\"\n[input_schema]\ntype = \"object\"\n{extra}", s(&wasm));
        std::fs::write(dir.path().join(format!("{name}.toml")), body).unwrap();
    };
    manifest("past-max", "[policy.limits]\ntimeout = \"10000y\"\n");
    manifest("numeric-host", "[policy.network]\nallow = [\"0x7f.0.0.1:80\"]\n");
    manifest("at-max", "[policy.limits]\ntimeout = \"1y\"\nmemory = \"1TiB\"\n");
    let (transport, stderr) =
        TokioChildProcess::builder(tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).configure(|c| {
            c.arg("serve").arg("--tools").arg(dir.path());
        }))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    let names: Vec<String> = client.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["at-max"]);
    let mut params = CallToolRequestParams::new("at-max");
    params = params.with_arguments(json!({ "message": "hi" }).as_object().unwrap().clone());
    let r = client.call_tool(params).await.expect("the call is answered");
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let text: String = r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), json!({ "echo": { "message": "hi" } }));
    client.cancel().await.unwrap();
    let mut err = String::new();
    stderr.unwrap().read_to_string(&mut err).await.unwrap();
    assert!(!err.contains("panicked"), "{err}");
    let skipped = |name: &str| {
        err.lines().find(|l| l.starts_with("mcp-sandbox: skipped") && l.contains(&format!("{name}.toml:")))
    };
    let past = skipped("past-max").unwrap_or_else(|| panic!("{err}"));
    assert!(past.contains("invalid timeout `10000y`: longer than the maximum of 1year"), "{past}");
    let numeric = skipped("numeric-host").unwrap_or_else(|| panic!("{err}"));
    assert!(numeric.contains("libc reads as 127.0.0.1; write 127.0.0.1"), "{numeric}");
}

/// `0x7f000001` and `0x7f.0.0.1` were DNS names, `127.1` an error; `+1`, whitespace and
/// `[1.2.3.4]` were accepted. Each is refused, and the hint's form is accepted.
#[test]
fn non_canonical_hosts_ports_and_characters_are_refused_with_a_hint_that_works() {
    let echo = tool("echo-json");
    let try_net = |flag: &str, value: &str| run_with_stdin(&["run", flag, value, s(&echo)], b"{}");
    let cases: &[(&str, &str, &str, &str)] = &[
        ("--allow-net", "0x7f000001:80", "libc reads as 127.0.0.1; write 127.0.0.1", "127.0.0.1:80"),
        ("--allow-net", "0x7f.0.0.1:80", "libc reads as 127.0.0.1; write 127.0.0.1", "127.0.0.1:80"),
        ("--allow-net", "127.1:80", "libc reads as 127.0.0.1; write 127.0.0.1", "127.0.0.1:80"),
        ("--allow-net", "0177.0.0.1:80", "libc reads as 127.0.0.1; write 127.0.0.1", "127.0.0.1:80"),
        ("--allow-net", "a.example:+1", "`+1` is not a port", "a.example:1"),
        ("--allow-net", "a.example:0443", "`0443` is not a port", "a.example:443"),
        ("--allow-net", " a.example:1", "contains a space at byte 0", "a.example:1"),
        ("--allow-net", "a.example:1\n", "invalid endpoint `a.example:1\\n`: contains a line break", "a.example:1"),
        ("--allow-net", "[1.2.3.4]:1", "write `1.2.3.4` without them", "1.2.3.4:1"),
        ("--allow-listen", "[127.0.0.1]:8080", "write `127.0.0.1` without them", "127.0.0.1:8080"),
        ("--resolve", "a.example:[1.2.3.4]", "not an IPv6 address in brackets", "a.example:1.2.3.4"),
        ("--resolve", "a.example:127.1", "`127.1` is not an IP address", "a.example:127.0.0.1"),
    ];
    for (flag, bad, expected, fixed) in cases {
        assert_refused(&try_net(flag, bad), &format!("mcp-sandbox: {flag}: invalid "));
        assert_refused(&try_net(flag, bad), expected);
        let ok = try_net(flag, fixed);
        assert_eq!(ok.code, 0, "{flag} {fixed}: {}", ok.stderr);
    }
    // A resolver address is an IP:PORT too.
    assert_refused(&run(&["run", "--resolver", "127.1:53", s(&echo)]), "--resolver: invalid DNS server `127.1:53`");
}

#[test]
fn policy_file_endpoints_are_refused_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.toml");
    std::fs::write(&f, "[network]\nallow = [\"ok.example:1\", \"0x7f.0.0.1:80\"]\n").unwrap();
    let r = run(&["policy", "check", s(&f)]);
    assert_refused(&r, "p.toml:2:26: invalid endpoint `0x7f.0.0.1:80`: `0x7f.0.0.1` is a numeric address");
    std::fs::write(&f, "[network]\nallow = [\"ok.example:1\", \"127.0.0.1:80\"]\n").unwrap();
    let r = run(&["policy", "check", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
