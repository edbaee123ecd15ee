//! The tool's own runtime is part of the tool: a venv's `python` and console scripts, a `#!`
//! script whose interpreter lies under a non-system prefix, a Node package's bin script and
//! `node SCRIPT` run under `run` with no `--allow-exec`, with real interpreters and real
//! packages, while a file next to them stays invisible. Each is first run unconfined (the
//! positive control: the same program works and reads the secret on the host).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// The probe each tool runs: its own line, then whether it could read `secret`.
const PY_PROBE: &str = "import sys, os
def probe(secret):
    try:
        open(secret).read(); print('SECRET-READ')
    except OSError as e:
        print('SECRET-DENIED', e.errno)
";

/// A Python interpreter outside the system view (pyenv's, here), or `None` with the reason.
fn base_python() -> Option<PathBuf> {
    let out = Command::new("python3").args(["-c", "import sys; print(sys._base_executable)"]).output().ok()?;
    let exe = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let real = std::fs::canonicalize(&exe).ok()?;
    if real.starts_with("/usr") {
        eprintln!("skipped: python3 is the system's ({}), not under another prefix", real.display());
        return None;
    }
    Some(exe)
}

struct Venv {
    _dir: tempfile::TempDir,
    root: PathBuf,
    secret: PathBuf,
}

/// A real venv (`python -m venv --without-pip`) holding a real package `tinypkg`, and a secret
/// file next to it.
fn venv(base: &Path) -> Venv {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("venv");
    let made = Command::new(base).args(["-m", "venv", "--without-pip"]).arg(&root).output().unwrap();
    assert!(made.status.success(), "python -m venv: {}", String::from_utf8_lossy(&made.stderr));
    let site = std::fs::read_dir(root.join("lib")).unwrap().next().unwrap().unwrap().path().join("site-packages");
    std::fs::create_dir_all(site.join("tinypkg")).unwrap();
    std::fs::write(site.join("tinypkg/__init__.py"), "VALUE = 'tinypkg-ok'\n").unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "top secret\n").unwrap();
    Venv { _dir: dir, root, secret }
}

fn py_code(secret: &Path) -> String {
    format!("{PY_PROBE}import tinypkg\nprint(tinypkg.VALUE, sys.prefix)\nprobe({:?})\n", s(secret))
}

/// Runs `program ARGS` on the host (the positive control) and under `run`.
fn both(program: &Path, args: &[&str], flags: &[&str]) -> (String, Run) {
    let host = Command::new(program).args(args).current_dir("/").output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout).into_owned();
    let mut a = vec!["run", "--verbose"];
    a.extend_from_slice(flags);
    a.push(s(program));
    a.push("--");
    a.extend_from_slice(args);
    (host, run(&a))
}

fn granted(r: &Run) -> Vec<(String, String)> {
    r.events("grant.issued")[0]["detail"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["path"].as_str()?.to_string(), p["reason"].as_str()?.to_string())))
        .collect()
}

#[test]
fn a_venvs_python_imports_its_packages_and_sees_nothing_else() {
    let Some(base) = base_python() else { return };
    let v = venv(&base);
    let python = v.root.join("bin/python");
    let code = py_code(&v.secret);
    let (host, r) = both(&python, &["-c", &code], &[]);
    if !host.contains("tinypkg-ok") {
        eprintln!("skipped: the venv does not run for this user on the host: {host}");
        return;
    }
    assert!(host.contains("SECRET-READ"), "control: the host reads the secret: {host}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("tinypkg-ok {}", s(&v.root))), "the venv is sys.prefix: {}", r.stdout);
    assert!(r.stdout.contains("SECRET-DENIED"), "{}", r.stdout);
    let paths = granted(&r);
    assert!(paths.iter().any(|(p, why)| *p == s(&v.root) && why.contains("pyvenv.cfg")), "{paths:?}");
    assert!(paths.iter().any(|(_, why)| why.contains("Python installation")), "{paths:?}");
    assert!(r.stderr.contains("granted read+exec"), "--verbose names them: {}", r.stderr);
}

#[test]
fn a_venvs_console_script_runs_and_only_its_interpreter_tree_is_shown() {
    let Some(base) = base_python() else { return };
    let v = venv(&base);
    // What pip writes for a console script: a #! line naming the venv's python.
    let script = v.root.join("bin/tiny-tool");
    let versions =
        std::fs::canonicalize(&base).unwrap().parent().unwrap().parent().unwrap().parent().unwrap().to_owned();
    let body = format!(
        "#!{}\n{}import tinypkg\nprint(tinypkg.VALUE, sys.prefix)\nprobe({:?})\nprint('SIBLINGS', sorted(os.listdir({:?})))\n",
        s(&v.root.join("bin/python")),
        PY_PROBE,
        s(&v.secret),
        s(&versions)
    );
    std::fs::write(&script, body).unwrap();
    Command::new("chmod").arg("755").arg(&script).status().unwrap();
    let (host, r) = both(&script, &[], &[]);
    if !host.contains("tinypkg-ok") {
        eprintln!("skipped: the venv does not run for this user on the host: {host}");
        return;
    }
    assert!(host.contains("SECRET-READ"), "control: {host}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("tinypkg-ok"), "{}", r.stdout);
    assert!(r.stdout.contains("SECRET-DENIED"), "{}", r.stdout);
    // The interpreter's installation, and none of its siblings (other versions, the home).
    let inside = r.stdout.lines().find(|l| l.starts_with("SIBLINGS")).unwrap().to_string();
    let host_siblings = std::fs::read_dir(&versions).unwrap().count();
    let prefix = std::fs::canonicalize(&base).unwrap().parent().unwrap().parent().unwrap().to_owned();
    let own = prefix.file_name().unwrap().to_str().unwrap();
    assert_eq!(inside, format!("SIBLINGS ['{own}']"), "host has {host_siblings} entries there");
}

#[test]
fn a_script_whose_interpreter_is_under_a_non_system_prefix_runs_with_its_stdlib() {
    let Some(base) = base_python() else { return };
    let real = std::fs::canonicalize(&base).unwrap();
    let prefix = real.parent().unwrap().parent().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "top secret\n").unwrap();
    let script = dir.path().join("tool.py");
    std::fs::write(
        &script,
        format!(
            "#!{}\n{PY_PROBE}import json\nprint(json.dumps('stdlib-ok'), sys.prefix)\nprobe({:?})\n",
            s(&real),
            s(&secret)
        ),
    )
    .unwrap();
    Command::new("chmod").arg("755").arg(&script).status().unwrap();
    let (host, r) = both(&script, &[], &[]);
    if !host.contains("stdlib-ok") {
        eprintln!("skipped: the interpreter does not run for this user on the host: {host}");
        return;
    }
    assert!(host.contains("SECRET-READ"), "control: {host}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("\"stdlib-ok\" {}", s(&prefix))), "its own prefix: {}", r.stdout);
    assert!(r.stdout.contains("SECRET-DENIED"), "{}", r.stdout);
}

