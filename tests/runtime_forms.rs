//! The forms MCP hosts launch servers in, beyond a program and its script: `npx -y PACKAGE`
//! (offline, from the cache of mcp-sandbox's that `./dev test` fills), a pyenv shim (resolved
//! to the interpreter it would run) and a venv with an editable install (the source tree its
//! `.pth` file names). Each with a positive control: the same form fails without what the
//! resolution grants (an empty cache, the shim run as it is) or works on the host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

/// `npx -y PACKAGE DATA` with no registry declared: it runs from the npx cache `./dev test`
/// filled (`target/refservers/sandbox-cache`, as `$MCP_SANDBOX_CACHE`). Control: the same
/// command with an empty cache cannot start, and says to declare the registry.
#[test]
fn npx_runs_offline_from_its_cache_and_only_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.json");
    let data = dir.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("in.txt"), "via npx\n").unwrap();
    let args =
        strings(&["--pins", s(&pins), "--allow-write", s(&data), "--", "npx", "-y", FILESYSTEM_PACKAGE, s(&data)]);
    let calls = json!([{"label": "read", "name": "read_text_file", "arguments": {"path": s(&data.join("in.txt"))}}]);
    let cache = refservers("sandbox-cache");
    let (v, stderr) = ref_session(&args, &calls, &[("MCP_SANDBOX_CACHE", s(&cache).to_string())]);
    assert!(tool_names(&v).contains(&"read_text_file".to_string()), "{stderr}");
    assert_eq!(call_text(&v, "read", false), "via npx\n");
    // Control: an empty cache of mcp-sandbox's, the same command.
    let empty = tempfile::tempdir().unwrap();
    let (v, stderr) = ref_session(&args, &calls, &[("MCP_SANDBOX_CACHE", s(empty.path()).to_string())]);
    let e = v["initialize"]["error"].as_str().unwrap_or_else(|| panic!("no error for initialize: {v}\n{stderr}"));
    assert!(e.contains("--allow-net https://registry.npmjs.org"), "the fix names the registry: {e}");
}

/// A pyenv-like root (`PYENV_ROOT`) of the test's own: a shim written as pyenv writes them, and
/// version `3.99.0` whose `bin/python3` is the SDK's base interpreter.
fn pyenv_root(dir: &Path) -> PathBuf {
    let root = dir.join("pyenv");
    let out = Command::new(python()).args(["-c", "import sys; print(sys._base_executable)"]).output().unwrap();
    let base = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::create_dir_all(root.join("shims")).unwrap();
    std::fs::create_dir_all(root.join("versions/3.99.0/bin")).unwrap();
    std::os::unix::fs::symlink(&base, root.join("versions/3.99.0/bin/python3")).unwrap();
    let shim = format!(
        "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${{0##*/}}\"\n\n\
         export PYENV_ROOT=\"{r}\"\nexec \"{r}/libexec/pyenv\" exec \"$program\" \"$@\"\n",
        r = s(&root)
    );
    std::fs::write(root.join("shims/python3"), shim).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("shims/python3"), std::fs::Permissions::from_mode(0o755)).unwrap();
    root
}

#[test]
fn a_pyenv_shim_runs_as_the_interpreter_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = pyenv_root(&dir.path().canonicalize().unwrap());
    let shim = root.join("shims/python3");
    let code = "import sys; print('shim-ok', sys.version_info[0])";
    let r = run_env(&["run", "--verbose", s(&shim), "-c", code], &[("PYENV_VERSION", "3.99.0")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "shim-ok 3", "{}", r.stderr);
    assert!(r.stderr.contains(&format!("instead of {} (pyenv shim: version 3.99.0", s(&shim))), "{}", r.stderr);
    // Control: a version the root does not hold leaves the shim as it is, and pyenv (absent
    // here, as it would be in the sandbox) is what fails.
    let r = run_env(&["run", s(&shim), "-c", code], &[("PYENV_VERSION", "3.98.0")]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("shim-ok"), "{}", r.stdout);
}

