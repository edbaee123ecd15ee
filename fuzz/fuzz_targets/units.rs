//! Durations and sizes (`--timeout`, `--memory`, `[limits]` of policies and manifests).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::Policy;
use mcp_sandbox_fuzz::checks::{assert_one_line, text, use_limits};
use mcp_sandbox_fuzz::policy::units::{MAX_MEMORY, MAX_OUTPUT, format_size, parse_duration, parse_size};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    if let Ok(d) = parse_duration(text) {
        assert!(!d.is_zero());
    }
    for max in [MAX_MEMORY, MAX_OUTPUT, u64::MAX] {
        if let Ok(n) = parse_size(text, max) {
            assert!(n > 0 && n <= max, "{text:?} -> {n}");
            assert_eq!(parse_size(&format_size(n), max), Ok(n), "format_size({n}) reads back");
        }
    }
    // Through the flags, as the CLI sets them.
    let mut b = Policy::builder();
    for r in [b.timeout(text).map(|_| ()), b.memory(text).map(|_| ()), b.output(text).map(|_| ())] {
        if let Err(e) = r {
            assert_one_line(&e);
        }
    }
    use_limits(&b.build().limits);
});
