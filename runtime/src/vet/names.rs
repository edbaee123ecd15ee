//! Name squatting: a tool whose name is confusable with another tool of the listing, or with
//! a well-known tool, so the model calls it in the other's place. Confusability is judged by
//! Unicode UTS #39 skeletons (`unicode-security`), not by a hand-made table of look-alikes.

use super::rules::{Rule, finding};
use super::{Category, Finding, Severity, text};
use serde_json::Value;
use unicode_security::{MixedScript, is_potential_mixed_script_confusable_char, skeleton};

pub const CONFUSABLE_SIBLING: Rule = Rule {
    id: "MCPS-NS001",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "the name looks like another tool's name in the same listing but is a different string",
};
pub const CONFUSABLE_WELL_KNOWN: Rule = Rule {
    id: "MCPS-NS002",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "the name looks like a well-known tool's name but is a different string",
};
pub const MIXED_SCRIPT_NAME: Rule = Rule {
    id: "MCPS-NS003",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "the name mixes scripts with look-alike letters",
};
pub const VERSIONED_SIBLING: Rule = Rule {
    id: "MCPS-NS007",
    category: Category::NameSquatting,
    severity: Severity::Medium,
    reason: "the name is another tool's name with a version or 'better' suffix, a common way to take its calls",
};
pub const DUPLICATE: Rule = Rule {
    id: "MCPS-NS005",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "another tool in the listing has exactly this name: one shadows the other",
};
pub const INVISIBLE_IN_NAME: Rule = Rule {
    id: "MCPS-NS006",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "the name contains invisible characters, so it looks like another name",
};
pub const FOREIGN_WELL_KNOWN: Rule = Rule {
    id: "MCPS-NS008",
    category: Category::NameSquatting,
    severity: Severity::Low,
    reason: "a well-known tool's exact name in a listing that has none of its usual companions: it may take that tool's calls (low: honest servers reuse generic names)",
};
pub const SEPARATOR_SIBLING: Rule = Rule {
    id: "MCPS-NS004",
    category: Category::NameSquatting,
    severity: Severity::High,
    reason: "the name differs from another tool's in the listing only by case or separators",
};

/// Names of widely deployed tools (official reference servers and popular vendors' servers),
/// which a squatter imitates: `(name, whose)`.
pub const WELL_KNOWN: &[(&str, &str)] = &[
    ("read_file", "filesystem reference server"),
    ("read_text_file", "filesystem reference server"),
    ("read_multiple_files", "filesystem reference server"),
    ("write_file", "filesystem reference server"),
    ("edit_file", "filesystem reference server"),
    ("create_directory", "filesystem reference server"),
    ("list_directory", "filesystem reference server"),
    ("directory_tree", "filesystem reference server"),
    ("move_file", "filesystem reference server"),
    ("search_files", "filesystem reference server"),
    ("get_file_info", "filesystem reference server"),
    ("list_allowed_directories", "filesystem reference server"),
    ("fetch", "fetch reference server"),
    ("get_current_time", "time reference server"),
    ("convert_time", "time reference server"),
    ("git_status", "git reference server"),
    ("git_diff", "git reference server"),
    ("git_commit", "git reference server"),
    ("git_log", "git reference server"),
    ("create_entities", "memory reference server"),
    ("search_nodes", "memory reference server"),
    ("sequentialthinking", "sequential-thinking reference server"),
    ("create_issue", "GitHub server"),
    ("create_pull_request", "GitHub server"),
    ("get_file_contents", "GitHub server"),
    ("search_repositories", "GitHub server"),
    ("push_files", "GitHub server"),
    ("send_email", "mail servers"),
    ("send_message", "chat servers"),
    ("slack_post_message", "Slack server"),
    ("browser_navigate", "Playwright server"),
    ("browser_click", "Playwright server"),
    ("browser_snapshot", "Playwright server"),
    ("execute_command", "shell servers"),
    ("run_command", "shell servers"),
    ("execute_sql", "database servers"),
    ("query", "database servers"),
    ("list_tables", "database servers"),
    ("web_search", "search servers"),
    ("brave_web_search", "Brave search server"),
    ("get_weather", "weather examples"),
];

