//! JSON-RPC on the wire, for `serve` and `proxy`: the strict parse every relayed message goes
//! through, the ids MCP allows, the errors answered for lines that are not messages, and a
//! lenient reading of refused lines that is used only to look at what they carried (never to
//! relay them).

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// JSON-RPC: the line is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: JSON, but not a valid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: invalid parameters (MCP uses it for refused tool calls).
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: an internal error; the proxy answers it for a server reply it refused.
pub const INTERNAL_ERROR: i64 = -32603;

/// How deep the lenient reading of a refused line descends; anything deeper is read as `null`.
/// Below serde_json's own recursion limit (128), which the strict parse enforces.
const LENIENT_DEPTH: usize = 64;

/// Parses one line strictly: JSON (serde_json's nesting limit of 128 applies), every string
/// valid Unicode (a lone surrogate escape such as `\ud800` is refused). The error is one line.
pub fn parse(line: &str) -> Result<Value, String> {
    serde_json::from_str(line).map_err(|e| e.to_string())
}

/// Checks that `line` passes [`parse`] without building the value (for `serve`, whose rmcp
/// parses the line again): strings are decoded, nesting is counted, nothing is kept.
pub fn check(line: &str) -> Result<(), String> {
    serde_json::from_str::<Strict>(line).map(|_| ()).map_err(|e| e.to_string())
}

/// A JSON value read only to be checked.
struct Strict;

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        while map.next_key::<Strict>()?.is_some() {
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }
}

/// A JSON-RPC error response.
pub fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

/// The reply to a line that is not JSON (`why`: what the parser said).
pub fn parse_error(why: &str) -> Value {
    error(Value::Null, PARSE_ERROR, format!("parse error: the line is not a JSON value: {why}"))
}

/// The reply to a line that is not UTF-8.
pub fn not_utf8_error() -> Value {
    error(Value::Null, PARSE_ERROR, "parse error: the line is not valid UTF-8")
}

