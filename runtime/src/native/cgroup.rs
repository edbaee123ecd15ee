//! The invocation's cgroups, where the host lets us make them: a pids limit and a memory limit
//! over the whole process tree.
//!
//! * pids: bounds the tree as a whole; RLIMIT_NPROC, always set, counts per user namespace and
//!   host uid, and the kernel exempts processes whose host uid is root;
//! * memory: bounds the tree's memory (no swap) at the grant's limit; RLIMIT_AS, always set,
//!   only bounds each process.
//!
//! On cgroup v2 both limits go in one directory (a process is in one v2 cgroup); on cgroup v1
//! each controller has its own hierarchy, and the directory is made below the supervisor's own
//! cgroup there, so whatever limits the supervisor also limits the sandbox.

use std::path::{Path, PathBuf};

/// v2 roots to try, in order, with why.
const V2_ROOTS: &[(&str, &str)] = &[
    ("/sys/fs/cgroup", "cgroup v2, unified (controllers listed in cgroup.subtree_control)"),
    ("/sys/fs/cgroup/unified", "cgroup v2 in a hybrid layout"),
];

/// v1 hierarchies: `(controller, mount point)`.
const V1: &[(&str, &str)] = &[("pids", "/sys/fs/cgroup/pids"), ("memory", "/sys/fs/cgroup/memory")];

/// The cgroups of one invocation; removed when dropped (after the sandbox is gone).
#[derive(Debug, Default)]
pub struct Cgroups {
    dirs: Vec<PathBuf>,
    /// A pids limit is in force.
    pub pids: bool,
    /// A memory limit is in force.
    pub memory: bool,
}

fn write(dir: &Path, file: &str, value: &str) -> bool {
    std::fs::write(dir.join(file), value).is_ok()
}

fn set_pids(dir: &Path, max: u64) -> bool {
    write(dir, "pids.max", &max.to_string())
}

fn set_memory_v2(dir: &Path, bytes: u64) -> bool {
    // No swap either (absent without swap accounting, which is fine).
    write(dir, "memory.max", &bytes.to_string())
        && (!dir.join("memory.swap.max").exists() || write(dir, "memory.swap.max", "0"))
}

fn set_memory_v1(dir: &Path, bytes: u64) -> bool {
    // memsw (memory + swap) must be set after, and not below, the memory limit.
    write(dir, "memory.limit_in_bytes", &bytes.to_string())
        && (!dir.join("memory.memsw.limit_in_bytes").exists()
            || write(dir, "memory.memsw.limit_in_bytes", &bytes.to_string()))
}

/// The supervisor's own cgroup path in the v1 hierarchy of `controller` (`/` if unknown).
fn own_v1_path(controller: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':').skip(1);
            parts.next().zip(parts.next())
        })
        .find(|(ctrls, _)| ctrls.split(',').any(|c| c == controller))
        .map_or_else(|| "/".to_string(), |(_, path)| path.to_string())
}

impl Cgroups {
    /// Makes `mcp-sandbox-<id>` with `pids.max = pids_max` and a memory limit of `memory`
    /// bytes wherever the host allows; what could be made is in `pids` and `memory`.
    pub fn create(id: &str, pids_max: u64, memory: u64) -> Self {
        let name = format!("mcp-sandbox-{id}");
        let mut cg = Cgroups::default();
        for (root, _) in V2_ROOTS {
            let root = Path::new(root);
            let Ok(controllers) = std::fs::read_to_string(root.join("cgroup.subtree_control")) else { continue };
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            if !has("pids") && !has("memory") {
                continue;
            }
            let dir = root.join(&name);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            cg.pids = has("pids") && set_pids(&dir, pids_max);
            cg.memory = has("memory") && set_memory_v2(&dir, memory);
            if cg.pids || cg.memory {
                cg.dirs.push(dir);
            } else {
                let _ = std::fs::remove_dir(&dir);
            }
            break;
        }
        for (controller, mount) in V1 {
            let wanted = match *controller {
                "pids" => !cg.pids,
                _ => !cg.memory,
            };
            let mount = Path::new(mount);
            if !wanted || !mount.join("cgroup.procs").exists() {
                continue;
            }
            let dir = mount.join(own_v1_path(controller).trim_start_matches('/')).join(&name);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            let ok = match *controller {
                "pids" => set_pids(&dir, pids_max),
                _ => set_memory_v1(&dir, memory),
            };
            if !ok {
                let _ = std::fs::remove_dir(&dir);
                continue;
            }
            match *controller {
                "pids" => cg.pids = true,
                _ => cg.memory = true,
            }
            cg.dirs.push(dir);
        }
        cg
    }

    /// One descriptor per cgroup, through which stage 1 moves itself (and so every process it
    /// will start) in, by writing `0`. On cgroup v1 it is the `tasks` file: moving the writing
    /// thread alone skips the global lock that moving a whole process by pid takes, whose RCU
    /// grace period costs milliseconds per sandbox. Stage 1 is single-threaded, so its only
    /// thread is the whole process. On cgroup v2 it is `cgroup.procs` (with that lock).
    pub fn joiners(&self) -> std::io::Result<Vec<std::os::fd::OwnedFd>> {
        self.dirs
            .iter()
            .map(|dir| {
                let tasks = dir.join("tasks");
                let file = if tasks.exists() { tasks } else { dir.join("cgroup.procs") };
                Ok(std::fs::OpenOptions::new().write(true).open(file)?.into())
            })
            .collect()
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for dir in &self.dirs {
            // Empty once the sandbox's PID namespace is gone; retry briefly while it winds down.
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn v1_paths_come_from_proc_self_cgroup() {
        // Whatever this host's layout, the answer is an absolute path.
        assert!(super::own_v1_path("memory").starts_with('/'));
        assert_eq!(super::own_v1_path("no-such-controller"), "/");
    }
}
