//! What an executor is asked to do and what it reports back; the same for every executor.

use crate::grant::GrantId;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

/// Where the tool's stdin comes from.
#[derive(Debug, Clone, Default)]
pub enum Stdin {
    /// The runtime's own stdin (the CLI).
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// End of file at once.
    #[default]
    Empty,
    /// Read from this descriptor (a pipe) as the tool runs: long-lived tools such as a
    /// proxied MCP server.
    Stream(Arc<OwnedFd>),
}

/// Where the tool's stdout and stderr go.
#[derive(Debug, Clone, Default)]
pub enum Output {
    /// The runtime's own stdout/stderr (the CLI).
    Inherit,
    /// Kept in memory, up to the grant's output limit per stream.
    #[default]
    Capture,
    /// Stdout written to this descriptor (a pipe) as the tool runs; stderr inherited.
    Stream(Arc<OwnedFd>),
    /// Stdout and stderr each written to a descriptor (a pipe) as the tool runs: a proxied
    /// server whose stderr the proxy reads to report why it ended.
    Streams { stdout: Arc<OwnedFd>, stderr: Arc<OwnedFd> },
}

impl Output {
    pub fn is_capture(&self) -> bool {
        matches!(self, Output::Capture)
    }
}

/// One tool call.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Arguments after the program name.
    pub args: Vec<String>,
    pub stdin: Stdin,
    pub output: Output,
    /// Run a native tool even when a non-essential layer cannot be enforced here; each missing
    /// layer is audited (`sandbox.degraded`) and reported. Off by default: fail closed.
    pub allow_degraded: bool,
    /// Record the paths a native tool opens, creates, removes and runs (for behaviour
    /// profiles), at the cost of a round trip to the supervisor per such call. WebAssembly
    /// tools' file use is seen by the host without it.
    pub observe: bool,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The tool exited with this status.
    Exited(i32),
    /// The tool trapped (crashed); the message says where.
    Trapped(String),
    /// The wall-clock limit passed.
    TimedOut(Duration),
    /// The memory limit stopped it.
    MemoryExceeded(String),
    /// The grant was revoked from outside (e.g. a cancelled call).
    Revoked,
}

impl Status {
    /// The CLI exit status: the tool's own; 124 timeout; 137 resource limit; 134 trap
    /// (as an abort); 130 revoked (as an interrupt).
    pub fn exit_code(&self) -> i32 {
        match self {
            Status::Exited(c) => *c,
            Status::Trapped(_) => 134,
            Status::TimedOut(_) => 124,
            Status::MemoryExceeded(_) => 137,
            Status::Revoked => 130,
        }
    }

    pub fn success(&self) -> bool {
        *self == Status::Exited(0)
    }
}

/// The result of one invocation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub invocation: GrantId,
    pub status: Status,
    /// Captured stdout (empty when inherited).
    pub stdout: Vec<u8>,
    /// Captured stderr (empty when inherited).
    pub stderr: Vec<u8>,
    /// Whether captured output reached the output limit and was cut.
    pub output_truncated: bool,
    /// What the call did: its grant's checks and refusals, the paths and programs the executor
    /// observed, its peaks. Filled by [`crate::Sandbox::run`] when the executor returns.
    pub observed: crate::profile::Observation,
    /// One line per refusal the call met (`denied: …; to allow: …`, limits, missing layers),
    /// for whoever reports the call (`serve` tells its client). Filled with [`Outcome::observed`].
    pub refusals: Vec<String>,
    /// The same refusals, whole (capability, target, reason).
    pub refused: Vec<crate::audit::Refused>,
}

impl Outcome {
    /// What an executor reports; [`crate::Sandbox::run`] adds what the call was observed doing.
    pub(crate) fn new(invocation: GrantId, status: Status, stdout: Vec<u8>, stderr: Vec<u8>, truncated: bool) -> Self {
        Outcome {
            invocation,
            status,
            stdout,
            stderr,
            output_truncated: truncated,
            observed: Default::default(),
            refusals: Vec::new(),
            refused: Vec::new(),
        }
    }
}

/// Async ends for [`Stdin::Stream`] and [`Output::Stream`] descriptors, for executors that
/// serve the tool's stdio themselves. Each wraps a duplicate; the caller's stays open.
pub(crate) mod stream {
    use crate::error::{Error, Result};
    use std::os::fd::OwnedFd;
    use tokio::net::unix::pipe;

    pub fn dup(fd: &OwnedFd) -> Result<OwnedFd> {
        fd.try_clone().map_err(|e| Error::RunTool(format!("duplicate a stdio descriptor: {e}")))
    }

    pub fn reader(fd: &OwnedFd) -> Result<pipe::Receiver> {
        pipe::Receiver::from_owned_fd(dup(fd)?).map_err(|e| Error::RunTool(format!("stdin must be a pipe: {e}")))
    }

    pub fn writer(fd: &OwnedFd) -> Result<pipe::Sender> {
        pipe::Sender::from_owned_fd(dup(fd)?).map_err(|e| Error::RunTool(format!("stdout must be a pipe: {e}")))
    }
}
