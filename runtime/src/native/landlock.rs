//! Landlock, the second wall: even inside its own mount namespace the tool may touch only the
//! granted paths with the granted rights, may not bind or connect TCP ports (the egress
//! broker's ports will be the only exception), and may not reach abstract unix sockets or
//! signal processes outside its domain. The required ABI is enforced, not hoped for.

use super::spec::Bind;
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope,
};
use std::path::Path;

/// The ABI every native sandbox requires: 4 for TCP port rules, 6 for scoping abstract unix
/// sockets and signals.
pub const REQUIRED: ABI = ABI::V6;

/// The Landlock ABI the running kernel offers (0 when Landlock is off).
pub fn kernel_abi() -> i32 {
    // Probing creates and immediately drops a ruleset; it restricts nothing.
    let probe = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(ABI::V1))
        .and_then(|r| r.create());
    match probe {
        Ok(_) => (1..=8).rev().find(|v| abi_supported(*v)).unwrap_or(0),
        Err(_) => 0,
    }
}

fn abi_supported(v: i32) -> bool {
    let abi = match v {
        8 => ABI::V8,
        7 => ABI::V7,
        6 => ABI::V6,
        5 => ABI::V5,
        4 => ABI::V4,
        3 => ABI::V3,
        2 => ABI::V2,
        _ => ABI::V1,
    };
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .is_ok()
}

/// Restricts the calling process (and everything it starts) to `binds` plus the sandbox's own
/// `/tmp`, `/dev/shm`, `/dev` and `/proc`.
/// TCP connections are allowed only to `connect_ports` (the broker's relays and proxy, inside
/// the network namespace where nothing else listens); TCP binds never.
pub fn restrict(binds: &[Bind], connect_ports: &[u16]) -> Result<(), String> {
    let abi = REQUIRED;
    let e = |e: landlock::RulesetError| format!("landlock: {e}");
    let read = AccessFs::from_read(abi) & !AccessFs::Execute;
    let read_exec = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(e)?
        .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
        .map_err(e)?
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(e)?
        .create()
        .map_err(e)?;
    let mut rules: Vec<(&Path, landlock::BitFlags<AccessFs>)> = binds
        .iter()
        .map(|b| {
            let access = if b.writable {
                all
            } else if b.exec {
                read_exec
            } else {
                read
            };
            (b.path.as_path(), if b.exec { access } else { access & !AccessFs::Execute })
        })
        .collect();
    // The private scratch spaces: every right but execute (their mounts are noexec as well).
    rules.push((Path::new("/tmp"), all & !AccessFs::Execute));
    rules.push((Path::new("/dev/shm"), all & !AccessFs::Execute));
    // Device nodes: read, write and truncate (`> /dev/null`), terminal ioctls; nothing made.
    rules.push((
        Path::new("/dev"),
        AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::ReadDir | AccessFs::Truncate | AccessFs::IoctlDev,
    ));
    // Listing directories of the (minimal, read-only) root reveals nothing the grant hides.
    rules.push((Path::new("/"), AccessFs::ReadDir.into()));
    rules.push((Path::new("/proc"), read));
    for (file, _) in super::mounts::SYNTHETIC_FILES {
        rules.push((Path::new(file), read));
    }
    for (path, access) in rules {
        let fd = PathFd::new(path).map_err(|err| format!("landlock: open {}: {err}", path.display()))?;
        // A file takes only file rights.
        let access = if path.is_dir() { access } else { access & AccessFs::from_file(abi) };
        ruleset = ruleset.add_rule(PathBeneath::new(fd, access)).map_err(e)?;
    }
    for port in connect_ports {
        ruleset = ruleset.add_rule(NetPort::new(*port, AccessNet::ConnectTcp)).map_err(e)?;
    }
    let status = ruleset.restrict_self().map_err(e)?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(format!("landlock: ruleset only {:?} on this kernel", status.ruleset));
    }
    Ok(())
}
