//! Address ranges that a declared *name* may never lead to.
//!
//! A name that resolves into one of these ranges is refused (DNS rebinding: a public name
//! pointed at a loopback service or the cloud metadata endpoint). An endpoint that names the
//! address or range literally, or a `--resolve NAME:ADDR` pin, still reaches it: the user said so.
//!
//! Some IPv6 addresses carry an IPv4 address that a translator or tunnel on the path delivers
//! to (NAT64, SIIT, 6to4, Teredo): on an IPv6-only network with NAT64, `64:ff9b::a00:5` *is*
//! 10.0.0.5. Such an address is judged as the IPv4 address it carries ([`EMBEDDINGS`]).
//! A NAT64 translator's network-specific prefix (RFC 6052 §2.2, chosen by its operator) cannot
//! be recognised from the address alone; see the README.

use ipnet::{IpNet, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    ("64:ff9b:1::/48", "local-use NAT64 translation (RFC 8215): reaches the site's own IPv4 hosts"),
    ("fc00::/7", "unique local addresses, incl. fd00:ec2::254 metadata"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// Where in an IPv6 address the carried IPv4 address sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// The last 32 bits.
    Low32,
    /// Bits 16 to 47, right after the 16-bit prefix (6to4).
    After16,
    /// Teredo: the server's address in bits 32 to 63 and the client's, inverted, in the last
    /// 32 bits. Packets go to the client's address through a relay; both are judged.
    Teredo,
}

impl Carried {
    fn extract(self, ip: Ipv6Addr) -> Vec<Ipv4Addr> {
        let bits = u128::from(ip);
        // Truncating casts pick the 32 bits wanted after the shift.
        let at = |shift: u32| Ipv4Addr::from((bits >> shift) as u32);
        match self {
            Carried::Low32 => vec![at(0)],
            Carried::After16 => vec![at(80)],
            Carried::Teredo => vec![at(64), Ipv4Addr::from(!(bits as u32))],
        }
    }
}

/// `(prefix, where the IPv4 address is, what the address is)`: IPv6 forms that carry an IPv4
/// address, judged by that address against [`SPECIAL_RANGES`]. The direct entries above are
/// checked first (`::1` is loopback, not the IPv4-compatible form of 0.0.0.1).
pub const EMBEDDINGS: &[(&str, Carried, &str)] = &[
    ("::ffff:0:0/96", Carried::Low32, "an IPv4-mapped address (::ffff:0:0/96, RFC 4291)"),
    ("::ffff:0:0:0/96", Carried::Low32, "an IPv4-translated (SIIT) address (::ffff:0:0:0/96, RFC 6145)"),
    ("64:ff9b::/96", Carried::Low32, "a NAT64 address (64:ff9b::/96, RFC 6052): the translator dials it"),
    ("::/96", Carried::Low32, "a deprecated IPv4-compatible address (::/96, RFC 4291)"),
    ("2002::/16", Carried::After16, "a 6to4 address (2002::/16, RFC 3056): a relay tunnels to it"),
    ("2001::/32", Carried::Teredo, "a Teredo address (2001::/32, RFC 4380): a relay tunnels to it"),
];

struct Embedding {
    net: Ipv6Net,
    carried: Carried,
    /// One reason per entry of the direct table (used for its IPv4 entries).
    reasons: Vec<String>,
}

struct Table {
    direct: Vec<(IpNet, &'static str)>,
    embedded: Vec<Embedding>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let direct: Vec<(IpNet, &'static str)> =
        SPECIAL_RANGES.iter().filter_map(|(net, why)| net.parse::<IpNet>().ok().map(|n| (n, *why))).collect();
    let embedded = EMBEDDINGS
        .iter()
        .filter_map(|(net, carried, what)| {
            let net = net.parse::<Ipv6Net>().ok()?;
            let reasons = direct.iter().map(|(range, why)| format!("{why} ({range}), carried in {what}")).collect();
            Some(Embedding { net, carried: *carried, reasons })
        })
        .collect();
    Table { direct, embedded }
});

fn direct_index(ip: IpAddr) -> Option<usize> {
    TABLE.direct.iter().position(|(net, _)| net.contains(&ip))
}

/// The IPv4 addresses `ip` carries (see [`EMBEDDINGS`]); empty for an ordinary address.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    TABLE.embedded.iter().filter(|e| e.net.contains(&ip)).flat_map(|e| e.carried.extract(ip)).collect()
}

/// Why `ip` must not be reached through a name, or `None` for an ordinary public address.
/// IPv6 addresses that carry an IPv4 address (mapped, SIIT, NAT64, IPv4-compatible, 6to4,
/// Teredo) are judged as the IPv4 address they carry.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    let table: &'static Table = &TABLE;
    let ip = ip.to_canonical();
    if let Some(i) = direct_index(ip) {
        return Some(table.direct[i].1);
    }
    let IpAddr::V6(v6) = ip else { return None };
    table.embedded.iter().filter(|e| e.net.contains(&v6)).find_map(|e| {
        let i = e.carried.extract(v6).into_iter().find_map(|v4| direct_index(IpAddr::V4(v4)))?;
        e.reasons.get(i).map(String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(ip: &str) -> Option<&'static str> {
        special_range(ip.parse().unwrap())
    }

    #[test]
    fn tables_parse_whole() {
        assert_eq!(TABLE.direct.len(), SPECIAL_RANGES.len());
        assert_eq!(TABLE.embedded.len(), EMBEDDINGS.len());
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
            assert!(why(ip).is_some(), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "172.32.0.1"] {
            assert!(why(ip).is_none(), "{ip}");
        }
    }

    /// Break 5 of issue 9: each IPv6 form carrying 10.0.0.5 or 127.0.0.1 is judged as that
    /// address; the same forms carrying a public address are not refused.
    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_the_ipv4_address() {
        let cases = [
            ("64:ff9b::a00:5", "NAT64", "private network"),
            ("64:ff9b::7f00:1", "NAT64", "loopback"),
            ("64:ff9b::a9fe:a9fe", "NAT64", "cloud metadata"),
            ("::ffff:0:a00:5", "SIIT", "private network"),
            ("::ffff:0:7f00:1", "SIIT", "loopback"),
            ("::a00:5", "IPv4-compatible", "private network"),
            ("::7f00:1", "IPv4-compatible", "loopback"),
            ("2002:a00:5::1", "6to4", "private network"),
            ("2002:7f00:1:1::1", "6to4", "loopback"),
            // Teredo: client 10.0.0.5 (inverted: f5ff:fffa), public server 65.54.227.120.
            ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "Teredo", "private network"),
            // Teredo: public client 93.184.216.34 (inverted a247:27dd), server 127.0.0.1.
            ("2001:0:7f00:1:8000:63bf:a247:27dd", "Teredo", "loopback"),
        ];
        for (ip, form, range) in cases {
            let why = why(ip).unwrap_or_else(|| panic!("{ip} ({form}) must be refused"));
            assert!(why.contains(form) && why.contains(range), "{ip}: {why}");
        }
        for ip in [
            "64:ff9b::5db8:d822",                   // NAT64 of 93.184.216.34
            "::ffff:0:5db8:d822",                   // SIIT of it
            "2002:5db8:d822::1",                    // 6to4 of it
            "2001:0:4136:e378:8000:63bf:a247:27dd", // Teredo, both public
        ] {
            assert_eq!(why(ip), None, "{ip}");
        }
        // The direct entries win: local-use NAT64 is refused whatever it carries.
        assert!(why("64:ff9b:1::5db8:d822").unwrap().contains("local-use NAT64"));
    }

    #[test]
    fn carried_addresses_are_read_from_the_right_bits() {
        let v4 = |s: &str| embedded_ipv4(s.parse().unwrap());
        assert_eq!(v4("64:ff9b::a00:5"), vec![Ipv4Addr::new(10, 0, 0, 5)]);
        assert_eq!(v4("2002:c000:0201::1"), vec![Ipv4Addr::new(192, 0, 2, 1)]);
        assert_eq!(
            v4("2001:0:4136:e378:8000:63bf:3fff:fdd2"),
            vec![Ipv4Addr::new(65, 54, 227, 120), Ipv4Addr::new(192, 0, 2, 45)],
            "RFC 4380's example"
        );
        assert!(v4("2606:4700::1111").is_empty());
    }
}
