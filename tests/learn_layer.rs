//! `mcp-sandbox learn` never writes the host: a learning tool's writes land in a throw-away
//! layer (native: an overlay on a private tmpfs; WebAssembly: a private copy preopened at the
//! directory's path), are recorded, and the derived policy grants them. Judged by what is on
//! disk after each run, with `run --allow-write` as the positive control (the same tool writes
//! the host there), and by the audit log of the run under the derived policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::path::{Path, PathBuf};
use support::*;

/// Creates `new.txt`, rewrites `existing.txt`, then prints both back (what it sees).
const WRITER: &str = "#!/bin/sh\nset -e\necho new > \"$1/new.txt\"\necho changed > \"$1/existing.txt\"\ncat \"$1/new.txt\" \"$1/existing.txt\"\n";

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::write(root.join("d/existing.txt"), "original\n").unwrap();
        let tool = root.join("writer.sh");
        std::fs::write(&tool, WRITER).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The unprivileged re-run: the tool's user must reach the workspace.
        for p in [&root, &root.join("d")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        Workspace { _dir: dir, root }
    }

    fn path(&self, rel: &str) -> String {
        s(&self.root.join(rel)).to_string()
    }

    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn learn(w: &Workspace, flags: &[String], tool: &str, tool_args: &[String]) -> Run {
    let mut a = vec!["learn".to_string(), "-p".into(), w.path("p.json"), "-o".into(), w.path("p.toml")];
    a.extend(flags.iter().cloned());
    a.push(tool.to_string());
    a.extend(tool_args.iter().cloned());
    run(&args(&a))
}

fn profile(w: &Workspace) -> serde_json::Value {
    serde_json::from_str(&w.read("p.json").expect("a profile was written")).unwrap()
}

#[test]
fn native_writes_land_in_a_throwaway_layer_and_the_learned_policy_grants_them() {
    // Control: the same tool, granted the directory writable, writes the host.
    let w = Workspace::new();
    let d = w.path("d");
    let r = run(&["run", &format!("--allow-write={d}"), &w.path("writer.sh"), &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(w.read("d/new.txt").as_deref(), Some("new\n"), "control: run writes the host");
    assert_eq!(w.read("d/existing.txt").as_deref(), Some("changed\n"));

    // Learning, with the same flag: the tool sees its writes, the host does not.
    let w = Workspace::new();
    let d = w.path("d");
    let flags = ["--no-host-view".to_string(), format!("--allow-write={d}")];
    let r = learn(&w, &flags, &w.path("writer.sh"), std::slice::from_ref(&d));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "new\nchanged\n", "the tool sees its own writes");
    assert_eq!(w.read("d/new.txt"), None, "a file the learning tool made is not on the host");
    assert_eq!(w.read("d/existing.txt").as_deref(), Some("original\n"), "nor is its rewrite");
    let p = profile(&w);
    for f in ["new.txt", "existing.txt"] {
        assert!(p["writes"].get(format!("{d}/{f}")).is_some(), "the write of {f} is recorded: {p:#}");
    }
    let policy = w.read("p.toml").unwrap();
    assert!(policy.contains("write = ["), "{policy}");

    // The derived policy runs the tool for real: no denial, and now the host is written.
    let r = run(&["run", "--policy", &w.path("p.toml"), &w.path("writer.sh"), &d]);
    assert_eq!(r.code, 0, "{}\n{policy}", r.stderr);
    assert!(r.events("deny").is_empty(), "{:?}\n{policy}", r.events("deny"));
    assert_eq!(w.read("d/new.txt").as_deref(), Some("new\n"));
    assert_eq!(w.read("d/existing.txt").as_deref(), Some("changed\n"));
}

#[test]
fn native_writes_into_the_host_view_land_in_the_layer_too() {
    let w = Workspace::new();
    let d = w.path("d");
    // No flag: the directory is in the learning view (the tool is pointed at it).
    let r = learn(&w, &[], &w.path("writer.sh"), std::slice::from_ref(&d));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("throw-away layer"), "{}", r.stderr);
    assert_eq!(w.read("d/new.txt"), None, "not on the host");
    assert_eq!(w.read("d/existing.txt").as_deref(), Some("original\n"));
    let r = run(&["run", "--policy", &w.path("p.toml"), &w.path("writer.sh"), &d]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, w.read("p.toml").unwrap());
    assert!(r.events("deny").is_empty(), "{:?}", r.events("deny"));
    assert_eq!(w.read("d/new.txt").as_deref(), Some("new\n"));
}

