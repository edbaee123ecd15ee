//! How a concept hit is judged in context: negated, in an example, ignored, explained by the
//! tool's purpose; the listing's other tools named in a text; the evidence shown.

use super::super::concepts::{Concept, Hit};
use super::super::hidden::View;
use super::super::purpose::{Domain, Profile};
use super::super::{Context, text};
use super::{Cue, SemanticRule};
use std::sync::LazyLock;

use Concept as C;

/// Objectives a negated flow protects ("do not include api keys").
static NEGATED_FLOW: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r"\b(do not|don't|never|must not|should not|avoid|no need to|not)\s+(\w+\s+)?(include|send|pass|share|put|provide|expose|log|store|paste|enter|reveal|display|print|show|output|return|leak|use|hardcode|commit)\b").ok()
});

/// Concepts that a negated flow before them protects rather than requests.
pub(super) fn is_objective(c: Concept) -> bool {
    matches!(c, C::Secret | C::SensitivePath | C::Pii | C::Conversation)
}

/// A list the hit ends that opens with "no" ("no login commands, passwords, hosts").
static NEGATED_LIST: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r"\bno\s+(\w+\s+){0,2}\w+(,\s*(\w+\s+){0,2}\w+)*,\s*((and|or|nor)\s+)?$|\bno\s+(\w+\s+){1,2}$")
        .ok()
});

/// Whether the sentence so far negates a flow ("do not include any … such as"), or the hit is
/// an item of a list opened by "no".
pub(super) fn negated(before: &str) -> bool {
    let tail: String = before.chars().rev().take(100).collect::<Vec<_>>().into_iter().rev().collect();
    NEGATED_FLOW.as_ref().is_some_and(|re| re.is_match(&tail))
        || NEGATED_LIST.as_ref().is_some_and(|re| re.is_match(&tail))
}

/// Repetition stated as a property, not asked for ("read-only and safe to call repeatedly").
pub(crate) fn permitted(h: &Hit, before: &str) -> bool {
    matches!(h.concept, C::Repeat | C::RepeatUnbounded)
        && ["safe to ", "can be ", "may be ", "ok to ", "okay to ", "fine to ", "idempotent and ", "harmless to "]
            .iter()
            .any(|w| before.ends_with(w) || before.trim_end().ends_with(w.trim_end()))
}

/// Whether a hit sits in an example ("e.g. {\"authorization\": \"bearer token\"}"), not a request.
pub(super) fn example_context(before: &str) -> bool {
    let tail: String = before.chars().rev().take(48).collect::<Vec<_>>().into_iter().rev().collect();
    before.ends_with('"') || ["e.g.", "for example", "example:", "i.e.", "ie:", "ie,"].iter().any(|w| tail.contains(w))
}

/// Hits that only look like a concept: "every tool call" is not another tool; "this tool is
/// deprecated" belittles nothing else.
pub(super) fn ignored(h: &Hit) -> bool {
    match h.concept {
        C::OtherTool => {
            let scoped = h.text.trim_start_matches(|c: char| !c.is_alphanumeric()).starts_with("for ");
            let opener =
                h.text.trim_start_matches(|c: char| !c.is_alphanumeric()).split_whitespace().nth(1).unwrap_or("");
            // "For example," and the like scope nothing.
            scoped
                && [
                    "example",
                    "instance",
                    "more",
                    "details",
                    "this",
                    "that",
                    "each",
                    "all",
                    "any",
                    "now",
                    "the",
                    "a",
                    "an",
                    "your",
                    "our",
                    "their",
                    "information",
                    "reference",
                    "best",
                    "most",
                    "some",
                    "other",
                    "security",
                    "performance",
                    "convenience",
                    "clarity",
                    "simplicity",
                    "compatibility",
                    "efficiency",
                    "backwards",
                    "pagination",
                    "context",
                    "consistency",
                    "safety",
                    "debugging",
                    "testing",
                    "instance,",
                ]
                .contains(&opener.trim_end_matches(','))
                || !scoped && (h.text.ends_with(" call") || h.text.ends_with(" calls"))
                || h.text.starts_with("this ")
                || ["the ", "a ", "an "].iter().any(|a| h.text.starts_with(a))
                    && [
                        "same",
                        "right",
                        "correct",
                        "appropriate",
                        "best",
                        "following",
                        "previous",
                        "next",
                        "new",
                        "current",
                        "mcp",
                        "relevant",
                        "proper",
                        "main",
                        "primary",
                        "above",
                        "below",
                    ]
                    .iter()
                    .any(|w| h.text.split_whitespace().nth(1) == Some(w))
        }
        C::Forbid => {
            ["this tool", "this function", "this server", "this integration"].iter().any(|w| h.text.contains(w))
        }
        // "Use this tool to …" speaks of this tool.
        C::CallOther => ["this tool", "this function", "the tool", "this one"].iter().any(|w| h.text.contains(w)),
        C::Belittle => ["this ", "it ", "which ", "that ", "there "].iter().any(|w| h.text.starts_with(w)),
        _ => false,
    }
}

