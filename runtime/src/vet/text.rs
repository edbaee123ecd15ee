//! Text utilities: making invisible characters visible, normalising text for matching, and
//! splitting it into sentences.

use unicode_normalization::UnicodeNormalization;

/// Characters that render as nothing (or reorder text) and have no place in a definition
/// outside a few scripts' joining rules: `(first, last, what)`.
pub const INVISIBLE: &[(char, char, &str)] = &[
    ('\u{00AD}', '\u{00AD}', "soft hyphen"),
    ('\u{034F}', '\u{034F}', "combining grapheme joiner"),
    ('\u{061C}', '\u{061C}', "Arabic letter mark (bidi)"),
    ('\u{115F}', '\u{1160}', "Hangul filler"),
    ('\u{17B4}', '\u{17B5}', "Khmer invisible vowel"),
    ('\u{180B}', '\u{180F}', "Mongolian variation selector / vowel separator"),
    ('\u{200B}', '\u{200F}', "zero-width space/joiner/non-joiner, directional mark"),
    ('\u{202A}', '\u{202E}', "bidi embedding/override"),
    ('\u{2060}', '\u{2064}', "word joiner, invisible operators"),
    ('\u{2066}', '\u{2069}', "bidi isolate"),
    ('\u{206A}', '\u{206F}', "deprecated format characters"),
    ('\u{3164}', '\u{3164}', "Hangul filler"),
    ('\u{FE00}', '\u{FE0F}', "variation selector"),
    ('\u{FEFF}', '\u{FEFF}', "zero-width no-break space (BOM)"),
    ('\u{FFA0}', '\u{FFA0}', "halfwidth Hangul filler"),
    ('\u{FFF9}', '\u{FFFB}', "interlinear annotation"),
    ('\u{1D173}', '\u{1D17A}', "musical format characters"),
    ('\u{E0000}', '\u{E007F}', "Unicode tag characters (hidden ASCII)"),
    ('\u{E0100}', '\u{E01EF}', "variation selector supplement"),
];

/// What `c` is, if it is invisible.
pub fn invisible(c: char) -> Option<&'static str> {
    INVISIBLE.iter().find(|(a, b, _)| (*a..=*b).contains(&c)).map(|(_, _, why)| *why)
}

/// Bidi controls that reorder what is displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A Unicode tag character, and the ASCII character it hides.
pub fn tag_char(c: char) -> Option<char> {
    let v = c as u32;
    if (0xE0020..=0xE007E).contains(&v) { char::from_u32(v - 0xE0000) } else { None }
}

/// Emoji and pictographs, next to which the zero-width joiner and variation selectors are
/// ordinary (👨‍👩‍👧, ❤️).
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x2190..=0x2BFF | 0x1F000..=0x1FAFF | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139)
}

/// Whether the invisible character at `i` is an ordinary part of the text around it: a
/// joiner or variation selector beside an emoji, or a (non-)joiner inside a script that
/// uses it (Arabic, Persian, Indic, …).
pub fn is_ordinary_invisible(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
    let next = chars.get(i + 1).copied();
    let near_emoji = prev.is_some_and(is_emoji) || next.is_some_and(is_emoji) || next == Some('\u{FE0F}');
    match c {
        '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' => near_emoji || prev.is_some_and(joining_script),
        '\u{200C}' => prev.is_some_and(joining_script),
        _ => false,
    }
}

/// Scripts whose orthography uses the (non-)joiners.
fn joining_script(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x0900..=0x0DFF | 0x0F00..=0x0FFF | 0x1000..=0x109F | 0xA8E0..=0xA8FF)
}

