//! JSON-RPC lines as `serve` filters them (`wire::check`) and as the proxy reads a server's
//! lines (`wire::parse`, then `lenient` and `probe_id` for a line the strict parse refused).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::checks::assert_one_line;
use mcp_sandbox_fuzz::mcp::wire::{check, lenient, parse, probe_id};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let strict = std::str::from_utf8(data).ok().map(|text| {
        let parsed = parse(text);
        // serve's filter (which builds nothing) and the proxy's parse agree on every line.
        assert_eq!(check(text).is_ok(), parsed.is_ok(), "check and parse disagree on {text:?}");
        match &parsed {
            Ok(v) => {
                // What the proxy relays is its re-serialisation: it must read back the same.
                let again = serde_json::to_string(v).expect("a parsed value serialises");
                assert_eq!(parse(&again).as_ref(), Ok(v), "{again}");
            }
            Err(e) => assert_one_line(e),
        }
        parsed
    });
    // A refused line is read leniently only to compare what it carried with the pins: that
    // reading must itself be a value the strict parse accepts (so it can be inspected).
    if let Some(v) = lenient(data) {
        let text = serde_json::to_string(&v).expect("a lenient value serialises");
        assert!(parse(&text).is_ok(), "lenient reading is not strict JSON: {text}");
    }
    // The id read off a refused line is the id the strict parse would have seen.
    if let (Some(id), Some(Ok(Value::Object(m)))) = (probe_id(data), strict) {
        assert_eq!(m.get("id").and_then(Value::as_u64), Some(id), "probe_id disagrees");
    }
});
