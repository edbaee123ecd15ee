//! The little of the DNS wire format (RFC 1035) the runtime needs: asking a server for the
//! A/AAAA records of a declared name, and reading or answering a single question (the
//! test listeners, and later the native executor's DNS stub).

use std::net::IpAddr;

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// Response codes used here.
pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_NXDOMAIN: u8 = 3;
/// The server will not answer this (a query type the DNS stub does not serve).
pub const RCODE_REFUSED: u8 = 5;

/// The mnemonic of a query type, for messages (`TXT`, `ANY`, or the number).
pub fn type_name(qtype: u16) -> String {
    match qtype {
        TYPE_A => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        TYPE_AAAA => "AAAA".into(),
        33 => "SRV".into(),
        35 => "NAPTR".into(),
        64 => "SVCB".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

/// A parsed question: the transaction id, the queried name (lower case, no trailing dot)
/// and the record type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    pub name: String,
    pub qtype: u16,
}

/// Encodes a recursive query for `name`.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT=1
    encode_name(&mut out, name)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Some(out)
}

fn encode_name(out: &mut Vec<u8>, name: &str) -> Option<()> {
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        let len = u8::try_from(label.len()).ok().filter(|l| *l <= 63)?;
        out.push(len);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Some(())
}

/// Reads a (possibly compressed) name starting at `pos`; returns it and the position after it.
fn read_name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(pos)? as usize;
        if len == 0 {
            return Some((labels.join("."), end.unwrap_or(pos + 1)));
        }
        if len & 0xC0 == 0xC0 {
            let target = ((len & 0x3F) << 8) | *msg.get(pos + 1)? as usize;
            end.get_or_insert(pos + 2);
            pos = target;
            continue;
        }
        let label = msg.get(pos + 1..pos + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += 1 + len;
    }
    None
}

fn u16_at(msg: &[u8], pos: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]))
}

/// Parses the first question of a query.
pub fn parse_question(msg: &[u8]) -> Option<Question> {
    let id = u16_at(msg, 0)?;
    if u16_at(msg, 4)? == 0 {
        return None;
    }
    let (name, pos) = read_name(msg, 12)?;
    Some(Question { id, name, qtype: u16_at(msg, pos)? })
}

/// The addresses in the answer section of a response to query `id`, or the response code
/// when it carries none.
pub fn parse_answers(msg: &[u8], id: u16) -> Result<Vec<IpAddr>, u8> {
    let bad = 2; // SERVFAIL stands in for a malformed response
    let header = (|| Some((u16_at(msg, 0)?, *msg.get(3)?, u16_at(msg, 4)?, u16_at(msg, 6)?)))();
    let Some((rid, flags, qd, an)) = header else {
        return Err(bad);
    };
    if rid != id || msg[2] & 0x80 == 0 {
        return Err(bad);
    }
    let rcode = flags & 0x0F;
    let mut pos = 12;
    for _ in 0..qd {
        let Some((_, p)) = read_name(msg, pos) else {
            return Err(bad);
        };
        pos = p + 4;
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        let Some((_, p)) = read_name(msg, pos) else {
            return Err(bad);
        };
        let (Some(rtype), Some(rdlen)) = (u16_at(msg, p), u16_at(msg, p + 8)) else {
            return Err(bad);
        };
        let data_start = p + 10;
        let Some(data) = msg.get(data_start..data_start + rdlen as usize) else {
            return Err(bad);
        };
        match (rtype, data.len()) {
            (TYPE_A, 4) => addrs.push(IpAddr::from([data[0], data[1], data[2], data[3]])),
            (TYPE_AAAA, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                addrs.push(IpAddr::from(b));
            }
            _ => {}
        }
        pos = data_start + rdlen as usize;
    }
    if addrs.is_empty() { Err(if rcode == RCODE_NOERROR { RCODE_NXDOMAIN } else { rcode }) } else { Ok(addrs) }
}

/// Builds a response to `q` carrying `addrs` (those matching the question's type), or an
/// empty answer with `rcode`.
pub fn encode_response(q: &Question, rcode: u8, addrs: &[IpAddr]) -> Option<Vec<u8>> {
    let answers: Vec<&IpAddr> =
        addrs.iter().filter(|a| matches!((a, q.qtype), (IpAddr::V4(_), TYPE_A) | (IpAddr::V6(_), TYPE_AAAA))).collect();
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&q.id.to_be_bytes());
    out.extend_from_slice(&[0x81, 0x80 | (rcode & 0x0F), 0, 1]);
    out.extend_from_slice(&u16::try_from(answers.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    encode_name(&mut out, &q.name)?;
    out.extend_from_slice(&q.qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    for a in answers {
        out.extend_from_slice(&[0xC0, 12]); // pointer to the question's name
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&30u32.to_be_bytes()); // TTL: pinned per invocation anyway
        match a {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_roundtrip() {
        let q = encode_query(7, "Api.Example.com.", TYPE_A).unwrap();
        let parsed = parse_question(&q).unwrap();
        assert_eq!(parsed, Question { id: 7, name: "api.example.com".into(), qtype: TYPE_A });
        let resp =
            encode_response(&parsed, RCODE_NOERROR, &["1.2.3.4".parse().unwrap(), "::1".parse().unwrap()]).unwrap();
        assert_eq!(parse_answers(&resp, 7), Ok(vec!["1.2.3.4".parse().unwrap()]));
        assert_eq!(parse_answers(&resp, 8), Err(2), "wrong id is rejected");
        let nx = encode_response(&parsed, RCODE_NXDOMAIN, &[]).unwrap();
        assert_eq!(parse_answers(&nx, 7), Err(RCODE_NXDOMAIN));
    }

    #[test]
    fn malformed_input_is_rejected_not_panicking() {
        for msg in [&[][..], &[0, 1, 0x81], &[0; 12], &[0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xC0, 12]] {
            let _ = parse_question(msg);
            let _ = parse_answers(msg, 1);
        }
        assert!(encode_query(1, &"x".repeat(64), TYPE_A).is_none());
    }
}
