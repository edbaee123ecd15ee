//! The init stages, run as `mcp-sandbox-init __native-init FD` (or `mcp-sandbox __native-init FD`)
//! reads the spec, enters new namespaces and maps its uid; its forked child, stage 2, is PID 1
//! of the new PID namespace and builds the sandbox, then starts the tool. A setup failure ends
//! the stage with 125 and one line on stderr.

use super::spec::{INNER_ID, Spec};
use super::{bpf, granted, handover, identity, landlock, mounts, sys};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::Command;

const SPEC_FD: i32 = 3;
const NET_FD: i32 = 4;
/// A pids and a memory cgroup (one directory on cgroup v2).
const MAX_CGROUPS: usize = 2;

fn fail(step: &str, e: impl std::fmt::Display) -> i32 {
    let e = e.to_string();
    let hint = container_hint(step, &e);
    eprintln!("mcp-sandbox: native sandbox setup failed: {step}: {e}{hint}");
    125
}

/// The options a container needs for the sandbox to be built inside it (README "Deployment").
const CONTAINER_OPTIONS: &str = "; if this runs in a container, start it with --security-opt seccomp=deploy/seccomp.json \
    --security-opt systempaths=unconfined (Kubernetes: the Localhost seccomp profile and procMount: Unmasked; README: Deployment)";

/// The steps a container engine's defaults refuse, and how: its seccomp profile refuses
/// `unshare` (Docker) or `sethostname` (podman) with EPERM or ENOSYS, its masked `/proc`
/// makes a fresh proc mount EPERM, an AppArmor profile refuses mounts with EACCES. There the
/// one line names the options that fix it; elsewhere it adds nothing.
fn container_hint(step: &str, e: &str) -> &'static str {
    let engine_step = step.starts_with("create namespaces") || step == "set hostname" || step == "build root";
    let refused = ["(os error 1)", "(os error 13)", "(os error 38)"].iter().any(|c| e.ends_with(c));
    if engine_step && refused { CONTAINER_OPTIONS } else { "" }
}

fn read_spec(arg: Option<&str>) -> Result<Option<Spec>, String> {
    let fd = arg.and_then(|a| a.parse().ok()).ok_or("missing descriptor argument")?;
    let fd = sys::take_inherited_fd(fd).ok_or("descriptor not inherited")?;
    let mut text = String::new();
    std::fs::File::from(fd).read_to_string(&mut text).map_err(|e| e.to_string())?;
    if text.is_empty() {
        // The supervisor gave up before sending a spec (and reported why itself).
        return Ok(None);
    }
    serde_json::from_str(&text).map(Some).map_err(|e| e.to_string())
}

/// Arranges for a child to read a spec at `SPEC_FD`; returns the pipe's write end, to be
/// written with [`write_spec`] once the child is started (no thread: after unsharing a PID
/// namespace, a process can no longer create threads).
/// The sandbox's end of the egress channel is passed at `NET_FD`; the cgroups' joining
/// descriptors come over it (`handover::send_cgroups`), so that they can be made while this
/// program starts.
pub(crate) fn spec_pipe(cmd: &mut Command, net: OwnedFd) -> std::io::Result<std::fs::File> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    sys::pass_fds(cmd, vec![(read, SPEC_FD), (net, NET_FD)]);
    cmd.arg(SPEC_FD.to_string());
    Ok(std::fs::File::from(write))
}

pub(crate) fn write_spec(mut pipe: std::fs::File, spec: &Spec) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(spec).map_err(std::io::Error::other)?;
    std::io::Write::write_all(&mut pipe, &bytes)
}

