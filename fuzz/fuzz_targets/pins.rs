//! The proxy's pins: two tool definitions (two JSON lines) pinned and compared as the proxy
//! does when a server lists a tool again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::mcp::pins::{MAX_CHANGES_SHOWN, canonical, changed_fields, digest};
use mcp_sandbox_fuzz::mcp::wire::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.splitn(2, '\n');
    let (Some(Ok(a)), Some(Ok(b))) = (lines.next().map(parse), lines.next().map(parse)) else { return };
    // The canonical form is deterministic JSON.
    assert_eq!(canonical(&a), canonical(&a.clone()));
    assert!(parse(&canonical(&a)).is_ok(), "canonical form is not JSON: {}", canonical(&a));
    // A definition is unchanged exactly when no field is reported changed; a change is never
    // silent (the digest differs) and never lists more than the cap plus its count.
    let same = canonical(&a) == canonical(&b);
    let fields = changed_fields(&a, &b);
    assert_eq!(same, fields.is_empty(), "canonical equality and changed fields disagree: {fields:?}");
    assert_eq!(same, digest(&a) == digest(&b));
    assert!(fields.len() <= MAX_CHANGES_SHOWN + 1);
    assert!(changed_fields(&a, &a).is_empty());
});