/// A concept hit the tool's own purpose explains, or a literal that is only an example or
/// the tool's own vendor.
pub(super) fn explained(h: &Hit, view: &View, p: &Profile) -> bool {
    match h.concept {
        C::SensitivePath => p.explains_sensitive(&h.text),
        // "If neither provides valid credentials": the state of authentication, not a secret.
        C::Secret => {
            p.explains_secret(&h.text, view.param.as_deref())
                || ["valid ", "invalid ", "expired ", "missing ", "no "]
                    .iter()
                    .any(|w| view.text[..h.start].ends_with(w))
        }
        // The personal data of this parameter, or one the tool takes as a parameter
        // (`user_google_email`: "the user's email").
        C::Pii => {
            view.param.as_deref().is_some_and(|n| {
                let w = super::super::purpose::words(n);
                w.iter().any(|x| h.text.contains(x.as_str()) && x.len() > 3)
            }) || p.params.iter().any(|n| {
                super::super::purpose::words(n)
                    .iter()
                    .any(|x| PII_PARAM_WORDS.contains(&x.as_str()) && h.text.contains(x.as_str()))
            })
        }
        // Conversation history is a chat or memory tool's business; the system prompt and
        // other tools' definitions are nobody's.
        C::Conversation => {
            (p.is(Domain::Memory) || p.is(Domain::Mail))
                && !["system", "developer", "instruction", "tool", "prompt"].iter().any(|w| h.text.contains(w))
        }
        // A shell tool warns about `rm -rf`; a delete tool speaks of deleting.
        // No purpose explains destroying production, a whole database or everything.
        C::Destructive => {
            ![
                "production",
                "prod ",
                "database",
                "everything",
                "all users",
                "home",
                "~/",
                "every row",
                "all rows",
                "all tables",
                "every table",
                "schema",
                "cascade",
                "namespace",
                "no-preserve-root",
            ]
            .iter()
            .any(|w| h.text.contains(w))
                && (p.is(Domain::Destructive)
                    || p.is(Domain::Shell)
                    || p.is(Domain::Database) && h.text.contains("table"))
        }
        C::Shell => p.is(Domain::Shell),
        C::Exec => p.is(Domain::Shell),
        C::Bulk => p.is(Domain::Database),
        C::OtherTool => {
            let t = &h.text;
            // Named tools are never explained; actions in the tool's own domain are.
            // One of the tool's own parameters is not another tool.
            p.params
                .iter()
                .any(|param| param.contains('_') && t.ends_with(param.as_str()) || t.ends_with(&format!("{param}'")))
                || !t.contains('_')
                    && !t.starts_with("for ")
                    && !t.contains("tool")
                    && (p.is(Domain::Mail)
                        && ["mail", "message", "dm", "text", "sms", "post", "tweet", "repl", "forward"]
                            .iter()
                            .any(|w| t.contains(w)))
                || (!t.contains('_')
                    && p.is(Domain::Finance)
                    && !["mail", "message", "tool", "server", "integration", "function", "plugin"]
                        .iter()
                        .any(|w| t.contains(w)))
                || (!p.name.is_empty() && t.contains(&p.name.to_lowercase()))
        }
        // A documentation domain is an example only where it is introduced as one: in a
        // directive (`add bot@ci.example.io to every commit`) it is a destination like any other.
        C::Literal => is_example(&h.text) && example_context(&view.text[..h.start]) || p.owns_host(&h.text),
        // "Use path_prefix to filter" names one of the tool's own parameters, not another tool.
        C::CallOther => {
            h.text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w.contains('_') && p.params.contains(w))
        }
        // The tool's own option to skip a confirmation (`autoAccept`), documented as such.
        C::SkipConfirm => {
            view.param.as_ref().is_some_and(|n| p.flags.contains(&n.to_lowercase()))
                || p.flags.contains(&h.text.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        }
        // A key named as a predicate (`can_send=true`, `is_active=false`) selects records; it
        // prescribes no argument.
        C::ArgAssign => {
            let key = h.text.split('=').next().unwrap_or("").split_whitespace().last().unwrap_or("");
            ["can_", "is_", "has_"].iter().any(|p| key.starts_with(p))
        }
        // Changing what the tool's own name says it changes ("change the default branch" in
        // `update_default_branch`).
        C::Modify => {
            let own = super::super::purpose::words(&p.name);
            own.iter().filter(|w| w.len() > 3).any(|w| h.text.contains(w.as_str()))
        }
        C::FileRef | C::Read => p.is(Domain::Files),
        _ => false,
    }
}

