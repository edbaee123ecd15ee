//! Endpoints (`--allow-net`, `--allow-listen`, policy `[network]`, `[[bind]]` patterns and
//! the endpoints a call's arguments name), pins (`--resolve`), `--resolver` addresses, and
//! the DNS-rebinding table on the addresses they carry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_sandbox_fuzz::Policy;
use mcp_sandbox_fuzz::checks::{assert_one_line, assert_real_name, text};
use mcp_sandbox_fuzz::egress::addr::{embedded_ipv4, special_range};
use mcp_sandbox_fuzz::mcp::bind::concrete_endpoint;
use mcp_sandbox_fuzz::policy::endpoint::{
    Endpoint, HostPattern, check_chars, normalize_name, parse_host, parse_pin, parse_socket_addr,
};
use std::net::{IpAddr, Ipv6Addr};

fuzz_target!(|data: &[u8]| {
    addresses(data);
    let Some(text) = text(data) else { return };
    if let Ok(ep) = text.parse::<Endpoint>() {
        assert!(check_chars(text).is_ok(), "accepted with whitespace or control characters: {text:?}");
        assert_real_name(&ep.host);
        assert!(ep.ports.first >= 1 && ep.ports.first <= ep.ports.last);
        assert_eq!(ep.source.parse::<Endpoint>().as_ref(), Ok(&ep), "the source reads back the same");
    }
    if let Ok(h) = parse_host(text) {
        assert_real_name(&h);
    }
    if let Ok(n) = normalize_name(text) {
        assert_real_name(&HostPattern::Name(n.clone()));
        assert_eq!(normalize_name(&n), Ok(n.clone()), "normalising is idempotent");
    }
    if let Ok((name, _)) = parse_pin(text) {
        assert_real_name(&HostPattern::Name(name));
    }
    let _ = parse_socket_addr(text);
    if let Ok(ep) = concrete_endpoint(text) {
        assert_real_name(&ep.host);
    }
    // Through the builder, as flags and policy files reach the parser.
    let mut b = Policy::builder();
    for r in [b.allow_net(text).map(|_| ()), b.allow_listen(text).map(|_| ()), b.resolve(text).map(|_| ())] {
        if let Err(e) = r {
            assert_one_line(&e);
        }
    }
});

/// The rebinding table judges an IPv6 form that carries an IPv4 address as that address.
fn addresses(data: &[u8]) {
    let Some(bytes) = data.get(..16) else { return };
    let mut b = [0u8; 16];
    b.copy_from_slice(bytes);
    let v6 = Ipv6Addr::from(b);
    let _ = special_range(IpAddr::V6(v6));
    let v4 = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    let nat64 = Ipv6Addr::from((0x64_ff9b_u128 << 96) | u128::from(u32::from(v4)));
    assert_eq!(embedded_ipv4(nat64), vec![v4]);
    assert_eq!(special_range(IpAddr::V4(v4)).is_some(), special_range(IpAddr::V6(nat64)).is_some(), "{nat64}");
    let six_to_four = Ipv6Addr::from((0x2002_u128 << 112) | (u128::from(u32::from(v4)) << 80) | 1);
    assert_eq!(special_range(IpAddr::V4(v4)).is_some(), special_range(IpAddr::V6(six_to_four)).is_some());
}
