//! Native tools under namespaces, Landlock and seccomp. Each attack runs first unconfined on
//! the host (the positive control: it works), then under the sandbox, judged by side effects:
//! what a loopback listener received, what is on disk, which processes are left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::process::Command;
use support::*;

fn host(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program).args(args).output().unwrap()
}

fn sh(script: &str) -> Vec<&str> {
    vec!["/bin/sh", "--", "-c", script]
}

fn run_sh(flags: &[&str], script: &str) -> Run {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(sh(script));
    run(&args)
}

#[test]
fn runs_as_an_unprivileged_user_with_its_own_exit_status() {
    let r = run_sh(&[], "id -u; exit 7");
    assert_eq!((r.code, r.stdout.trim()), (7, "1000"), "{}", r.stderr);
    assert_eq!(r.events("grant.issued").len(), 1);
    assert_eq!(r.events("grant.revoked").len(), 1);
}

#[test]
fn files_outside_the_grant_are_invisible_and_read_only_means_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET").unwrap();
    let cat = format!("cat {}", secret.display());
    // Control: unconfined, the read works.
    assert_eq!(String::from_utf8_lossy(&host("/bin/sh", &["-c", &cat]).stdout), "TOP-SECRET");
    let r = run_sh(&[], &cat);
    assert_ne!(r.code, 0);
    assert!(!r.stdout.contains("TOP-SECRET"));
    let r = run_sh(&["--allow-read", s(&d)], &cat);
    assert_eq!((r.code, r.stdout.as_str()), (0, "TOP-SECRET"), "{}", r.stderr);

    let write = format!("echo changed > {}", secret.display());
    let r = run_sh(&["--allow-read", s(&d)], &write);
    assert_ne!(r.code, 0);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "TOP-SECRET");
    let r = run_sh(&["--allow-write", s(&d)], &write);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "changed\n");
}

#[test]
fn no_tcp_connection_leaves_the_sandbox() {
    let sink = TcpSink::start("127.0.0.1");
    let send = format!("echo leaked > /dev/tcp/127.0.0.1/{}", sink.addr.port());
    // Control: bash on the host reaches the listener.
    assert!(host("/bin/bash", &["-c", &send]).status.success());
    assert!(sink.received().contains("leaked"));
    let sink = TcpSink::start("127.0.0.1");
    let send = format!("echo leaked-from-sandbox > /dev/tcp/127.0.0.1/{}", sink.addr.port());
    let r = run(&["run", "/bin/bash", "--", "-c", &send]);
    assert_ne!(r.code, 0);
    assert_eq!(sink.connections(), 0, "the listener must receive nothing: {}", sink.received());
}

#[test]
fn listening_is_refused_for_native_tools_rather_than_run_unconfined() {
    let r = run(&["run", "--allow-listen", "127.0.0.1:8080", "/bin/true"]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("listening is not available to native tools"), "{}", r.stderr);
    // The refusal is in the audit log too, with its reason, and the grant is revoked.
    let exit = r.events("exit");
    assert_eq!(exit[0]["detail"]["status"], 125);
    assert!(exit[0]["detail"]["error"].as_str().unwrap().contains("listening is not available"));
    assert_eq!(r.events("grant.revoked")[0]["reason"], "invocation failed");
}