/// Whether `id` is an id MCP allows in a request: a string or an integer. JSON-RPC also allows
/// `null` (discouraged) and fractional numbers (it says they SHOULD NOT be used); MCP forbids
/// `null`, and a number written `3.0` is not the integer 3 for every peer (serde_json reads it
/// as a float, Python as `3.0`), so ids that could be read two ways are refused.
pub fn valid_id(id: &Value) -> bool {
    match id {
        Value::String(_) => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// A message's `id` if it is exactly a non-negative integer (the form the proxy gives the ids
/// it sends the server).
pub fn integer_id(msg: &Map<String, Value>) -> Option<u64> {
    msg.get("id").and_then(Value::as_u64)
}

/// The `id` of a line that failed the strict parse, if it can be read exactly: a top-level
/// object whose one `id` member is a non-negative integer (a duplicated `id` is not read). The
/// rest of the line is skipped, not read (any depth, lone surrogates and, where serde_json
/// skips strings without decoding them, invalid UTF-8 inside them).
pub fn probe_id(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Probe {
        id: u64,
    }
    serde_json::from_slice::<Probe>(bytes).ok().map(|p| p.id)
}

/// A lenient reading of a line that failed the strict parse, to see what it carried: invalid
/// UTF-8 becomes U+FFFD, so do lone surrogate escapes, and values nested deeper than
/// [`LENIENT_DEPTH`] become `null`. Never relayed.
pub fn lenient(bytes: &[u8]) -> Option<Value> {
    let text = String::from_utf8_lossy(bytes);
    let text = without_lone_surrogates(&text);
    let mut de = serde_json::Deserializer::from_str(&text);
    let v = Capped(LENIENT_DEPTH).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

/// `text` with every `\uXXXX` escape of a surrogate that is not half of a valid pair replaced
/// by `\ufffd`. Only escapes inside strings are looked at.
fn without_lone_surrogates(text: &str) -> Cow<'_, str> {
    fn escape_at(b: &[u8], i: usize) -> Option<u16> {
        let hex = b.get(i + 2..i + 6)?;
        if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    let b = text.as_bytes();
    if !text.contains("\\u") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let (mut i, mut start, mut in_string) = (0, 0, false);
    while i < b.len() {
        match b[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                let unit = escape_at(b, i);
                let high = unit.is_some_and(|u| (0xD800..0xDC00).contains(&u));
                let paired = high && escape_at(b, i + 6).is_some_and(|u| (0xDC00..0xE000).contains(&u));
                if paired {
                    i += 12;
                    continue;
                }
                if unit.is_some_and(|u| (0xD800..0xE000).contains(&u)) {
                    out.push_str(&text[start..i]);
                    out.push_str("\\ufffd");
                    i += 6;
                    start = i;
                    continue;
                }
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&text[start.min(text.len())..]);
    Cow::Owned(out)
}

/// Reads a JSON value, replacing what lies deeper than its depth by `null` (skipped without
/// recursion by serde_json).
struct Capped(usize);

impl<'de> DeserializeSeed<'de> for Capped {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0 == 0 {
            IgnoredAny::deserialize(d)?;
            return Ok(Value::Null);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capped {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Capped(self.0 - 1))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Capped(self.0 - 1))?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(n: usize) -> String {
        format!("{}1{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn the_strict_parse_refuses_what_a_peer_could_read_differently() {
        assert!(parse(r#"{"a":"\ud800"}"#).is_err(), "a lone surrogate");
        assert!(parse(r#"{"a":"\ud83d\ude00"}"#).is_ok(), "a valid pair");
        assert!(parse(&deep(150)).is_err(), "nesting past serde_json's limit");
        assert!(parse(&deep(100)).is_ok());
        let cases = [
            r#"{"a":"\ud800"}"#.to_string(),
            r#"{"\udc00":1}"#.to_string(),
            r#"{"a":"\ud83d\ude00","b":[1,2.5,null,true,{"c":"\\ud800"}]}"#.to_string(),
            deep(150),
            deep(100),
            "{nope".to_string(),
            "1 2".to_string(),
        ];
        for c in cases {
            assert_eq!(check(&c).is_ok(), parse(&c).is_ok(), "check agrees with parse on {c:.40}");
        }
    }

    #[test]
    fn ids_are_strings_or_integers() {
        for ok in [json!(3), json!(-1), json!("3"), json!(u64::MAX)] {
            assert!(valid_id(&ok), "{ok}");
        }
        let float: Value = serde_json::from_str("3.0").unwrap();
        for bad in [float, json!(null), json!(true), json!([3]), json!({"id":3})] {
            assert!(!valid_id(&bad), "{bad}");
        }
        let m = |s: &str| serde_json::from_str::<Map<String, Value>>(s).unwrap();
        assert_eq!(integer_id(&m(r#"{"id":3}"#)), Some(3));
        assert_eq!(integer_id(&m(r#"{"id":"3"}"#)), None);
        assert_eq!(integer_id(&m(r#"{"id":3.0}"#)), None);
    }

    #[test]
    fn probing_reads_only_an_exact_id() {
        let line = format!(r#"{{"jsonrpc":"2.0","id":7,"result":{{"_meta":{}}}}}"#, deep(150));
        assert_eq!(probe_id(line.as_bytes()), Some(7));
        assert_eq!(probe_id(br#"{"id":7,"result":{"d":"\ud800"}}"#), Some(7));
        assert_eq!(probe_id(b"{\"id\":7,\"result\":{\"d\":\"\xff\"}}"), Some(7));
        assert_eq!(probe_id(br#"{"id":"7"}"#), None);
        assert_eq!(probe_id(br#"{"id":7.0}"#), None);
        assert_eq!(probe_id(br#"{"id":7,"id":8}"#), None, "a duplicated id is ambiguous");
        assert_eq!(probe_id(br#"[{"id":7}]"#), None);
    }

    #[test]
    fn the_lenient_reading_sees_through_what_the_strict_one_refuses() {
        let line = format!(r#"{{"tools":[{{"name":"t","_meta":{}}}],"d":"a\ud800b\\ud800\ud83d\ude00"}}"#, deep(150));
        let v = lenient(line.as_bytes()).unwrap();
        assert_eq!(v["tools"][0]["name"], "t");
        assert_eq!(
            v["d"], "a\u{fffd}b\\ud800\u{1f600}",
            "lone surrogates replaced, escaped backslashes and pairs kept"
        );
        let v = lenient(b"{\"d\":\"\xffx\"}").unwrap();
        assert_eq!(v["d"], "\u{fffd}x");
        assert!(lenient(b"{\"d\":").is_none(), "truncated JSON is still not read");
    }
}
