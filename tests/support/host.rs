//! The host side of the tests: who runs them, which processes are running, and saying loudly
//! when a check cannot run here.

use std::io::Write;
use std::time::{Duration, Instant};

/// Whether the tests run as root (the owner of this process's `/proc` entry is its euid).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Says that a check could not run here, so it proved nothing: on stderr past the test
/// harness's output capture (a passing test's output is otherwise hidden), and as a line in
/// the file `$MCP_SANDBOX_SKIP_LOG` names, where `./dev test` counts them.
pub fn skipped(check: &str, why: &str) {
    let line = format!("SKIPPED: {check}: {why}");
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = std::env::var_os("MCP_SANDBOX_SKIP_LOG") {
        let _ = std::fs::OpenOptions::new().append(true).create(true).open(log).and_then(|mut f| writeln!(f, "{line}"));
    }
}

/// The pids of host processes whose arguments (as `/proc/PID/cmdline` holds them) satisfy
/// `matches`.
pub fn host_processes(matches: impl Fn(&[&str]) -> bool) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline);
        let args: Vec<&str> = text.strip_suffix('\0').unwrap_or(&text).split('\0').collect();
        if !cmdline.is_empty() && matches(&args) {
            found.push(pid);
        }
    }
    found
}

/// The pids of host processes whose arguments are exactly `args`.
pub fn processes_running(args: &[&str]) -> Vec<u32> {
    host_processes(|a| a == args)
}

/// Polls `check` until it returns something or `within` has passed.
pub fn poll<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = check() {
            return Some(t);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether this user can make a cgroup with `controller` here, where the runtime makes its own
/// (at the root of a cgroup v2 hierarchy offering it, or below this process's cgroup in the v1
/// hierarchy): a probe
/// directory is made and removed.
pub fn cgroup_possible(controller: &str) -> bool {
    let probe = |dir: std::path::PathBuf| std::fs::create_dir(&dir).is_ok() && std::fs::remove_dir(&dir).is_ok();
    let name = format!("mcp-sandbox-test-probe-{}", std::process::id());
    for v2 in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        let root = std::path::Path::new(v2);
        let controllers = std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == controller) {
            return probe(root.join(&name));
        }
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = own.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':').skip(1);
        let (ctrls, path) = (parts.next()?, parts.next()?);
        ctrls.split(',').any(|c| c == controller).then(|| path.trim_start_matches('/').to_string())
    });
    let mount = std::path::Path::new("/sys/fs/cgroup").join(controller);
    path.is_some_and(|p| mount.join("cgroup.procs").exists() && probe(mount.join(p).join(&name)))
}