#[test]
fn the_environment_is_scrubbed_to_the_grant() {
    let env = [("LEAKY_SECRET", "s3cr3t")];
    let r = run_env(&["run", "/usr/bin/env"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("s3cr3t") && !r.stdout.contains("HOME="), "{}", r.stdout);
    // Control: granted, it passes.
    let r = run_env(&["run", "--allow-env", "LEAKY_SECRET", "/usr/bin/env"], &env);
    assert!(r.stdout.contains("LEAKY_SECRET=s3cr3t"), "{}", r.stdout);
}

/// A script that starts `sleep SECONDS` in the background, detached from its output, and
/// ends only once that process runs (a positive signal, not a pause).
fn daemonize(seconds: &str) -> String {
    format!(
        "sleep {seconds} >/dev/null 2>&1 &\nwhile [ \"$(tr '\\0' ' ' < /proc/$!/cmdline)\" != 'sleep {seconds} ' ]; do :; done\necho started"
    )
}

#[test]
fn nothing_the_tool_starts_outlives_it() {
    // A duration no other test (or test run) uses, to find the daemon on the host.
    let (confined, unconfined) = (format!("31337.{}", std::process::id()), format!("31338.{}", std::process::id()));
    let r = run_sh(&[], &daemonize(&confined));
    assert_eq!((r.code, r.stdout.as_str()), (0, "started\n"), "{}", r.stderr);
    // Checked as soon as the supervisor has exited: the sandbox is gone by then.
    let left = processes_running(&["sleep", &confined]);
    assert!(left.is_empty(), "a daemon outlived its grant: {left:?}");
    // Control: started the same way outside the sandbox, the daemon survives its parent.
    let started = host("/bin/sh", &["-c", &daemonize(&unconfined)]);
    assert_eq!(String::from_utf8_lossy(&started.stdout), "started\n");
    let left = processes_running(&["sleep", &unconfined]);
    assert_eq!(left.len(), 1, "the unconfined daemon runs on");
    host("/bin/kill", &[&left[0].to_string()]);
}

#[test]
fn timeouts_stop_the_whole_tree() {
    let (a, b) = (format!("4242.{}", std::process::id()), format!("4243.{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--timeout", "2s", "/bin/sh", "--", "-c", &format!("sleep {a} & sleep {b}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Both processes of the tree run (seen from the host) before the limit strikes.
    let both = poll(std::time::Duration::from_secs(10), || {
        (!processes_running(&["sleep", &a]).is_empty() && !processes_running(&["sleep", &b]).is_empty()).then_some(())
    });
    let status = child.wait().unwrap();
    assert!(both.is_some(), "the tool's two processes were not seen running");
    assert_eq!(status.code(), Some(124));
    let left = host_processes(|args| args.len() == 2 && args[0] == "sleep" && (args[1] == a || args[1] == b));
    assert!(left.is_empty(), "processes outlived the timeout: {left:?}");
}

#[test]
fn host_sockets_and_daemon_paths_are_not_there() {
    let r = run_sh(&[], "ls /run /var/run /var/run/docker.sock /run/dbus 2>&1; ls /");
    assert!(r.stdout.contains("No such file"), "{}", r.stdout);
    for hidden in ["home", "root", "run", "var", "work"] {
        assert!(!r.stdout.lines().any(|l| l == hidden), "/{hidden} is visible: {}", r.stdout);
    }
}

#[test]
fn programs_run_only_from_exec_grants() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    let helper = d.join("helper.sh");
    std::fs::write(&helper, "#!/bin/sh\necho helper ran\n").unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let call = helper.display().to_string();
    // Readable is not executable.
    let r = run_sh(&["--allow-read", s(&d)], &call);
    assert_ne!(r.code, 0);
    assert!(!r.stdout.contains("helper ran"));
    let r = run_sh(&["--allow-write", s(&d)], &call);
    assert!(!r.stdout.contains("helper ran"), "writable is not executable either");
    // Positive control: an exec grant runs it.
    let r = run_sh(&["--allow-exec", s(&d)], &call);
    assert_eq!((r.code, r.stdout.trim()), (0, "helper ran"), "{}", r.stderr);
}

#[test]
fn scripts_and_elf_tools_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::canonicalize(dir.path()).unwrap().join("tool.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"args: $*\"\n").unwrap();
    let r = run(&["run", s(&script), "--", "a", "b"]);
    assert_eq!(r.code, 126, "not executable yet: {}", r.stderr);
    assert!(r.stderr.contains("chmod +x"), "{}", r.stderr);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run(&["run", s(&script), "--", "a", "b"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "args: a b"), "{}", r.stderr);
}

/// Regression: descriptors the supervisor inherited without close-on-exec (an MCP host's
/// sockets, a jobserver pipe) reached the tool.
#[test]
fn the_tool_holds_only_stdio() {
    // Run through a policy file too: the same format drives both executors.
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("p.toml");
    std::fs::write(&pol, "[limits]\ntimeout = \"5s\"\n").unwrap();
    // The supervisor's parent holds descriptor 100 open without close-on-exec (bash's `exec`
    // redirection does not set it), and starts the command given.
    let with_a_leak = |command: &[&str]| {
        let out = Command::new("/bin/bash")
            .args(["-c", "exec 100</dev/null; exec \"$@\"", "leak"])
            .args(command)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    // Control: a plain child of that parent holds it.
    let plain = with_a_leak(&["/bin/ls", "/proc/self/fd"]);
    assert!(plain.contains(&"100".to_string()), "{plain:?}");
    let bin = env!("CARGO_BIN_EXE_mcp-sandbox");
    let fds = with_a_leak(&[bin, "run", "--policy", s(&pol), "/bin/ls", "--", "/proc/self/fd"]);
    // 0, 1, 2, and the directory ls itself has open while listing.
    assert!(fds.len() <= 4 && fds.starts_with(&["0".into(), "1".into(), "2".into()]), "{fds:?}");
    assert!(!fds.contains(&"100".to_string()), "{fds:?}");
}

/// This test process's (file-system) uid and gid, as the owner of a file it creates.
fn my_ids() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let f = tempfile::NamedTempFile::new().unwrap();
    let md = f.as_file().metadata().unwrap();
    (md.uid(), md.gid())
}

/// The `Uid`, `Gid` and `Groups` lines of a host process's status.
fn host_ids(pid: &str) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("Uid:") || l.starts_with("Gid:") || l.starts_with("Groups:"))
        .map(String::from)
        .collect()
}

