//! The policy file: TOML text to a validated, built policy (`mcp-sandbox policy check`,
//! `--policy`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::Policy;
use mcp_sandbox_fuzz::checks::{assert_one_line, assert_real_name, text, use_limits};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let mut builder = Policy::builder();
    match builder.text(text, Path::new("/nonexistent-mcp-sandbox-fuzz/policy.toml")) {
        Ok(_) => {
            let policy = builder.build();
            use_limits(&policy.limits);
            for e in policy.endpoints.iter().chain(&policy.listen) {
                assert_real_name(&e.host);
            }
            serde_json::to_string(&policy).expect("a built policy serialises");
        }
        Err(e) => assert_one_line(&e),
    }
});