/// Stage 1: new namespaces, the uid/gid mapping, then stage 2 as PID 1 of the new PID namespace.
pub fn stage1(arg: Option<&str>) -> i32 {
    let spec = match read_spec(arg) {
        Ok(Some(s)) => s,
        Ok(None) => return 125,
        Err(e) => return fail("read spec", e),
    };
    let Some(channel) = sys::take_inherited_fd(NET_FD) else {
        return fail("egress channel", "descriptor not inherited");
    };
    if let Err(e) = sys::close_inherited_from(NET_FD as u32 + 1) {
        return fail("close inherited descriptors", e);
    }
    // Into the cgroups before anything is started, so that every process of the sandbox is
    // counted. Writing `0` moves the writer (this single-threaded process).
    let cgroups = match handover::receive_cgroups(&channel, spec.cgroups.min(MAX_CGROUPS)) {
        Ok(c) => c,
        Err(e) => return fail("join the sandbox's cgroups", e),
    };
    for cgroup in cgroups {
        if let Err(e) = rustix::io::write(&cgroup, b"0") {
            return fail("join the sandbox's cgroups", e);
        }
    }
    let handles = match granted::receive(&channel, &spec) {
        Ok(h) => h,
        Err(e) => return fail("receive the granted paths", e),
    };
    // A root supervisor's tool gets an unprivileged host identity (see `identity`): the granted
    // paths are prepared while we are still root, then we drop to it.
    let me = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
    let tool = (spec.outer_uid, spec.outer_gid);
    let trees = if me == tool {
        spec.binds.iter().map(|_| None).collect()
    } else {
        identity::granted_trees(&spec.binds, &handles, me, tool)
    };
    if me != tool
        && let Err(e) = identity::drop_to(tool)
    {
        return fail("drop root", e);
    }
    if let Err(e) = sys::unshare_all() {
        return fail("create namespaces (user, mount, pid, net, ipc, uts, cgroup)", e);
    }
    let maps = [
        ("/proc/self/setgroups", "deny".to_string()),
        ("/proc/self/uid_map", format!("{INNER_ID} {} 1", spec.outer_uid)),
        ("/proc/self/gid_map", format!("{INNER_ID} {} 1", spec.outer_gid)),
    ];
    for (file, line) in maps {
        if let Err(e) = std::fs::write(file, line) {
            return fail(&format!("write {file}"), e);
        }
    }
    // The child of a fork is PID 1 of the new PID namespace, and keeps our capabilities there.
    match sys::fork_single_threaded() {
        Err(e) => fail("fork PID 1", e),
        Ok(None) => std::process::exit(stage2(&spec, channel, trees, handles)),
        Ok(Some(pid)) => {
            // From here stage 1 only waits: it holds nothing in the sandbox's namespaces.
            drop(channel);
            drop(trees);
            drop(handles);
            if let Err(e) = identity::drop_capabilities() {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                return fail("drop capabilities", e);
            }
            wait_for(pid)
        }
    }
}

/// Waits for PID 1 and returns its exit status (128 + signal if it was killed).
fn wait_for(pid: rustix::process::Pid) -> i32 {
    match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty()) {
        Ok(Some((_, status))) => {
            status.exit_status().or_else(|| status.terminating_signal().map(|s| 128 + s)).unwrap_or(1)
        }
        Ok(None) => fail("wait for PID 1", "no status"),
        Err(e) => fail("wait for PID 1", e),
    }
}

