//! A pids cgroup per invocation, where the host lets us make one (cgroup v2 with the pids
//! controller enabled, or the v1 pids hierarchy). It bounds the whole process tree even when
//! RLIMIT_NPROC does not apply: the kernel exempts processes whose host uid is root, which is
//! what the sandbox user maps to when the supervisor runs as root.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct PidsCgroup {
    dir: PathBuf,
}

/// `(hierarchy, reason)`: where to look, in order.
const HIERARCHIES: &[(&str, &str)] = &[
    ("/sys/fs/cgroup", "cgroup v2, unified (needs `pids` in cgroup.subtree_control)"),
    ("/sys/fs/cgroup/unified", "cgroup v2 in a hybrid layout"),
    ("/sys/fs/cgroup/pids", "cgroup v1 pids hierarchy"),
];

impl PidsCgroup {
    /// Creates `mcp-sandbox-<id>` with `pids.max = max` in the first usable hierarchy.
    pub fn create(id: &str, max: u64) -> Option<Self> {
        for (root, _) in HIERARCHIES {
            let root = Path::new(root);
            let usable = root.join("pids.max").exists()
                || std::fs::read_to_string(root.join("cgroup.subtree_control"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"))
                || (root.ends_with("pids") && root.join("cgroup.procs").exists());
            if !usable {
                continue;
            }
            let dir = root.join(format!("mcp-sandbox-{id}"));
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            let cg = PidsCgroup { dir };
            if std::fs::write(cg.dir.join("pids.max"), max.to_string()).is_ok() {
                return Some(cg);
            }
        }
        None
    }

    /// A descriptor through which stage 1 moves itself (and so every process it will start)
    /// into the cgroup, by writing `0`. On cgroup v1 it is the `tasks` file: moving the writing
    /// thread alone skips the global lock that moving a whole process by pid takes, whose RCU
    /// grace period costs milliseconds per sandbox. Stage 1 is single-threaded, so its only
    /// thread is the whole process. On cgroup v2 it is `cgroup.procs` (with that lock).
    pub fn joiner(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        let tasks = self.dir.join("tasks");
        let file = if tasks.exists() { tasks } else { self.dir.join("cgroup.procs") };
        Ok(std::fs::OpenOptions::new().write(true).open(file)?.into())
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // Empty once the sandbox's PID namespace is gone; retry briefly while it winds down.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
