//! More real third-party MCP servers under `mcp-sandbox proxy`, wrapped as a user would write
//! them in a host's configuration, driven by the official Python SDK client
//! (`tests/mcp/more_client.py`: tools, resources, prompts, sampling, roots, logging, progress).
//! `./dev test` installs them beside the reference servers in `target/refservers`
//! (`mcp-server-sqlite` in a venv of its own, `venv-sqlite`: it needs the 1.x SDK, `@modelcontextprotocol/server-everything` in its npm tree);
//! `MCP_SANDBOX_REFSERVERS=DIR` runs them from another install of the same layout.
//!
//! * `mcp-server-sqlite --db-path FILE`: the database is where an argument says. Outside the
//!   grant the server cannot create it, and `initialize` is answered with the flag that grants
//!   it (which, followed, works: the rows are on the host's disk). Under `/tmp` without a grant
//!   it "works" in the sandbox's private `/tmp`, and nothing reaches the host: `proxy` says so
//!   at start, with the flag.
//! * `server-everything`: every protocol feature a host uses passes through the relay.
//! * A script that calls a tool without listing first: the proxy lists for it and judges the
//!   listing against the pins (a tool whose pin no longer matches stays withheld).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::{python, refservers, root, s, sdk_session};

/// `REL` in the reference servers' install (`target/refservers`, or `$MCP_SANDBOX_REFSERVERS`).
fn installed(rel: &str) -> String {
    s(&refservers(rel)).to_string()
}

/// One session through `mcp-sandbox proxy PROXY_ARGS`: the client's result and the proxy's stderr.
fn session(proxy_args: &[String], steps: &Value, roots: &[&str]) -> (Value, String) {
    sdk_session("more_client.py", &[steps.to_string(), json!(roots).to_string()], proxy_args, &[], None)
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

/// A step's result, asserting it got one.
fn ok<'a>(v: &'a Value, label: &str) -> &'a Value {
    v[label].get("ok").unwrap_or_else(|| panic!("`{label}` got no result: {v}"))
}

/// A call's text, asserting whether it was an error.
fn text<'a>(v: &'a Value, label: &str, is_error: bool) -> &'a str {
    let r = ok(v, label);
    assert_eq!(r["is_error"], is_error, "`{label}`: {v}");
    r["text"].as_str().unwrap()
}

/// The rows of table `t` in the SQLite database `db`, read on the host.
fn host_rows(db: &Path) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT name FROM t').fetchall())",
        ])
        .arg(db)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sqlite_steps() -> Value {
    json!([
        {"label": "tools", "op": "tools"},
        {"label": "create", "op": "call", "name": "create_table",
         "arguments": {"query": "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"}},
        {"label": "insert", "op": "call", "name": "write_query",
         "arguments": {"query": "INSERT INTO t (name) VALUES ('from the sandbox')"}},
        {"label": "select", "op": "call", "name": "read_query", "arguments": {"query": "SELECT name FROM t"}},
    ])
}

/// The flag a hint names (`--allow-write DIR`), cut from `text`.
fn flag_in(text: &str) -> String {
    let at = text.find("--allow-write ").unwrap_or_else(|| panic!("no --allow-write in: {text}"));
    text[at + "--allow-write ".len()..].split([' ', ';', '\n']).next().unwrap().to_string()
}

#[test]
fn sqlite_outside_its_grant_is_told_the_flag_and_following_it_works() {
    // Not under /tmp (the sandbox's private /tmp would take it): beside the build.
    let dir = tempfile::tempdir_in(root().join("target")).unwrap();
    let data = dir.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("app.db");
    let pins = s(&dir.path().join("pins.json")).to_string();
    let server = installed("venv-sqlite/bin/mcp-server-sqlite");
    let (v, stderr) = session(&strings(&["--pins", &pins, "--", &server, "--db-path", s(&db)]), &sqlite_steps(), &[]);
    // It cannot start: initialize is answered with why, naming the directory to grant.
    let why = v["initialize"]["error"].as_str().unwrap_or_else(|| panic!("initialize was not refused: {v}"));
    assert_eq!(flag_in(why), s(&data), "{why}");
    assert!(
        stderr.contains(&format!("note: the server's argument `{}` names a path outside its grant", s(&db))),
        "{stderr}"
    );
    assert!(!db.exists());
    // Following it: the server works, and what it wrote is on the host's disk.
    let args = strings(&["--pins", &pins, "--allow-write", &flag_in(why), "--", &server, "--db-path", s(&db)]);
    let (v, stderr) = session(&args, &sqlite_steps(), &[]);
    assert!(ok(&v, "tools").as_array().unwrap().contains(&json!("write_query")), "{v}\n{stderr}");
    text(&v, "create", false);
    text(&v, "insert", false);
    assert!(text(&v, "select", false).contains("from the sandbox"), "{v}");
    assert_eq!(host_rows(&db), "[('from the sandbox',)]");
    assert!(!stderr.contains("outside its grant"), "granted: no note: {stderr}");
}

#[test]
fn sqlite_under_tmp_without_a_grant_writes_nothing_to_the_host_and_is_told_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("app.db");
    let pins = s(&dir.path().join("pins.json")).to_string();
    let server = installed("venv-sqlite/bin/mcp-server-sqlite");
    // Not granted: the server works in its private /tmp; the host's directory stays empty.
    let (v, stderr) = session(&strings(&["--pins", &pins, "--", &server, "--db-path", s(&db)]), &sqlite_steps(), &[]);
    assert!(text(&v, "select", false).contains("from the sandbox"), "{v}\n{stderr}");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0, "nothing reached the host");
    let note =
        stderr.lines().find(|l| l.contains("names a path outside its grant")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(note.contains("its private /tmp (what it writes there is lost"), "{note}");
    // The control: with the flag the note names, the same session lands on the host's disk.
    let args = strings(&["--pins", &pins, "--allow-write", &flag_in(note), "--", &server, "--db-path", s(&db)]);
    let (v, stderr) = session(&args, &sqlite_steps(), &[]);
    text(&v, "insert", false);
    assert_eq!(host_rows(&db), "[('from the sandbox',)]", "{stderr}");
}