#[test]
fn a_native_layer_that_cannot_be_made_refuses_to_learn() {
    let w = Workspace::new();
    // A writable single file is copied into the layer; one beyond MAX_LAYER_FILE cannot be
    // (sparse: it takes no disk).
    let big = w.root.join("d/big.log");
    std::fs::File::create(&big).unwrap().set_len(65 << 20).unwrap();
    let tool = w.root.join("append.sh");
    std::fs::write(&tool, "#!/bin/sh\necho appended >> \"$1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o666)).unwrap();
    let flags = ["--no-host-view".to_string(), format!("--allow-write={}", s(&big))];
    let r = learn(&w, &flags, s(&tool), &[s(&big).to_string()]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("write layer") && r.stderr.contains("MAX_LAYER_FILE"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing learned"), "{}", r.stderr);
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 65 << 20, "the host file is untouched");
    assert!(w.read("p.json").is_none() && w.read("p.toml").is_none(), "nothing written");
    // Control: the same grant under `run` appends to the host file.
    let r = run(&["run", &format!("--allow-write={}", s(&big)), s(&tool), s(&big)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::metadata(&big).unwrap().len() > 65 << 20, "control: run writes it");
}

fn wasm_learn(w: &Workspace, flags: &[String], out: &Path) -> Run {
    let tool = support::tool("write-file");
    learn(w, flags, s(&tool), &[s(out).to_string(), "hello".into()])
}

#[test]
fn a_webassembly_tool_writes_a_private_copy_while_learning() {
    let tool = support::tool("write-file");
    // Control: granted writable under `run`, the component writes the host.
    let w = Workspace::new();
    let out = w.root.join("d/out.txt");
    let r = run(&["run", &format!("--allow-write={}", w.path("d")), s(&tool), s(&out), "hello"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(w.read("d/out.txt").as_deref(), Some("hello"));

    let w = Workspace::new();
    let out = w.root.join("d/out.txt");
    let flags = ["--no-host-view".to_string(), format!("--allow-write={}", w.path("d"))];
    let r = wasm_learn(&w, &flags, &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wrote"), "the tool's write succeeded in its copy: {}", r.stdout);
    assert_eq!(w.read("d/out.txt"), None, "not on the host");
    assert!(profile(&w)["writes"].get(s(&out)).is_some(), "{:#}", profile(&w));
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("mcp-sandbox-layer-"))
        .count();
    assert_eq!(leftovers, 0, "the copies are removed when the call ends");
    let r = run(&["run", "--policy", &w.path("p.toml"), s(&tool), s(&out), "hello"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, w.read("p.toml").unwrap());
    assert!(r.events("deny").is_empty(), "{:?}", r.events("deny"));
    assert_eq!(w.read("d/out.txt").as_deref(), Some("hello"));
}

#[test]
fn a_webassembly_layer_beyond_its_bound_refuses_to_learn() {
    let w = Workspace::new();
    // Sparse: beyond MAX_LAYER_BYTES by size, nothing on disk.
    std::fs::File::create(w.root.join("d/big.bin")).unwrap().set_len(257 << 20).unwrap();
    let out = w.root.join("d/out.txt");
    let flags = ["--no-host-view".to_string(), format!("--allow-write={}", w.path("d"))];
    let r = wasm_learn(&w, &flags, &out);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("learning write layer") && r.stderr.contains("MAX_LAYER_BYTES"), "{}", r.stderr);
    assert_eq!(w.read("d/out.txt"), None);
    assert!(w.read("p.json").is_none() && w.read("p.toml").is_none(), "nothing written");
}
