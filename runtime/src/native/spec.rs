//! What the supervisor tells the sandbox's init stages: a plain, serializable description of
//! the confined process, derived from the grant alone. Sent over a pipe, never on the command
//! line or in the environment (it holds env values).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A host path shown inside at the same path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bind {
    pub path: PathBuf,
    pub writable: bool,
    /// Programs under it may be executed.
    pub exec: bool,
    /// A path of the grant (or the tool itself) rather than of the system view: when a root
    /// supervisor's tool runs as an unprivileged host user, it keeps the invoking user's
    /// ownership here, and only here (see `identity`).
    pub granted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// Absolute path of the program (bound read+exec at the same path).
    pub program: PathBuf,
    /// argv[1..].
    pub args: Vec<String>,
    /// The whole environment of the tool.
    pub env: Vec<(String, String)>,
    pub binds: Vec<Bind>,
    /// Symlinks of the system view (`/bin -> usr/bin`), recreated inside.
    pub links: Vec<(PathBuf, PathBuf)>,
    /// Host uid/gid the sandbox user maps to: the supervisor's own, or, for a root supervisor,
    /// `identity::UNPRIVILEGED_HOST_ID` (stage 1 drops to it).
    pub outer_uid: u32,
    pub outer_gid: u32,
    pub limits: RLimits,
    /// The tool's working directory: the caller's when the grant shows it, else `/tmp`.
    pub cwd: PathBuf,
    /// The egress sockets to open inside.
    pub net: super::net::NetPlan,
    /// Apply Landlock (off only in a sandbox the caller allowed to be degraded).
    pub landlock: bool,
    /// How many cgroups stage 1 joins (through descriptors sent over the egress channel)
    /// before starting anything: the pids and memory limits of the whole tree.
    pub cgroups: usize,
    /// The seccomp filters, compiled by the supervisor (`bpf::pack`), in install order.
    pub seccomp: Vec<String>,
    /// For each descriptor the supervisor hands stage 1 after the cgroups (`handover::send_paths`),
    /// the index in `binds` of the granted path it is: the `O_PATH` descriptor opened when the
    /// path was checked. Those binds are mounted from it, never looked up by name.
    #[serde(default)]
    pub handles: Vec<usize>,
    /// A learning sandbox: every writable bind is shown through a throw-away write layer
    /// (`layer`), so the tool's writes never reach the host.
    #[serde(default)]
    pub layer: bool,
}

/// Resource limits applied with setrlimit before the tool starts. No address-space limit
/// (`RLIMIT_AS`): V8, Go, the JVM and wasmtime reserve far more than they use.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RLimits {
    pub cpu_seconds: u64,
    /// `RLIMIT_DATA`, only where no memory cgroup holds the tree (`limits::MemoryBound`).
    pub data: Option<u64>,
    pub processes: u64,
    pub open_files: u64,
    pub file_size: u64,
}

/// The uid and gid the tool runs as inside its user namespace: unprivileged, no capabilities.
pub const INNER_ID: u32 = 1000;