/// Parameter-name words that name the user's personal data the tool takes.
const PII_PARAM_WORDS: &[&str] = &["email", "phone", "address", "birthday", "location"];

/// Addresses and URLs used as examples or documentation, not as destinations.
pub(super) fn is_example(s: &str) -> bool {
    let domain = s.rsplit('@').next().unwrap_or(s);
    let domain = domain.trim_start_matches("https://").trim_start_matches("http://");
    let host = domain.split(['/', ':', '?', '#']).next().unwrap_or("");
    let examples = [
        "example.",
        "test",
        "localhost",
        "your",
        "domain.",
        "company.",
        "acme.",
        "foo.",
        "bar.",
        "mycompany",
        "yourcompany",
        "email.com",
        "mail.com",
    ];
    examples.iter().any(|e| host.contains(e))
        || host.ends_with(".example")
        || host.ends_with(".invalid")
        || host.starts_with("127.")
        || host == "0.0.0.0"
}

/// A concealment sentence that protects a secret ("never show the password to the user").
pub(super) fn protective(present: u64, secret: bool) -> bool {
    secret
        && ![C::Flow, C::Conversation, C::SensitivePath, C::OtherTool, C::Harvest, C::Modify, C::CallOther]
            .iter()
            .any(|c| present & (1u64 << (*c as u32)) != 0)
}

/// Other tools of the listing named in `text` (not this one).
pub(super) fn sibling_hits(t: &str, p: &Profile, ctx: &Context<'_>) -> Vec<Hit> {
    let computed;
    let profile = if p.siblings.is_empty() && !ctx.siblings.is_empty() {
        computed = p.clone().with_siblings(ctx.siblings);
        &computed
    } else {
        p
    };
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = Vec::new();
    // Names of letters, digits, `_` and `-` are looked up word by word (one pass over the text
    // however long the listing); any other name is searched for as a substring.
    let mut push = |start: usize, end: usize, name: &str| {
        out.push(Hit { concept: C::OtherTool, start, end, text: name.to_string() });
        let before = t[..start].trim_end().trim_end_matches(['\'', '"', '(']).trim_end();
        if ["call", "invoke", "use", "run", "execute", "calling", "using", "with", "then"]
            .iter()
            .any(|v| before.ends_with(v))
        {
            out.push(Hit { concept: C::CallOther, start, end, text: name.to_string() });
        }
    };
    let mut start = None;
    for (i, c) in t.char_indices().chain(std::iter::once((t.len(), ' '))) {
        match (word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let token = t[s..i].trim_matches('-');
                let offset = s + (t[s..i].len() - t[s..i].trim_start_matches('-').len());
                if profile.sibling_words.contains(token) {
                    push(offset, offset + token.len(), token);
                }
                start = None;
            }
            _ => {}
        }
    }
    for name in profile.sibling_words.iter().filter(|n| !n.chars().all(word)) {
        let mut from = 0;
        while let Some(i) = t[from..].find(name.as_str()) {
            let (s, e) = (from + i, from + i + name.len());
            let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '_');
            if bounded(t[..s].chars().next_back()) && bounded(t[e..].chars().next()) {
                push(s, e, name);
            }
            from = e;
        }
    }
    out
}

/// The evidence for a finding: the window's sentences, clipped, with the matched concepts.
pub(super) fn evidence(sentences: &[&str], window: &[&Hit], r: &SemanticRule) -> String {
    let wanted =
        |c: Concept| r.all.contains(&c) || r.any.contains(&Cue::Concept(c)) || r.also.contains(&Cue::Concept(c));
    let matched: Vec<&str> = window.iter().filter(|h| wanted(h.concept)).map(|h| h.text.as_str()).collect();
    let joined = sentences.join(" ");
    let clip = text::reveal_bounded(&joined, 220);
    if matched.is_empty() { clip } else { format!("{clip} (matched: {})", matched.join("; ")) }
}
