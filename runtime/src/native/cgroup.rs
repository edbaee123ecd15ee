//! The invocation's cgroups, where the host lets us make them: a pids limit and a memory limit
//! over the whole process tree.
//!
//! * pids: bounds the tree as a whole; RLIMIT_NPROC, always set, counts per user namespace and
//!   host uid, and the kernel exempts processes whose host uid is root;
//! * memory: bounds what the tree uses (pages it touched, page cache, kernel memory; no swap) at
//!   the grant's limit, and counts the processes it kills for it (`oom_kill`), so that a memory
//!   kill can be told from another SIGKILL. Where none can be made, `limits::memory_bound`
//!   decides what holds instead.
//!
//! On cgroup v2 both limits go in one directory (a process is in one v2 cgroup), made at the
//! root of the hierarchy (which takes root, or a cgroup namespace whose root offers the
//! controllers); on cgroup v1 (and the v1 half of a hybrid layout) each controller has its own
//! hierarchy, and the directory is made below the supervisor's own cgroup there, so whatever
//! limits the supervisor also limits the sandbox.

use std::path::{Path, PathBuf};

/// v2 roots to try, in order, with why.
const V2_ROOTS: &[(&str, &str)] = &[
    ("/sys/fs/cgroup", "cgroup v2, unified (controllers listed in cgroup.subtree_control)"),
    ("/sys/fs/cgroup/unified", "cgroup v2 in a hybrid layout"),
];

/// v1 hierarchies: `(controller, mount point)`.
const V1: &[(&str, &str)] = &[("pids", "/sys/fs/cgroup/pids"), ("memory", "/sys/fs/cgroup/memory")];

/// Where cgroups are made: the host's layout, or a stand-in directory tree in unit tests.
#[derive(Debug, Clone)]
struct Layout {
    v2_roots: Vec<PathBuf>,
    v1: Vec<(&'static str, PathBuf)>,
    /// The text of `/proc/self/cgroup`.
    own: String,
}

impl Layout {
    fn host() -> Self {
        Layout {
            v2_roots: V2_ROOTS.iter().map(|(r, _)| PathBuf::from(r)).collect(),
            v1: V1.iter().map(|(c, m)| (*c, PathBuf::from(m))).collect(),
            own: std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default(),
        }
    }
}

/// The cgroups of one invocation; removed when dropped (after the sandbox is gone).
#[derive(Debug, Default)]
pub struct Cgroups {
    dirs: Vec<PathBuf>,
    /// A pids limit is in force.
    pub pids: bool,
    /// The file where the memory cgroup counts its OOM kills (`memory.events` on v2,
    /// `memory.oom_control` on v1); `None` when no memory cgroup holds the tree.
    oom_events: Option<PathBuf>,
    /// Why no memory cgroup holds the tree (`None` when one does).
    pub no_memory: Option<String>,
}

fn write(dir: &Path, file: &str, value: &str) -> std::io::Result<()> {
    std::fs::write(dir.join(file), value)
}

fn set_pids(dir: &Path, max: u64) -> bool {
    write(dir, "pids.max", &max.to_string()).is_ok()
}

fn set_memory_v2(dir: &Path, bytes: u64) -> std::io::Result<()> {
    write(dir, "memory.max", &bytes.to_string())?;
    // No swap either (absent without swap accounting, which is fine).
    if dir.join("memory.swap.max").exists() {
        write(dir, "memory.swap.max", "0")?;
    }
    Ok(())
}

fn set_memory_v1(dir: &Path, bytes: u64) -> std::io::Result<()> {
    // memsw (memory + swap) must be set after, and not below, the memory limit.
    write(dir, "memory.limit_in_bytes", &bytes.to_string())?;
    if dir.join("memory.memsw.limit_in_bytes").exists() {
        write(dir, "memory.memsw.limit_in_bytes", &bytes.to_string())?;
    }
    Ok(())
}

/// This process's cgroup path in the v1 hierarchy of `controller`, from the text of
/// `/proc/self/cgroup` (`/` if not listed).
fn own_v1_path(own: &str, controller: &str) -> String {
    own.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':').skip(1);
            parts.next().zip(parts.next())
        })
        .find(|(ctrls, _)| ctrls.split(',').any(|c| c == controller))
        .map_or_else(|| "/".to_string(), |(_, path)| path.to_string())
}

/// The `oom_kill` count in the text of `memory.events` (v2) or `memory.oom_control` (v1):
/// processes the memory cgroup killed because its limit was reached.
fn oom_kill_count(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse().ok()))
}

