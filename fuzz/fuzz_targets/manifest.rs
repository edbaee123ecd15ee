//! Tool manifests (`tools/*/tool.toml`) as `serve` loads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::checks::{assert_one_line, text, use_limits};
use mcp_sandbox_fuzz::mcp::ToolSpec;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    match ToolSpec::parse(text, Path::new("/nonexistent-mcp-sandbox-fuzz/tools/t/tool.toml")) {
        Ok(spec) => use_limits(&spec.policy.build().limits),
        Err(e) => assert_one_line(&e),
    }
});
