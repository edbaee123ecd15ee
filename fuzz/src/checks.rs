//! Checks shared by the fuzz targets: what must hold of anything the parsers accept or refuse.

use crate::policy::Limits;
use crate::policy::endpoint::{HostPattern, ends_in_number, libc_ipv4};
use crate::policy::units::{MAX_MEMORY, MAX_OUTPUT, MAX_TIMEOUT};
use std::fmt::Display;
use std::net::IpAddr;
use std::time::{Instant, SystemTime};

/// The text a fuzz input stands for (parsers take `&str`; other bytes are not text).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A refusal is one line: the CLI prints it as `mcp-sandbox: <error>` and exits 125.
pub fn assert_one_line(e: &dyn Display) {
    let s = e.to_string();
    assert!(!s.contains(['\n', '\r']), "an error message spans lines: {s:?}");
}

/// What the runtime later computes from limits (a deadline, the grant's expiry written as
/// RFC 3339, messages): none of it may overflow or panic.
pub fn use_limits(l: &Limits) {
    assert!(!l.timeout.is_zero() && l.timeout <= MAX_TIMEOUT, "timeout {:?}", l.timeout);
    assert!(l.memory > 0 && l.memory <= MAX_MEMORY, "memory {}", l.memory);
    assert!(l.output > 0 && l.output <= MAX_OUTPUT, "output {}", l.output);
    let expiry = SystemTime::now().checked_add(l.timeout).expect("expiry overflows");
    let _ = humantime::format_rfc3339_millis(expiry).to_string();
    let _ = Instant::now().checked_add(l.timeout).expect("deadline overflows");
    let _ = humantime::format_duration(l.timeout).to_string();
    let _ = usize::try_from(l.output).expect("output cap fits in memory");
}

/// A host the parsers accepted as a DNS name is no address in disguise.
pub fn assert_real_name(host: &HostPattern) {
    if let HostPattern::Name(n) | HostPattern::Suffix(n) = host {
        assert!(n.parse::<IpAddr>().is_err(), "address accepted as a name: {n}");
        assert!(libc_ipv4(n).is_none(), "libc reads the name {n} as {:?}", libc_ipv4(n));
        assert!(!ends_in_number(n), "name ends in a number: {n}");
        assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)), "{n}");
    }
}