impl Cgroups {
    /// Makes `mcp-sandbox-<id>` with `pids.max = pids_max` and a memory limit of `memory`
    /// bytes wherever the host allows; what could be made is in `pids` and `no_memory`.
    pub fn create(id: &str, pids_max: u64, memory: u64) -> Self {
        Self::create_in(&Layout::host(), id, pids_max, memory)
    }

    fn create_in(layout: &Layout, id: &str, pids_max: u64, memory: u64) -> Self {
        let name = format!("mcp-sandbox-{id}");
        let mut cg = Cgroups::default();
        let mut why: Vec<String> = Vec::new();
        for root in &layout.v2_roots {
            let Ok(controllers) = std::fs::read_to_string(root.join("cgroup.subtree_control")) else { continue };
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            if !has("pids") && !has("memory") {
                continue;
            }
            let dir = root.join(&name);
            if let Err(e) = std::fs::create_dir(&dir) {
                if has("memory") {
                    why.push(format!("cannot make a cgroup in {} ({e})", root.display()));
                }
                continue;
            }
            cg.pids = has("pids") && set_pids(&dir, pids_max);
            if has("memory") {
                match set_memory_v2(&dir, memory) {
                    Ok(()) => cg.oom_events = Some(dir.join("memory.events")),
                    Err(e) => why.push(format!("cannot set memory.max in {} ({e})", dir.display())),
                }
            }
            if cg.pids || cg.oom_events.is_some() {
                cg.dirs.push(dir);
            } else {
                let _ = std::fs::remove_dir(&dir);
            }
            break;
        }
        for (controller, mount) in &layout.v1 {
            let memory_wanted = *controller == "memory";
            let wanted = if memory_wanted { cg.oom_events.is_none() } else { !cg.pids };
            if !wanted || !mount.join("cgroup.procs").exists() {
                continue;
            }
            let parent = mount.join(own_v1_path(&layout.own, controller).trim_start_matches('/'));
            let dir = parent.join(&name);
            if let Err(e) = std::fs::create_dir(&dir) {
                if memory_wanted {
                    why.push(format!("cannot make a cgroup in {} ({e})", parent.display()));
                }
                continue;
            }
            let ok = if memory_wanted {
                set_memory_v1(&dir, memory)
                    .map_err(|e| why.push(format!("cannot set the limit in {} ({e})", dir.display())))
            } else {
                set_pids(&dir, pids_max).then_some(()).ok_or(())
            };
            if ok.is_err() {
                let _ = std::fs::remove_dir(&dir);
                continue;
            }
            if memory_wanted {
                cg.oom_events = Some(dir.join("memory.oom_control"));
            } else {
                cg.pids = true;
            }
            cg.dirs.push(dir);
        }
        if cg.oom_events.is_none() {
            cg.no_memory = Some(if why.is_empty() {
                "this host offers no memory controller (none in cgroup v2's cgroup.subtree_control, no v1 memory hierarchy)"
                    .to_string()
            } else {
                why.join("; ")
            });
        }
        cg
    }

    /// How many of the sandbox's processes the memory cgroup killed for its limit (`None`
    /// without a memory cgroup). Read before the cgroups are dropped.
    pub fn oom_kills(&self) -> Option<u64> {
        let events = self.oom_events.as_ref()?;
        Some(std::fs::read_to_string(events).ok().as_deref().and_then(oom_kill_count).unwrap_or(0))
    }

