//! The runtime's input parsers, compiled here from `runtime/src` by path, and the checks the
//! fuzz targets share ([`checks`]).
//!
//! Only modules that parse input, and what they use, are included: `error`, `policy` (policy
//! files, endpoints, durations and sizes), `egress::addr` (the DNS-rebinding table) and
//! `mcp::{bind, manifest}` (tool manifests), `mcp::wire` (the JSON-RPC line filter of `serve` and
//! the proxy's reading of server lines) and `mcp::pins` (the proxy's canonical tool definitions). They keep their paths (`crate::policy::...`), so
//! the files compile unchanged. A parser module that starts using another runtime module needs
//! that module added here too (or the dependency kept out of the parser): the fuzz build says so
//! with an unresolved `crate::` path.

#[path = "../../runtime/src/error.rs"]
pub mod error;
pub use error::{Error, Result};

#[path = "../../runtime/src/policy/mod.rs"]
pub mod policy;
pub use policy::{Policy, PolicyBuilder};

#[path = "../../runtime/src/egress"]
pub mod egress {
    pub mod addr;
}

#[path = "../../runtime/src/mcp"]
pub mod mcp {
    pub mod bind;
    pub mod manifest;
    pub mod pins;
    pub mod wire;
    pub use manifest::ToolSpec;
}

pub mod checks;