/// A project with a Node package `tinytool` (bin script `#!/usr/bin/env node`) that requires
/// its dependency `tinydep`, installed side by side as npm does, and a secret file.
fn node_project() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    if !Path::new("/usr/bin/node").is_file() {
        eprintln!("skipped: no /usr/bin/node");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("proj/node_modules");
    std::fs::create_dir_all(modules.join("tinydep")).unwrap();
    std::fs::write(modules.join("tinydep/package.json"), r#"{"name":"tinydep","main":"index.js"}"#).unwrap();
    std::fs::write(modules.join("tinydep/index.js"), "module.exports = 'tinydep-ok';\n").unwrap();
    std::fs::create_dir_all(modules.join("tinytool/bin")).unwrap();
    std::fs::write(modules.join("tinytool/package.json"), r#"{"name":"tinytool","bin":{"tinytool":"bin/cli.js"}}"#)
        .unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "top secret\n").unwrap();
    let cli = modules.join("tinytool/bin/cli.js");
    std::fs::write(
        &cli,
        format!(
            "#!/usr/bin/env node\nconsole.log(require('tinydep'));\n\
             try {{ require('fs').readFileSync({:?}); console.log('SECRET-READ'); }}\n\
             catch (e) {{ console.log('SECRET-DENIED', e.code); }}\n",
            s(&secret)
        ),
    )
    .unwrap();
    Command::new("chmod").arg("755").arg(&cli).status().unwrap();
    std::fs::create_dir_all(modules.join(".bin")).unwrap();
    std::os::unix::fs::symlink("../tinytool/bin/cli.js", modules.join(".bin/tinytool")).unwrap();
    Some((dir, modules, cli))
}

/// Node runs at the default `--memory` (no address-space limit: `native::limits`).
const NODE_MEMORY: &[&str] = &[];

#[test]
fn a_node_packages_bin_script_finds_its_dependencies() {
    let Some((_dir, modules, _)) = node_project() else { return };
    let (host, r) = both(&modules.join(".bin/tinytool"), &[], NODE_MEMORY);
    assert!(host.contains("tinydep-ok") && host.contains("SECRET-READ"), "control: {host}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("tinydep-ok"), "{}", r.stdout);
    assert!(r.stdout.contains("SECRET-DENIED"), "{}", r.stdout);
    let paths = granted(&r);
    assert!(paths.iter().any(|(p, why)| *p == s(&modules) && why.contains("Node packages")), "{paths:?}");
}

#[test]
fn node_running_a_packages_script_finds_its_dependencies() {
    let Some((_dir, _, cli)) = node_project() else { return };
    let node = Path::new("/usr/bin/node");
    let (host, r) = both(node, &[s(&cli)], NODE_MEMORY);
    assert!(host.contains("tinydep-ok") && host.contains("SECRET-READ"), "control: {host}");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("tinydep-ok"), "{}", r.stdout);
    assert!(r.stdout.contains("SECRET-DENIED"), "{}", r.stdout);
}

#[test]
fn a_missing_shebang_interpreter_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tool");
    std::fs::write(&script, "#!/nonexistent/bin/python9\nprint(1)\n").unwrap();
    Command::new("chmod").arg("755").arg(&script).status().unwrap();
    let r = run(&["run", s(&script)]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("#!/nonexistent/bin/python9, which does not exist"), "{}", r.stderr);
}