    /// The memory cgroup's high-water mark of the sandbox's memory, in bytes (`memory.peak` on
    /// v2, Linux ≥ 5.19; `memory.max_usage_in_bytes` on v1): `None` without a memory cgroup or
    /// where the kernel keeps none. Read before the cgroups are dropped.
    pub fn memory_peak(&self) -> Option<u64> {
        let dir = self.oom_events.as_ref()?.parent()?;
        ["memory.peak", "memory.max_usage_in_bytes"]
            .iter()
            .find_map(|f| std::fs::read_to_string(dir.join(f)).ok()?.trim().parse().ok())
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
    use super::*;

    /// A stand-in for a cgroup hierarchy: plain directories and files in a temporary tree
    /// (the kernel's own files are made by the test, as the kernel would).
    fn layout(v2: Option<&str>, v1: &[&'static str], own: &str) -> (tempfile::TempDir, Layout) {
        let tmp = tempfile::tempdir().unwrap();
        let mut l = Layout { v2_roots: Vec::new(), v1: Vec::new(), own: own.into() };
        if let Some(controllers) = v2 {
            let root = tmp.path().join("unified");
            std::fs::create_dir_all(&root).unwrap();
            std::fs::write(root.join("cgroup.subtree_control"), controllers).unwrap();
            l.v2_roots.push(root);
        }
        for c in v1 {
            let mount = tmp.path().join(c);
            std::fs::create_dir_all(mount.join("user/session")).unwrap();
            std::fs::write(mount.join("cgroup.procs"), "").unwrap();
            l.v1.push((c, mount));
        }
        (tmp, l)
    }

    fn read(p: PathBuf) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn v1_paths_come_from_proc_self_cgroup() {
        let own = "9:name=systemd:/\n8:pids:/a\n4:memory:/process_api/ffd4\n0::/\n";
        assert_eq!(own_v1_path(own, "memory"), "/process_api/ffd4");
        assert_eq!(own_v1_path(own, "pids"), "/a");
        assert_eq!(own_v1_path(own, "no-such-controller"), "/");
        // This host's, whatever its layout, is an absolute path.
        assert!(own_v1_path(&Layout::host().own, "memory").starts_with('/'));
    }

    #[test]
    fn oom_kills_are_read_from_v2_and_v1_counters() {
        let v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(oom_kill_count(v2), Some(1));
        assert_eq!(oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), Some(3));
        assert_eq!(oom_kill_count("oom_kill_disable 0\nunder_oom 0\n"), None, "a kernel before 4.13");
    }

    #[test]
    fn on_cgroup_v2_one_directory_holds_both_limits() {
        let (_tmp, l) = layout(Some("cpu io memory pids"), &[], "0::/\n");
        let cg = Cgroups::create_in(&l, "x", 1024, 96 << 20);
        assert!(cg.pids && cg.no_memory.is_none(), "{cg:?}");
        assert_eq!(cg.dirs, [l.v2_roots[0].join("mcp-sandbox-x")]);
        assert_eq!(read(cg.dirs[0].join("memory.max")), (96u64 << 20).to_string());
        assert_eq!(read(cg.dirs[0].join("pids.max")), "1024");
        assert_eq!(cg.oom_kills(), Some(0), "no memory.events yet reads as none");
        std::fs::write(cg.dirs[0].join("memory.events"), "oom 1\noom_kill 1\n").unwrap();
        assert_eq!(cg.oom_kills(), Some(1));
        std::mem::forget(cg);
    }

    #[test]
    fn on_cgroup_v1_each_controller_is_below_our_own_cgroup() {
        // Hybrid, as on the development machine: v2 offers no controller, v1 has both.
        let (_tmp, l) = layout(Some(""), &["pids", "memory"], "8:pids:/user\n4:memory:/user/session\n0::/\n");
        let cg = Cgroups::create_in(&l, "y", 1024, 96 << 20);
        assert!(cg.pids && cg.no_memory.is_none(), "{cg:?}");
        let memory = l.v1[1].1.join("user/session/mcp-sandbox-y");
        assert_eq!(cg.dirs, [l.v1[0].1.join("user/mcp-sandbox-y"), memory.clone()]);
        assert_eq!(read(memory.join("memory.limit_in_bytes")), (96u64 << 20).to_string());
        std::fs::write(memory.join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").unwrap();
        assert_eq!(cg.oom_kills(), Some(2));
        std::mem::forget(cg);
    }

    #[test]
    fn without_a_memory_controller_or_the_right_to_use_it_the_reason_is_kept() {
        let (_tmp, l) = layout(Some("pids"), &[], "0::/\n");
        let cg = Cgroups::create_in(&l, "z", 1024, 1 << 30);
        assert!(cg.pids);
        assert_eq!(cg.oom_kills(), None);
        assert!(cg.no_memory.as_deref().is_some_and(|w| w.contains("no memory controller")), "{cg:?}");
        std::mem::forget(cg);
        // A v1 memory hierarchy whose directory cannot be made (here: our cgroup is not there).
        let (_tmp, l) = layout(None, &["memory"], "4:memory:/elsewhere/deep\n");
        let cg = Cgroups::create_in(&l, "w", 1024, 1 << 30);
        assert!(!cg.pids && cg.dirs.is_empty());
        let why = cg.no_memory.clone().unwrap_or_default();
        assert!(why.starts_with("cannot make a cgroup in ") && why.contains("elsewhere/deep"), "{why}");
    }
}