/// The skeleton keys of [`WELL_KNOWN`], computed once.
static WELL_KNOWN_KEYS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| WELL_KNOWN.iter().map(|(n, _)| key(n)).collect());

/// Suffixes that present a tool as the better version of another.
const SQUAT_SUFFIXES: &[&str] = &[
    "v2", "v3", "new", "official", "pro", "plus", "fixed", "secure", "safe", "latest", "improved", "enhanced", "fast",
    "better", "real", "verified", "trusted", "updated", "2",
];

/// `name` is `other` plus a suffix (or prefix) that claims to supersede it.
fn squats(name: &str, other: &str) -> bool {
    let (n, o) = (folded(name), folded(other));
    o.len() >= 4 && n != o && SQUAT_SUFFIXES.iter().any(|s| n == format!("{o}{s}") || n == format!("{s}{o}"))
}

/// The comparison key of a name: its UTS #39 skeleton, lower-cased.
fn key(name: &str) -> String {
    skeleton(name).collect::<String>().to_lowercase()
}

/// A looser key for comparing with the listing: look-alike digits and letter pairs folded too
/// (`j1ra` and `jira`, `rn` and `m`, `versiom` and `version`), on top of the skeleton.
fn loose(name: &str) -> String {
    // An ASCII name's skeleton folds only what the mapping below folds too.
    let skeleton = if name.is_ascii() { name.to_lowercase() } else { key(name) };
    let k = folded(&skeleton).replace("rn", "m").replace("vv", "w").replace("cl", "d");
    k.chars()
        .map(|c| match c {
            '1' | 'i' | '|' | '!' => 'l',
            '0' => 'o',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            'm' => 'n',
            c => c,
        })
        .collect()
}

/// Case and separators folded (`readFile`, `read-file`, `read_file` alike).
fn folded(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect()
}

/// Name-squatting findings for a tool called `name` among `siblings`.
pub fn scan(name: &str, siblings: &[Value]) -> Vec<Finding> {
    let mut out = Vec::new();
    if name.is_empty() {
        return out;
    }
    let shown = text::reveal(name);
    if name.chars().any(|c| text::invisible(c).is_some() || c.is_control()) {
        out.push(finding(&INVISIBLE_IN_NAME, "name", &shown));
    }
    let visible: String = name.chars().filter(|c| text::invisible(*c).is_none()).collect();
    let name = visible.as_str();
    if !name.is_single_script() && name.chars().any(is_potential_mixed_script_confusable_char) {
        out.push(finding(&MIXED_SCRIPT_NAME, "name", &shown));
    }
    let k = key(name);
    let (folded_name, loose_name) = (folded(name), loose(name));
    for s in siblings.iter().filter_map(|s| s.get("name").and_then(Value::as_str).or_else(|| s.as_str())) {
        // Two ASCII names are confusable only if their loose keys are equal (which covers their
        // skeletons); skip the skeleton when they are not.
        let ascii_distinct = name.is_ascii() && s.is_ascii() && loose(s) != loose_name && folded(s) != folded_name;
        if s == name {
            out.push(finding(&DUPLICATE, "name", &shown));
        } else if ascii_distinct && !squats(name, s) {
            continue;
        } else if key(s) == k {
            out.push(finding(&CONFUSABLE_SIBLING, "name", &format!("{shown} looks like `{}`", text::reveal(s))));
        } else if squats(name, s) {
            out.push(finding(&VERSIONED_SIBLING, "name", &format!("{shown} shadows `{}`", text::reveal(s))));
        } else if folded(s) == folded(name) {
            out.push(finding(&SEPARATOR_SIBLING, "name", &format!("{shown} is `{}` with other case or separators", s)));
        } else if loose(s) == loose(name) {
            out.push(finding(&CONFUSABLE_SIBLING, "name", &format!("{shown} looks like `{}`", text::reveal(s))));
        }
    }
    if let Some(family) = WELL_KNOWN.iter().find(|(k, _)| *k == name).map(|(_, whose)| *whose) {
        let members = WELL_KNOWN.iter().filter(|(_, w)| *w == family).count();
        let names: Vec<&str> =
            siblings.iter().filter_map(|s| s.get("name").and_then(Value::as_str).or_else(|| s.as_str())).collect();
        let companion = names.iter().any(|s| WELL_KNOWN.iter().any(|(k, w)| k == s && *w == family));
        if members >= 3 && names.len() >= 2 && !companion {
            out.push(finding(&FOREIGN_WELL_KNOWN, "name", &format!("{shown} ({family}) among {}", names.join(", "))));
        }
    }
    for ((known, whose), known_key) in WELL_KNOWN.iter().zip(WELL_KNOWN_KEYS.iter()) {
        if *known != name && *known_key == k {
            out.push(finding(&CONFUSABLE_WELL_KNOWN, "name", &format!("{shown} looks like `{known}` ({whose})")));
        }
    }
    out
}

