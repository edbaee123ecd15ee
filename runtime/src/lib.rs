//! mcp-sandbox: sandboxed execution of MCP tools under just-in-time capability grants.
//!
//! * [`policy`]: what a tool declares (files, env, endpoints, limits), validated and frozen;
//! * [`grant`]: the concrete grant issued for one invocation, checked on every use and
//!   revoked when the invocation ends;
//! * [`egress`]: network decisions (endpoint matching, pinned resolution, DNS guard);
//! * [`audit`]: the JSON-lines audit trail;
//! * [`wasm`]: the WebAssembly component executor;
//! * [`native`]: the native executor (namespaces, Landlock, seccomp) and its egress broker;
//! * [`sandbox`]: the small library API that ties them together;
//! * [`mcp`]: tool manifests, per-call grants bound to arguments, `serve`, `proxy`, pins;
//! * [`profile`]: behaviour profiles: what a tool was seen doing, the policy derived from it,
//!   and the judgement of later calls against it;
//! * [`vet`]: tool vetting (poisoned definitions) and the secret detector of the data-flow guard;
//! * [`ops`]: what `serve --listen` gives a cluster: probes, metrics, status, graceful shutdown;
//! * [`cli`]: the `mcp-sandbox` command line, a thin layer over the library.

pub mod audit;
pub mod cli;
pub mod egress;
pub mod error;
pub mod grant;
pub mod invoke;
pub mod mcp;
pub mod native;
pub mod ops;
pub mod policy;
pub mod profile;
pub mod sandbox;
pub mod telemetry;
pub mod vet;
pub mod wasm;
pub mod workdir;

pub use error::{Error, Result};
pub use invoke::{Call, Outcome, Output, Status, Stdin};
pub use policy::{Policy, PolicyBuilder};
pub use sandbox::{CacheSetting, Sandbox, SandboxBuilder, Tool};