#[test]
fn everything_passes_sampling_roots_progress_logging_resources_and_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let pins = s(&dir.path().join("pins.json")).to_string();
    let server = installed("node/node_modules/.bin/mcp-server-everything");
    let steps = json!([
        {"label": "tools", "op": "tools"},
        {"label": "resources", "op": "resources"},
        {"label": "templates", "op": "templates"},
        {"label": "prompts", "op": "prompts"},
        {"label": "echo", "op": "call", "name": "echo", "arguments": {"message": "hi"}},
        {"label": "sum", "op": "call", "name": "get-sum", "arguments": {"a": 2, "b": 3}},
        {"label": "structured", "op": "call", "name": "get-structured-content", "arguments": {"location": "Chicago"}},
        {"label": "long", "op": "call", "name": "trigger-long-running-operation",
         "arguments": {"duration": 1, "steps": 4}},
        {"label": "sampling", "op": "call", "name": "trigger-sampling-request",
         "arguments": {"prompt": "hello", "maxTokens": 10}},
        {"label": "roots", "op": "call", "name": "get-roots-list", "arguments": {}},
        {"label": "read", "op": "read", "uri": "demo://resource/static/document/features.md"},
        {"label": "prompt", "op": "prompt", "name": "args-prompt", "arguments": {"city": "Paris"}},
        {"label": "env", "op": "call", "name": "get-env", "arguments": {}},
    ]);
    let (v, stderr) =
        session(&strings(&["--pins", &pins, "--", &server, "stdio"]), &steps, &["file:///srv/roots-test"]);
    assert_eq!(v["info"], "mcp-servers/everything", "{v}\n{stderr}");
    let tools = ok(&v, "tools").as_array().unwrap();
    assert!(tools.len() >= 10 && tools.contains(&json!("trigger-sampling-request")), "{v}");
    assert!(!ok(&v, "resources").as_array().unwrap().is_empty(), "{v}");
    assert!(!ok(&v, "templates").as_array().unwrap().is_empty(), "{v}");
    assert!(ok(&v, "prompts").as_array().unwrap().contains(&json!("args-prompt")), "{v}");
    assert_eq!(text(&v, "echo", false), "Echo: hi");
    assert!(text(&v, "sum", false).contains('5'), "{v}");
    assert!(ok(&v, "structured")["structured"].is_object(), "structured content is relayed: {v}");
    // Progress notifications of the call, in order, reach the client.
    assert_eq!(v["progress"], json!([1.0, 2.0, 3.0, 4.0]), "{v}");
    // The server's request to the client (sampling), answered by the client, through the relay.
    assert!(text(&v, "sampling", false).contains("sampled by the client"), "{v}");
    assert!(text(&v, "roots", false).contains("file:///srv/roots-test"), "{v}");
    assert!(v["logs"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("Roots updated")), "{v}");
    assert!(ok(&v, "read")[0].as_str().unwrap().contains("Everything Server"), "{v}");
    assert!(ok(&v, "prompt")[0].as_str().unwrap().contains("Paris"), "{v}");
    // Its environment is the sandbox's: the proxy variables, no variable of the host's.
    let env = text(&v, "env", false);
    assert!(env.contains("HTTPS_PROXY") && !env.contains("CARGO"), "{env}");
}

#[test]
fn a_script_that_calls_before_listing_gets_its_call_judged_against_the_pins() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    let (db, pins) = (data.join("app.db"), dir.path().join("pins.json"));
    let server = installed("venv-sqlite/bin/mcp-server-sqlite");
    let args = strings(&["--pins", s(&pins), "--allow-write", s(&data), "--", &server, "--db-path", s(&db)]);
    // No `tools/list` step: initialize, then the calls, as a script against the SDK writes it.
    let calls = |rows: &[&str]| {
        let mut steps = vec![json!({"label": "create", "op": "call", "name": "create_table",
            "arguments": {"query": "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)"}})];
        for (i, r) in rows.iter().enumerate() {
            steps.push(json!({"label": format!("insert{i}"), "op": "call", "name": "write_query",
                "arguments": {"query": format!("INSERT INTO t (name) VALUES ('{r}')")}}));
        }
        Value::Array(steps)
    };
    let (v, stderr) = session(&args, &calls(&["first"]), &[]);
    assert!(v.get("tools").is_none());
    text(&v, "create", false);
    text(&v, "insert0", false);
    assert_eq!(host_rows(&db), "[('first',)]", "{stderr}");
    // `write_query`'s pin no longer matches what the server lists (as after an update that
    // changed it): the call is withheld, the row never written; the tool pinned as it is works.
    let text_of_pins = std::fs::read_to_string(&pins).unwrap();
    let mut p: Value = serde_json::from_str(&text_of_pins).unwrap();
    let servers = p["servers"].as_object_mut().unwrap();
    let entry = servers.values_mut().next().unwrap();
    entry["tools"]["write_query"]["sha256"] = json!("0".repeat(64));
    std::fs::write(&pins, p.to_string()).unwrap();
    let (v, stderr) = session(&args, &calls(&["second"]), &[]);
    text(&v, "create", false);
    let refused = v["insert0"]["error"].as_str().unwrap_or_else(|| panic!("{v}\n{stderr}"));
    assert!(refused.contains("withheld"), "{refused}");
    assert_eq!(host_rows(&db), "[('first',)]", "the withheld call wrote nothing");
}
