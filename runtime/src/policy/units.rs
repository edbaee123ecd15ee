//! Durations (`30s`, `1m30s`, `500ms`) and sizes (`256MiB`, `1G`, `4096`), bounded where they
//! are parsed: no later arithmetic on a limit (a deadline, an expiry time, a buffer size) can
//! overflow, whatever a flag, a policy file or a tool manifest says.

use std::time::Duration;

/// The longest wall-clock limit: one year (365.25 days, humantime's `1y`). Enough for a
/// `proxy` session (whose default is 365 days), and far from where adding it to the clock or
/// writing the grant's expiry as a date could overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(31_557_600);

/// The largest memory limit: 1 TiB. Applied to WebAssembly linear memory and a native tool's
/// memory cgroup (or, without one, each of its processes' data).
pub const MAX_MEMORY: u64 = 1 << 40;

/// The largest cap on captured output: 1 GiB per stream, held in the supervisor's memory.
pub const MAX_OUTPUT: u64 = 1 << 30;

/// Parses a human duration, from more than zero (a limit of nothing is a mistake) to
/// [`MAX_TIMEOUT`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    // humantime reads any whitespace between parts (`1\ns` is 1s): only spaces are written.
    if text.trim().contains(|c: char| c.is_control()) {
        return Err("contains a control character (e.g. 30s, 1m30s, 500ms)".into());
    }
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("{e} (e.g. 30s, 1m30s, 500ms)"))?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    if d > MAX_TIMEOUT {
        return Err(format!("longer than the maximum of {}", humantime::format_duration(MAX_TIMEOUT)));
    }
    Ok(d)
}

/// Parses a byte size, from 1 to `max`. `K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB` are binary;
/// `KB`, `MB`, `GB`, `TB` decimal.
pub fn parse_size(text: &str, max: u64) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| "expected a number with an optional unit, e.g. 256MiB".to_string())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => return Err(format!("unknown unit `{other}` (use B, KiB, MiB, GiB or TiB)")),
    };
    let too_large = || format!("larger than the maximum of {}", format_size(max));
    let bytes = n.checked_mul(mult).ok_or_else(too_large)?;
    if bytes == 0 {
        return Err("must be greater than zero".into());
    }
    if bytes > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Formats a size for messages: `256MiB`, `1536KiB`, `100B`.
pub fn format_size(bytes: u64) -> String {
    for (unit, m) in [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= m && bytes.is_multiple_of(m) {
            return format!("{}{unit}", bytes / m);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    /// Issue 9: `--timeout 18446744073709551615s` overflowed adding to the clock, `10000y`
    /// overflowed the expiry's date; both are refused here, the maximum itself is accepted.
    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_duration("1y"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_duration("365days"), Ok(Duration::from_secs(365 * 86_400)));
        for text in ["18446744073709551615s", "10000y", "1y 1s", "366days", "99999999999999999999999s"] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.contains("maximum") || e.contains("too large"), "{text}: {e}");
        }
        assert_eq!(parse_duration("1y 1s").unwrap_err(), "longer than the maximum of 1year");
    }

    #[test]
    fn sizes() {
        let max = u64::MAX;
        assert_eq!(parse_size("256MiB", max), Ok(256 << 20));
        assert_eq!(parse_size("1g", max), Ok(1 << 30));
        assert_eq!(parse_size("10MB", max), Ok(10_000_000));
        assert_eq!(parse_size("4096", max), Ok(4096));
        assert_eq!(parse_size("1TiB", max), Ok(1 << 40));
        assert!(parse_size("lots", max).is_err());
        assert!(parse_size("5XB", max).is_err());
        assert!(parse_size("0", max).is_err());
        assert!(parse_size("99999999999999GiB", max).is_err());
        assert_eq!(format_size(256 << 20), "256MiB");
        assert_eq!(format_size(1000), "1000B");
        assert_eq!(format_size(MAX_MEMORY), "1TiB");
    }

    #[test]
    fn sizes_are_bounded() {
        assert_eq!(parse_size("1TiB", MAX_MEMORY), Ok(MAX_MEMORY));
        assert_eq!(parse_size("1025GiB", MAX_MEMORY).unwrap_err(), "larger than the maximum of 1TiB");
        assert_eq!(parse_size("18446744073709551615", MAX_OUTPUT).unwrap_err(), "larger than the maximum of 1GiB");
        assert_eq!(parse_size("99999999999999GiB", MAX_OUTPUT).unwrap_err(), "larger than the maximum of 1GiB");
        assert!(parse_size("99999999999999999999999", MAX_OUTPUT).is_err(), "past u64");
    }
}