/// Stage 2 (PID 1): the root filesystem, limits, Landlock, seccomp; then the tool as PID 2.
/// When the tool exits, so does PID 1, and the kernel kills whatever the tool left behind.
fn stage2(spec: &Spec, channel: OwnedFd, trees: Vec<Option<identity::Tree>>, handles: Vec<Option<OwnedFd>>) -> i32 {
    // If stage 1 (and so the supervisor's hold on us) goes away, so do we.
    if let Err(e) = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL)) {
        return fail("set parent-death signal", e);
    }
    if let Err(e) = rustix::system::sethostname(b"sandbox") {
        return fail("set hostname", e);
    }
    let trees = match granted::complete(&spec.binds, trees, &handles) {
        Ok(t) => t,
        Err(e) => return fail("granted paths", e),
    };
    if let Err(e) = mounts::build_root(&spec.binds, &trees, &spec.links, spec.layer) {
        return fail("build root", e);
    }
    // Attached: PID 1 keeps no handle on the host's files.
    drop((trees, handles));
    // The egress sockets are opened (and handed over) before any restriction applies.
    if let Err(e) = handover::open_inside(&spec.net, &channel) {
        return fail("egress", e);
    }
    if let Err(e) = apply_rlimits(spec) {
        return fail("rlimits", e);
    }
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        return fail("no_new_privs", e);
    }
    if spec.landlock
        && let Err(e) = landlock::restrict(&spec.binds, &spec.net.connect_ports())
    {
        return fail("landlock", e);
    }
    // Fail closed: a spec without filters is a supervisor bug, never a reason to run unfiltered.
    if spec.seccomp.is_empty() {
        return fail("seccomp", "no filter in the spec");
    }
    let filters = match spec.seccomp.iter().map(|p| bpf::unpack(p)).collect::<Result<Vec<_>, _>>() {
        Ok(f) => f,
        Err(e) => return fail("seccomp", e),
    };
    // The last filter (the allowlist) hands what it refuses to the supervisor, through a
    // listener sent over the egress channel; then we hold neither.
    let Some((allowlist, first)) = filters.split_last() else {
        return fail("seccomp", "no filter in the spec");
    };
    for f in first {
        if let Err(e) = seccompiler::apply_filter(f) {
            return fail("seccomp", e);
        }
    }
    let listener = match sys::install_filter_with_listener(allowlist) {
        Ok(l) => l,
        Err(e) => return fail("seccomp (with a notification listener)", e),
    };
    if let Err(e) = handover::send_listener(&channel, listener) {
        return fail("seccomp", e);
    }
    drop(channel);
    // Set-up is done: PID 1 from here only starts the tool and reaps. It keeps no capability,
    // and its empty bounding set is the tool's too.
    if let Err(e) = identity::drop_capabilities() {
        return fail("drop capabilities", e);
    }
    let child = Command::new(&spec.program)
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().cloned())
        .current_dir(&spec.cwd)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return fail(&format!("start {}", spec.program.display()), e),
    };
    let tool = rustix::process::Pid::from_child(&child);
    // Reap every orphan re-parented to us until the tool itself ends.
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::empty()) {
            Ok(Some((pid, status))) if pid == tool => {
                return status.exit_status().or_else(|| status.terminating_signal().map(|s| 128 + s)).unwrap_or(1);
            }
            Ok(_) => continue,
            Err(e) => return fail("wait", e),
        }
    }
}

/// Sets each limit, soft and hard, at the spec's value, or at the inherited hard limit where
/// that is lower (raising one takes CAP_SYS_RESOURCE, which the sandbox never holds).
fn apply_rlimits(spec: &Spec) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = spec.limits;
    let mut limits = vec![
        (Resource::Core, 0),
        (Resource::Cpu, l.cpu_seconds),
        (Resource::Nproc, l.processes),
        (Resource::Nofile, l.open_files),
        (Resource::Fsize, l.file_size),
    ];
    if let Some(data) = l.data {
        limits.push((Resource::Data, data));
    }
    for (res, v) in limits {
        let v = getrlimit(res).maximum.map_or(v, |hard| v.min(hard));
        setrlimit(res, Rlimit { current: Some(v), maximum: Some(v) }).map_err(|e| format!("{res:?}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_container_engine_refuses_names_the_options() {
        for (step, e) in [
            ("create namespaces (user, mount, pid, net, ipc, uts, cgroup)", "Operation not permitted (os error 1)"),
            ("set hostname", "Operation not permitted (os error 1)"),
            ("build root", "mount proc /newroot/proc: Operation not permitted (os error 1)"),
            ("build root", "mount tmpfs /newroot: Permission denied (os error 13)"),
        ] {
            let hint = container_hint(step, e);
            assert!(
                hint.contains("--security-opt seccomp=deploy/seccomp.json --security-opt systempaths=unconfined"),
                "{step}: {hint}"
            );
        }
        assert_eq!(container_hint("set hostname", "Invalid argument (os error 22)"), "");
        assert_eq!(container_hint("rlimits", "Operation not permitted (os error 1)"), "");
    }
}
