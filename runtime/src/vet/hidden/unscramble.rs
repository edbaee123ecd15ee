//! Text scrambled so that reviewers and filters miss it (rot13, reversed, leetspeak, escape
//! sequences) and text kept out of view by HTML (collapsed `<details>`, `display:none`).

use std::sync::LazyLock;

static HIDDEN_HTML_RE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r#"(?is)<details\b[^>]*>(.*?)(?:</details>|$)|<(?:span|div|p|section)\b[^>]*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|\bhidden\b)[^>]*>(.*?)(?:</(?:span|div|p|section)>|$)"#).ok()
});
static UNICODE_ESCAPES: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"(?:\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|&#x?[0-9a-fA-F]{2,5};){6,}").ok());

/// Very common English words: scrambled text unscrambles into many of them.
const COMMON: &[&str] = &[
    "the", "and", "to", "of", "a", "in", "is", "you", "this", "that", "before", "after", "with", "for", "any", "all",
    "send", "read", "file", "files", "pass", "user", "it", "as", "tool", "must", "always", "never", "do", "not",
    "include", "contents", "then", "your", "from", "into", "every", "call", "using", "use", "key", "keys",
];

fn common_words(s: &str) -> usize {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| COMMON.contains(&w.to_lowercase().as_str())).count()
}

/// Segments (lines and sentences) of a text, for unscrambling one by one.
fn segments(s: &str) -> impl Iterator<Item = &str> {
    s.split(['\n', '.', ';', '|']).map(str::trim).filter(|x| x.split_whitespace().count() >= 4)
}

/// Text scrambled by rot13, reversal, leetspeak or escapes: `(how, unscrambled)` for each
/// segment that reads as English only once unscrambled.
pub(super) fn unscrambled(s: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for seg in segments(s) {
        let before = common_words(seg);
        let rot: String = seg
            .chars()
            .map(|c| match c {
                'a'..='m' | 'A'..='M' => char::from(c as u8 + 13),
                'n'..='z' | 'N'..='Z' => char::from(c as u8 - 13),
                c => c,
            })
            .collect();
        let reversed: String = seg.chars().rev().collect();
        let leet_words = seg
            .split_whitespace()
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()) && w.chars().any(|c| c.is_ascii_alphabetic()))
            .count();
        let leet: String = seg
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' => 'i',
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                c => c,
            })
            .collect();
        for (how, text, eligible) in
            [("rot13", rot, true), ("reversed text", reversed, true), ("leetspeak", leet, leet_words >= 2)]
        {
            let after = common_words(&text);
            if eligible && after >= 3 && after >= 2 * before + 2 {
                out.push((how, text));
            }
        }
    }
    if let Some(re) = UNICODE_ESCAPES.as_ref() {
        for m in re.find_iter(s) {
            let decoded = decode_escapes(m.as_str());
            if decoded.split_whitespace().count() >= 3 {
                out.push(("escape sequences", decoded));
            }
        }
    }
    out
}

/// `\u0072`, `\x72` and `&#x72;` / `&#114;` sequences decoded.
fn decode_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (digits, radix, len) = if let Some(r) = rest.strip_prefix("\\u") {
            (r.get(..4).unwrap_or(""), 16, 6)
        } else if let Some(r) = rest.strip_prefix("\\x") {
            (r.get(..2).unwrap_or(""), 16, 4)
        } else if let Some(r) = rest.strip_prefix("&#x") {
            let end = r.find(';').unwrap_or(r.len());
            (&r[..end], 16, 3 + end + 1)
        } else if let Some(r) = rest.strip_prefix("&#") {
            let end = r.find(';').unwrap_or(r.len());
            (&r[..end], 10, 2 + end + 1)
        } else {
            ("", 16, 1)
        };
        if let Some(c) = u32::from_str_radix(digits, radix).ok().and_then(char::from_u32) {
            out.push(c);
        }
        rest = rest.get(len.min(rest.len())..).unwrap_or("");
    }
    out
}

/// Collapsed or invisible HTML: the text inside.
pub(super) fn hidden_html(s: &str) -> Vec<&str> {
    let Some(re) = HIDDEN_HTML_RE.as_ref() else { return Vec::new() };
    re.captures_iter(s)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str())
        .filter(|t| !t.trim().is_empty())
        .collect()
}
