//! Address ranges that a declared *name* may never lead to.
//!
//! A name that resolves into one of these ranges is refused (DNS rebinding: a public name
//! pointed at a loopback service or the cloud metadata endpoint). An endpoint that names the
//! address or range literally, or a `--resolve NAME:ADDR` pin, still reaches it: the user said so.

use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::LazyLock;

/// `(range, reason)`: one line of reason per entry.
const SPECIAL_RANGES: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\"; 0.0.0.0 reaches local services"),
    ("10.0.0.0/8", "private network (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT shared space (RFC 6598)"),
    ("127.0.0.0/8", "loopback: services on this host"),
    ("169.254.0.0/16", "link-local, including cloud metadata 169.254.169.254"),
    ("172.16.0.0/12", "private network (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (incl. some metadata services)"),
    ("192.168.0.0/16", "private network (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking network, used internally by some clouds"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved, and the broadcast address"),
    ("::/128", "unspecified address"),
    ("::1/128", "loopback: services on this host"),
    ("64:ff9b:1::/48", "local-use NAT64 translation"),
    ("fc00::/7", "unique local addresses, incl. fd00:ec2::254 metadata"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

static RANGES: LazyLock<Vec<(IpNet, &'static str)>> = LazyLock::new(|| {
    SPECIAL_RANGES.iter().filter_map(|(net, why)| net.parse::<IpNet>().ok().map(|n| (n, *why))).collect()
});

/// Why `ip` must not be reached through a name, or `None` for an ordinary public address.
/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    let ip = ip.to_canonical();
    RANGES.iter().find(|(net, _)| net.contains(&ip)).map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_whole() {
        assert_eq!(RANGES.len(), SPECIAL_RANGES.len());
    }

    #[test]
    fn classifies() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "192.168.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "172.31.255.255",
            "fd00:ec2::254",
        ] {
            assert!(special_range(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "172.32.0.1"] {
            assert!(special_range(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
