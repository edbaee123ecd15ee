//! Endpoint parsing and matching.

use super::*;

fn ep(s: &str) -> Endpoint {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn schemes_and_default_ports() {
    assert_eq!(ep("https://api.example.com").ports, PortRange { first: 443, last: 443 });
    assert_eq!(ep("http://api.example.com/").ports, PortRange { first: 80, last: 80 });
    assert_eq!(ep("api.example.com:8443").scheme, Scheme::Any);
    assert!("api.example.com".parse::<Endpoint>().is_err(), "bare host needs a port");
    assert!("tcp://10.0.0.1".parse::<Endpoint>().is_err());
    assert!("ftp://x.com:21".parse::<Endpoint>().is_err());
    assert!("https://x.com/path".parse::<Endpoint>().is_err());
}

#[test]
fn hosts() {
    assert_eq!(ep("10.0.0.5:443").host, HostPattern::Ip("10.0.0.5".parse().unwrap()));
    assert_eq!(ep("[::1]:80").host, HostPattern::Ip("::1".parse().unwrap()));
    assert_eq!(ep("10.1.2.3/8:22").host, HostPattern::Cidr("10.0.0.0/8".parse().unwrap()));
    assert_eq!(ep("[fd00::/8]:53").host, HostPattern::Cidr("fd00::/8".parse().unwrap()));
    assert_eq!(ep("*.Example.COM:1").host, HostPattern::Suffix("example.com".into()));
    assert!("::1:80".parse::<Endpoint>().is_err(), "unbracketed IPv6");
    assert!("*:80".parse::<Endpoint>().is_err());
    assert!("bad_host!:80".parse::<Endpoint>().is_err());
    assert!("999.1.1.1:80".parse::<Endpoint>().is_err());
}

#[test]
fn ports() {
    assert_eq!(ep("h.com:*").ports, PortRange { first: 1, last: 65535 });
    assert_eq!(ep("h.com:8000-8100").ports, PortRange { first: 8000, last: 8100 });
    assert!("h.com:0".parse::<Endpoint>().is_err());
    assert!("h.com:9-1".parse::<Endpoint>().is_err());
    assert!("h.com:70000".parse::<Endpoint>().is_err());
}

fn refused(s: &str) -> String {
    match s.parse::<Endpoint>() {
        Ok(e) => panic!("{s:?} was accepted as {e:?}"),
        Err(e) => e.0,
    }
}

/// Issue 9: numeric-looking hosts that libc reads as an address are not DNS names.
#[test]
fn numeric_hosts_must_be_canonical_addresses() {
    for (text, reads_as) in [
        ("0x7f000001:80", "127.0.0.1"),
        ("0x7f.0.0.1:80", "127.0.0.1"),
        ("127.1:80", "127.0.0.1"),
        ("0177.0.0.1:80", "127.0.0.1"),
        ("2130706433:80", "127.0.0.1"),
        ("10.0x5:80", "10.0.0.5"),
        ("0X0A.0.0.5:80", "10.0.0.5"),
        ("0x:80", "0.0.0.0"),
        ("127.0.0.1.:80", "127.0.0.1"),
        ("*.0x7f.0.0.1:80", "127.0.0.1"),
        ("01.2.3.4:80", "1.2.3.4"),
        ("00:80", "0.0.0.0"),
    ] {
        let e = refused(text);
        assert!(e.contains(&format!("libc reads as {reads_as}; write {reads_as}")), "{text}: {e}");
    }
    for text in ["999.1.1.1:80", "1.2.3.4.5:80", "1.2.3.09:80"] {
        assert!(refused(text).contains("not a valid IPv4 address"), "{text}");
    }
    for text in ["example.123:80", "a.0x10:80", "a.b.0xabc:80", "*.example.08:1"] {
        assert!(refused(text).contains("ends in a numeric label"), "{text}");
    }
    // Names with numeric labels elsewhere, or hex-looking words, are names.
    for text in ["1.2.3.example:80", "0x7f.example.com:80", "cafe.babe:1", "1e100.net:443", "x0.com:1"] {
        assert!(ep(text).host.is_name(), "{text}");
    }
}

#[test]
fn libc_reads_numbers_as_inet_aton_does() {
    let r = |s: &str| libc_ipv4(s).map(|a| a.to_string());
    assert_eq!(r("127.1").as_deref(), Some("127.0.0.1"));
    assert_eq!(r("1.2.65535").as_deref(), Some("1.2.255.255"));
    assert_eq!(r("1.2.65536"), None);
    assert_eq!(r("0xffffffff").as_deref(), Some("255.255.255.255"));
    assert_eq!(r("0x100000000"), None);
    assert_eq!(r("08.1.1.1"), None, "8 is not an octal digit");
    assert_eq!(r("1..1"), None);
    assert_eq!(r("1.2.3.4.5"), None);
    assert_eq!(r("256.1"), None);
}

/// Issue 9: a port `+1`, surrounding whitespace, a newline, `[1.2.3.4]:1` were accepted.
#[test]
fn ports_characters_and_brackets_must_be_canonical() {
    for text in ["h.com:+1", "h.com:01", "h.com:080", "h.com:1-+2", "h.com:-1", "h.com:", "h.com:1-", "h.com:0x50"] {
        assert!(refused(text).contains("is not a port"), "{text}");
    }
    for (text, what) in [
        (" h.com:1", "a space at byte 0"),
        ("h.com:1 ", "a space at byte 7"),
        ("h.com:1\n", "a line break at byte 7"),
        ("h.com:\t1", "a tab at byte 6"),
        ("h.\u{0}com:1", "U+0000 at byte 2"),
        ("h.com:1\u{a0}", "U+00A0 at byte 7"),
    ] {
        assert!(refused(text).contains(what), "{text:?}: {}", refused(text));
    }
    assert!(refused("[1.2.3.4]:1").contains("write `1.2.3.4` without them"));
    assert!(refused("[h.com]:1").contains("brackets are for IPv6"));
    assert!(refused("[10.0.0.0/8]:1").contains("brackets are for IPv6"));
    assert!(refused("[::ffff:1.2.3.4]:1").contains("write 1.2.3.4"));
    assert!(refused("h.com]:1").contains("only enclose an IPv6 address"));
    assert!(refused("10.0.0.0/08:1").contains("not a valid CIDR"));
    assert!(refused("10.0.0.0/+8:1").contains("not a valid CIDR"));
    assert!(refused("10.0.0.0/33:1").contains("not a valid CIDR"));
    assert!(refused("010.0.0.0/8:1").contains("not a valid CIDR"));
    assert_eq!(ep("[::1]:1").host, HostPattern::Ip("::1".parse().unwrap()));
    assert_eq!(ep("10.0.0.0/0:1").host, HostPattern::Cidr("0.0.0.0/0".parse().unwrap()));
    assert_eq!(ep("h.com:65535").ports, PortRange { first: 65535, last: 65535 });
}

#[test]
fn pins_and_resolver_addresses() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(parse_pin("api.local:127.0.0.1"), Ok(("api.local".into(), ip("127.0.0.1"))));
    assert_eq!(parse_pin("api.local:[::1]"), Ok(("api.local".into(), ip("::1"))));
    assert_eq!(parse_pin("api.local:64:ff9b::a00:5"), Ok(("api.local".into(), ip("64:ff9b::a00:5"))));
    for bad in [
        "api.local:[1.2.3.4]",
        "api.local:127.1",
        "api.local: 1.2.3.4",
        "api.local:[::1",
        "api.local:::1]",
        "127.1:1.2.3.4",
        "*.a.com:1.2.3.4",
        "api.local",
        "api.local:80:1.2.3.4",
    ] {
        assert!(parse_pin(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_socket_addr("127.0.0.1:53"), Ok("127.0.0.1:53".parse().unwrap()));
    assert_eq!(parse_socket_addr("[::1]:53"), Ok("[::1]:53".parse().unwrap()));
    for bad in ["127.0.0.1:053", "127.0.0.1", "[1.2.3.4]:53", "::1:53", "127.1:53", "h.com:53", "1.2.3.4:1-2"] {
        assert!(parse_socket_addr(bad).is_err(), "{bad}");
    }
}

#[test]
fn wildcard_matches_subdomains_only() {
    let h = ep("*.example.com:443").host;
    assert!(h.matches_name("api.example.com"));
    assert!(h.matches_name("a.b.example.com"));
    assert!(!h.matches_name("example.com"), "apex is not a subdomain");
    assert!(!h.matches_name("evilexample.com"));
    assert!(!h.matches_name("example.com.evil.net"));
}

#[test]
fn localhost_names() {
    for (text, local) in [
        ("localhost:80", true),
        ("LocalHost.:80", true),
        ("app.localhost:80", true),
        ("*.localhost:80", true),
        ("*.a.localhost:80", true),
        ("notlocalhost:80", false),
        ("localhost.example.com:80", false),
        ("127.0.0.1:80", false),
    ] {
        assert_eq!(ep(text).host.is_localhost(), local, "{text}");
    }
}

#[test]
fn literal_addresses_and_ranges() {
    assert!(ep("10.0.0.0/8:1").host.names_ip("10.9.9.9".parse().unwrap()));
    assert!(!ep("10.0.0.0/8:1").host.names_ip("11.0.0.1".parse().unwrap()));
    assert!(ep("127.0.0.1:1").host.names_ip("::ffff:127.0.0.1".parse().unwrap()));
    assert!(!ep("a.com:1").host.names_ip("1.2.3.4".parse().unwrap()));
}

#[test]
fn scheme_coverage() {
    let (http, https) = (Transport::Http { tls: false }, Transport::Http { tls: true });
    assert!(Scheme::Any.covers(Transport::Tcp) && Scheme::Any.covers(Transport::Udp));
    // Issue 11: a bare or tcp:// endpoint also covers HTTP(S) requests to it.
    assert!(Scheme::Any.covers(http) && Scheme::Any.covers(https));
    assert!(Scheme::Tcp.covers(http) && Scheme::Tcp.covers(https));
    assert!(!Scheme::Udp.covers(http) && !Scheme::Udp.covers(https) && !Scheme::Udp.covers(Transport::Tcp));
    assert!(!Scheme::Tcp.covers(Transport::Udp));
    assert!(Scheme::Https.covers(Transport::Tcp));
    assert!(!Scheme::Https.covers(http));
    assert!(!Scheme::Http.covers(Transport::Udp) && !Scheme::Http.covers(https));
}