#[test]
fn an_editable_install_in_a_venv_is_importable_and_its_neighbours_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    let out = Command::new(python()).args(["-c", "import sys; print(sys._base_executable)"]).output().unwrap();
    let base = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let venv = top.join("venv");
    let made = Command::new(&base).args(["-m", "venv", "--without-pip"]).arg(&venv).output().unwrap();
    assert!(made.status.success(), "python -m venv: {}", String::from_utf8_lossy(&made.stderr));
    // The project under development: `src/edpkg`, listed by a `.pth` file (what `pip install -e`
    // with a path-based backend leaves); a secret beside `src`.
    let src = top.join("project/src");
    std::fs::create_dir_all(src.join("edpkg")).unwrap();
    std::fs::write(src.join("edpkg/__init__.py"), "VALUE = 'editable-ok'\n").unwrap();
    std::fs::write(top.join("project/secret.txt"), "top secret\n").unwrap();
    let site = std::fs::read_dir(venv.join("lib")).unwrap().next().unwrap().unwrap().path().join("site-packages");
    std::fs::write(site.join("_edpkg.pth"), format!("{}\n", s(&src))).unwrap();
    let code = format!(
        "import edpkg; print(edpkg.VALUE)\ntry:\n    open({:?}).read(); print('SECRET-READ')\nexcept OSError:\n    print('SECRET-DENIED')\n",
        s(&top.join("project/secret.txt"))
    );
    let python = venv.join("bin/python");
    // Control: on the host, the same interpreter imports it and reads the secret.
    let host = Command::new(&python).args(["-c", &code]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&host.stdout), "editable-ok\nSECRET-READ\n");
    let r = run(&["run", "--verbose", s(&python), "-c", &code]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "editable-ok\nSECRET-DENIED\n", "{}", r.stderr);
    assert!(r.stderr.contains(&format!("granted read+exec {} (runtime: editable install", s(&src))), "{}", r.stderr);
}

/// A stdio MCP server in plain JavaScript (no dependencies): one tool, `where`, answering the
/// directory it runs in and the first line of `./data.txt`, read relative to it.
const NODE_SERVER: &str = r#"const fs = require('fs');
let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    if (m.id === undefined) continue;
    if (m.method === 'initialize') {
      send({jsonrpc: '2.0', id: m.id, result: {protocolVersion: m.params.protocolVersion, capabilities: {tools: {}}, serverInfo: {name: 'where', version: '1'}}});
    } else if (m.method === 'tools/list') {
      send({jsonrpc: '2.0', id: m.id, result: {tools: [{name: 'where', description: 'Where the server runs.', inputSchema: {type: 'object'}}]}});
    } else if (m.method === 'tools/call') {
      let text;
      try { text = process.cwd() + ' ' + fs.readFileSync('data.txt', 'utf8').trim(); } catch (e) { text = String(e); }
      send({jsonrpc: '2.0', id: m.id, result: {content: [{type: 'text', text}]}});
    } else {
      send({jsonrpc: '2.0', id: m.id, error: {code: -32601, message: 'no such method'}});
    }
  }
});
"#;

/// `node server.js` from the project's directory, as a host configuration with a `cwd` (or a
/// shell) starts it: the script is found relative to that directory, its package (the project,
/// by its `package.json`) is granted read-only, and the server runs there. Control: from another
/// directory the same relative script is not the project's, and nothing is found.
#[test]
fn a_node_script_given_relative_to_the_working_directory_runs_there() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    let project = top.join("my-server");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("package.json"), r#"{"name": "my-server", "version": "1.0.0"}"#).unwrap();
    std::fs::write(project.join("server.js"), NODE_SERVER).unwrap();
    std::fs::write(project.join("data.txt"), "project data\n").unwrap();
    let pins = top.join("pins.json");
    let calls = json!([{"label": "where", "name": "where", "arguments": {}}]);
    let node = ["--pins", s(&pins), "--", "node", "server.js"];
    let (v, stderr) = ref_session_in(&project, &strings(&node), &calls);
    assert_eq!(tool_names(&v), ["where"], "{stderr}");
    assert_eq!(call_text(&v, "where", false), format!("{} project data", s(&project)));
    // Control: started from the directory above, `server.js` is no file there.
    let (v, _) = ref_session_in(&top, &strings(&node), &calls);
    assert!(v["initialize"].get("ok").is_none(), "{v}");
}