/// `s` with every invisible or control character shown as `<U+XXXX>`, tag characters shown
/// as what they hide (`<tag:a>`), and escapes shown as `<ESC>`; at most `max` characters.
pub fn reveal_bounded(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if let Some(t) = tag_char(c) {
            out.push_str(&format!("<tag:{t}>"));
        } else if c == '\u{1B}' {
            out.push_str("<ESC>");
        } else if invisible(c).is_some() || (c.is_control() && !matches!(c, '\n' | '\t')) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// [`reveal_bounded`] with no practical bound (names).
pub fn reveal(s: &str) -> String {
    reveal_bounded(s, 512)
}

/// Text as the matcher sees it: NFKC (full-width and styled letters folded), invisible and
/// control characters removed, typographic quotes and dashes made ASCII, lower case.
pub fn normalise(s: &str) -> String {
    let folded: String = s.nfkc().collect();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if invisible(c).is_some() || (c.is_control() && !matches!(c, '\n' | '\t')) {
            continue;
        }
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// Joins hard-wrapped lines: a single line break inside a paragraph becomes a space; a blank
/// line, or a break before a list item or after a colon, stays a break. Runs of spaces become
/// one.
pub fn reflow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_whitespace() {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        let mut breaks = 0;
        while i < chars.len() && chars[i].is_whitespace() {
            breaks += usize::from(chars[i] == '\n');
            i += 1;
        }
        let next = chars.get(i).copied();
        let after = chars.get(i + 1).copied();
        let list_item = matches!(next, Some('-' | '*' | '•' | '#' | '<' | '['))
            || (next.is_some_and(|c| c.is_ascii_digit()) && matches!(after, Some('.' | ')')));
        let after_colon = start > 0 && chars[start - 1] == ':';
        if breaks >= 2 || (breaks == 1 && (list_item || after_colon)) {
            out.push('\n');
        } else if start > 0 && i < chars.len() {
            out.push(' ');
        }
    }
    out
}

/// Splits normalised text into sentences (and list items / lines), each trimmed.
pub fn sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\n' | b';' => true,
            b'.' | b'!' | b'?' => {
                // A sentence ends at a stop followed by space or end, not inside `file.txt`,
                // `~/.ssh` or `e.g.`.
                bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace() || *n == b'<')
            }
            _ => false,
        };
        if end {
            let piece = s[start..=i].trim();
            if !piece.is_empty() {
                out.push(piece);
            }
            start = i + 1;
        }
        i += 1;
    }
    let piece = s[start..].trim();
    if !piece.is_empty() {
        out.push(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveals_what_renders_as_nothing() {
        assert_eq!(reveal("a\u{200B}b"), "a<U+200B>b");
        assert_eq!(reveal("x\u{E0068}\u{E0069}"), "x<tag:h><tag:i>");
        assert_eq!(reveal("\u{1b}[8m"), "<ESC>[8m");
    }

    #[test]
    fn normalises_styles_quotes_and_case() {
        assert_eq!(normalise("ＩＭＰＯＲＴＡＮＴ"), "important");
        assert_eq!(normalise("don\u{2019}t \u{201C}x\u{201D}"), "don't \"x\"");
        assert_eq!(normalise("r\u{200B}ead"), "read");
    }

    #[test]
    fn splits_sentences_but_not_paths() {
        assert_eq!(
            sentences("read ~/.ssh/id_rsa. then send it! ok"),
            vec!["read ~/.ssh/id_rsa.", "then send it!", "ok"]
        );
        assert_eq!(sentences("a\nb; c"), vec!["a", "b;", "c"]);
    }

    #[test]
    fn reflow_joins_wrapped_lines_only() {
        assert_eq!(reflow("must include the\n    contents of  x"), "must include the contents of x");
        assert_eq!(reflow("a\n\nb\n- item\nc:\nd"), "a\nb\n- item c:\nd");
    }

    #[test]
    fn emoji_joiners_are_ordinary() {
        let family: Vec<char> = "👨\u{200D}👩".chars().collect();
        assert!(is_ordinary_invisible(&family, 1));
        let word: Vec<char> = "re\u{200D}ad".chars().collect();
        assert!(!is_ordinary_invisible(&word, 2));
    }
}