/// Regression: a root supervisor mapped the sandbox user to host uid 0, so the tool, with no
/// capability, still owned every root file it could see, and read `/etc/ssl/private`.
#[test]
fn the_tool_has_no_host_identity_of_root_even_under_a_root_supervisor() {
    let marker = "29.4517";
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox"))
        .args(["run", "--timeout", "4s", "/bin/sh", "--", "-c", &format!("exec sleep {marker}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The tool is found from the host, by its arguments (so the check below is never vacuous).
    let mut ids = Vec::new();
    for _ in 0..300 {
        let found = std::fs::read_dir("/proc").unwrap().flatten().find(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            cmdline == format!("sleep\0{marker}\0").as_bytes()
        });
        if let Some(e) = found {
            ids = host_ids(&e.file_name().to_string_lossy());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait().unwrap();
    assert_eq!(ids.len(), 3, "the tool was not found on the host: {ids:?}");
    let euid = my_ids().0;
    let numbers = |line: &str| line.split_whitespace().skip(1).map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>();
    for line in &ids {
        let n = numbers(line);
        assert!(!n.contains(&0), "the tool holds a root id on the host: {line}");
        if line.starts_with("Uid:") && euid != 0 {
            assert!(n.iter().all(|&u| u == euid), "an unprivileged supervisor's tool runs as its user: {line}");
        }
    }
}

#[test]
fn root_only_files_of_the_system_view_stay_closed_unless_granted() {
    let key = std::path::Path::new("/etc/ssl/private/ssl-cert-snakeoil.key");
    // Control: the host user (root, as in CI) reads it. Elsewhere there is nothing to prove.
    if std::fs::read(key).is_err() {
        let why = format!("{} is not readable here (not root, or absent)", key.display());
        skipped("root_only_files_of_the_system_view_stay_closed_unless_granted", &why);
        return;
    }
    let cat = format!("head -c 27 {}", key.display());
    let r = run_sh(&[], &cat);
    assert_ne!(r.code, 0);
    assert!(!r.stdout.contains("PRIVATE KEY"), "the tool read a root-only file: {}", r.stdout);
    let r = run_sh(&["--allow-read", "/etc/ssl/private"], &cat);
    assert_eq!((r.code, r.stdout.as_str()), (0, "-----BEGIN PRIVATE KEY-----"), "{}", r.stderr);
}

#[test]
fn granted_paths_keep_the_invoking_users_ownership() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    let own = d.join("own.txt");
    std::fs::write(&own, "MINE").unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o600)).unwrap();
    let script = format!("cat {0}/own.txt && echo made > {0}/made.txt", d.display());
    let r = run_sh(&["--allow-write", s(&d)], &script);
    assert_eq!((r.code, r.stdout.as_str()), (0, "MINE"), "{}", r.stderr);
    let made = std::fs::metadata(d.join("made.txt")).unwrap();
    assert_eq!((made.uid(), made.gid()), my_ids(), "a created file belongs to the invoking user");
}

#[test]
fn the_sandbox_init_does_not_show_host_paths() {
    let r = run_sh(&[], "tr '\\0' ' ' < /proc/1/cmdline");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("mcp-sandbox-init __native-init"), "{}", r.stdout);
    assert!(!r.stdout.contains('/'), "a host path leaks: {}", r.stdout);
}