/// Scripts whose letters pass for Latin ones (Cyrillic `а`, Greek `ο`, Armenian `օ`,
/// Cherokee `Ꭺ`): a word mixing one of them with Latin is a spoof. Mixing Latin with Han,
/// kana, Hangul or Arabic is ordinary writing.
fn lookalike_script(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    matches!(c.script(), Script::Cyrillic | Script::Greek | Script::Armenian | Script::Cherokee | Script::Coptic)
}

/// The first word of `text` that mixes Latin letters with look-alikes from another script.
pub fn mixed_script_word(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .find(|w| {
            w.chars().any(|c| c.is_ascii_alphabetic())
                && w.chars().any(|c| lookalike_script(c) && is_potential_mixed_script_confusable_char(c))
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(name: &str, siblings: &[&str]) -> Vec<&'static str> {
        let sib: Vec<Value> = siblings.iter().map(|s| json!({ "name": s })).collect();
        scan(name, &sib).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn confusable_names_are_found() {
        assert_eq!(rules("j1ra_add_watcher", &["jira_add_watcher"]), vec![CONFUSABLE_SIBLING.id]);
        assert_eq!(rules("read_file", &["get_forecast", "get_alerts"]), vec![FOREIGN_WELL_KNOWN.id]);
        assert!(rules("read_file", &["write_file", "list_directory"]).is_empty());
        assert_eq!(rules("jira_update_versiom", &["jira_update_version"]), vec![CONFUSABLE_SIBLING.id]);
        assert!(rules("re\u{0430}d_file", &[]).contains(&MIXED_SCRIPT_NAME.id));
        assert!(rules("re\u{0430}d_file", &[]).contains(&CONFUSABLE_WELL_KNOWN.id));
        assert!(rules("send_emai1", &["send_email"]).contains(&CONFUSABLE_SIBLING.id));
        assert!(rules("get_fi1e_contents", &[]).contains(&CONFUSABLE_WELL_KNOWN.id));
        assert_eq!(rules("readFile", &["read_file"]), vec![SEPARATOR_SIBLING.id]);
    }

    #[test]
    fn ordinary_names_are_clean() {
        assert!(rules("read_file", &["write_file", "list_directory"]).is_empty());
        assert!(rules("list_issues", &["list_issue_types", "get_issue"]).is_empty());
        assert!(rules("获取天气", &[]).is_empty());
        assert!(rules("поиск_файлов", &[]).is_empty());
    }

    #[test]
    fn mixed_script_words_in_text() {
        assert_eq!(mixed_script_word("the p\u{0430}ssword file"), Some("p\u{0430}ssword".into()));
        assert_eq!(mixed_script_word("Привет world, 日本語テキスト"), None);
    }
}
