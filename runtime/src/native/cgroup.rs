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

    /// Moves a process (and so its future children) into the cgroup.
    pub fn add(&self, pid: u32) -> std::io::Result<()> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
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