/// `mcp-sandbox run ARGS` started in `dir`: (status, stdout, stderr).
fn run_from(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-sandbox")).arg("run").args(args).current_dir(dir).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// A relative path in the tool's arguments: from a granted working directory the tool starts
/// there and it works; from one that is not granted the tool starts in its own `/tmp`, the path
/// fails, one line says why, and each fix that line gives works when followed.
#[test]
fn a_relative_path_works_from_a_granted_directory_and_is_explained_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(d.join("data")).unwrap();
    std::fs::write(d.join("data/q.txt"), "RELATIVE-OK").unwrap();
    // Control: on the host, from that directory.
    let host = Command::new("/bin/cat").arg("data/q.txt").current_dir(&d).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&host.stdout), "RELATIVE-OK");

    let (code, out, err) = run_from(&d, &["--allow-read", s(&d), "/bin/sh", "-c", "pwd; cat data/q.txt"]);
    assert_eq!((code, out.as_str()), (0, format!("{}\nRELATIVE-OK", d.display()).as_str()), "{err}");
    assert!(!err.contains("is relative to"), "{err}");

    let (code, out, err) = run_from(&d, &["/bin/cat", "data/q.txt"]);
    assert_ne!(code, 0);
    assert!(!out.contains("RELATIVE-OK"), "{out}");
    let hint = err.lines().find(|l| l.contains("is relative to")).unwrap_or_else(|| panic!("no hint: {err}"));
    let expected = format!(
        "mcp-sandbox: `data/q.txt` is relative to {0}, which the tool cannot see (not granted), so it runs elsewhere; \
         to run it in {0}: --allow-read {0} (or --allow-write); or grant just the path and pass it whole: \
         --allow-read {0}/data/q.txt, and {0}/data/q.txt as the argument",
        d.display()
    );
    assert_eq!(hint, expected);
    // Each fix, taken from the line itself.
    let grants: Vec<&str> =
        hint.split("--allow-read ").skip(1).map(|rest| rest.split([' ', ',']).next().unwrap_or_default()).collect();
    assert_eq!(grants.len(), 2, "{hint}");
    let (code, out, err) = run_from(&d, &["--allow-read", grants[0], "/bin/cat", "data/q.txt"]);
    assert_eq!((code, out.as_str()), (0, "RELATIVE-OK"), "{err}");
    let (code, out, err) = run_from(&d, &["--allow-read", grants[1], "/bin/cat", grants[1]]);
    assert_eq!((code, out.as_str()), (0, "RELATIVE-OK"), "{err}");
    assert!(!err.contains("is relative to"), "{err}");
}
