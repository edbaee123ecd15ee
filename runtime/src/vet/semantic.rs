//! The semantic rules: an instruction aimed at the model combined with a harmful objective,
//! judged per window of three sentences, with the tool's own purpose (its name, titles and
//! parameters) allowed to explain what it talks about. Rules are data ([`RULES`]).

use super::concepts::{self, Concept, Hit};
use super::fields::Kind;
use super::hidden::View;
use super::purpose::{Domain, Profile};
use super::rules::{Rule, finding};
use super::{Category, Context, Finding, Severity, text};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use Concept as C;

/// A rule over the concepts of a window.
#[derive(Debug, Clone, Copy)]
pub struct SemanticRule {
    pub rule: Rule,
    /// Every one of these.
    pub all: &'static [Concept],
    /// At least one of these (none: no requirement). `Imperative` is a sentence that opens
    /// with a command verb.
    pub any: &'static [Cue],
    /// Only in fields of these kinds (none: any).
    pub only_in: &'static [Kind],
}

/// What may accompany a rule's concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    Concept(Concept),
    /// A sentence opening with a command verb.
    Imperative,
}

const fn rule(id: &'static str, category: Category, severity: Severity, reason: &'static str) -> Rule {
    Rule { id, category, severity, reason }
}

const INSTRUCTED: &[Cue] = &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative];
const DESCRIPTIONS: &[Kind] = &[Kind::ParamDescription, Kind::Value, Kind::Other, Kind::Title];

/// The semantic rules. The tool's purpose can explain some (an ssh tool reading `~/.ssh`):
/// see `explained`.
pub const RULES: &[SemanticRule] = &[
    SemanticRule {
        rule: rule("MCPS-IN001", Category::Instruction, Severity::High, "tells the model to ignore or replace its instructions"),
        all: &[C::Override],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-SR001", Category::SensitiveRead, Severity::High, "asks the model to read a credential or secret file the tool's purpose does not need"),
        all: &[C::SensitivePath],
        any: &[Cue::Concept(C::Read), Cue::Concept(C::Flow), Cue::Concept(C::Harvest), Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-SR002", Category::SensitiveRead, Severity::High, "asks for secrets to be passed into a parameter or sent somewhere"),
        all: &[C::Secret, C::Flow],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-EX001", Category::ExfilParam, Severity::High, "a parameter asks for the conversation, the system prompt or other tools' results"),
        all: &[C::Conversation],
        any: &[],
        only_in: DESCRIPTIONS,
    },
    SemanticRule {
        rule: rule("MCPS-EX002", Category::ExfilParam, Severity::High, "asks the model to pass the conversation or private context into the tool"),
        all: &[C::Conversation, C::Flow],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-EX003", Category::ExfilParam, Severity::Medium, "asks for data the model read or received elsewhere"),
        all: &[C::Harvest],
        any: &[Cue::Concept(C::Flow), Cue::Concept(C::Address), Cue::Imperative],
        only_in: DESCRIPTIONS,
    },
    SemanticRule {
        rule: rule("MCPS-SH001", Category::Shadowing, Severity::High, "instructs the model to change what another tool or action does"),
        all: &[C::OtherTool, C::Modify],
        any: &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative, Cue::Concept(C::Hide)],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-SH002", Category::Shadowing, Severity::High, "redirects an action to a concrete address, account or URL"),
        all: &[C::Literal, C::Modify],
        any: INSTRUCTED,
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-SH003", Category::Shadowing, Severity::High, "instructs the model to skip the user's confirmation"),
        all: &[C::SkipConfirm],
        any: &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative, Cue::Concept(C::OtherTool), Cue::Concept(C::Destructive)],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-SH004", Category::Shadowing, Severity::Medium, "says the user's confirmation is not needed"),
        all: &[C::SkipConfirm],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-CN001", Category::Concealment, Severity::High, "tells the model to hide what it does from the user"),
        all: &[C::Hide],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-PR001", Category::Preference, Severity::High, "belittles or forbids the other tools so the model uses this one"),
        all: &[C::Disparage],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-PR002", Category::Preference, Severity::Medium, "steers the model to this tool for everything or before anything"),
        all: &[C::PreferThis],
        any: &[],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-RD001", Category::RepeatDestructive, Severity::Medium, "tells the model to call again and again"),
        all: &[C::Repeat],
        any: INSTRUCTED,
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-RD002", Category::RepeatDestructive, Severity::High, "instructs a destructive operation the tool's purpose does not explain"),
        all: &[C::Destructive],
        any: &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative, Cue::Concept(C::OtherTool)],
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-RD003", Category::RepeatDestructive, Severity::High, "instructs the model to run downloaded or inline code"),
        all: &[C::Exec],
        any: INSTRUCTED,
        only_in: &[],
    },
    SemanticRule {
        rule: rule("MCPS-IN003", Category::Instruction, Severity::Medium, "a value the model may copy into a call carries an instruction"),
        all: &[],
        any: &[Cue::Concept(C::Address), Cue::Imperative],
        only_in: &[Kind::Value],
    },
    SemanticRule {
        rule: rule("MCPS-IN004", Category::Instruction, Severity::Medium, "speaks to the model about other tools, the conversation or secrets"),
        all: &[C::Address, C::Trigger],
        any: &[Cue::Concept(C::OtherTool), Cue::Concept(C::Conversation), Cue::Concept(C::Secret), Cue::Concept(C::Literal)],
        only_in: &[],
    },
];

/// An instruction found in hidden text.
pub const HIDDEN_INSTRUCTION: Rule =
    rule("MCPS-IN002", Category::Instruction, Severity::High, "hidden text carries an instruction to the model");
/// Two different kinds of suspicious finding in one tool.
pub const COMBINED: Rule = rule("MCPS-CB001", Category::Instruction, Severity::High, "several independent signs of poisoning in one definition");

/// All rule descriptors of this module.
pub static ALL: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let mut v: Vec<Rule> = RULES.iter().map(|r| r.rule).collect();
    v.extend([HIDDEN_INSTRUCTION, COMBINED]);
    v
});

static IMPERATIVE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(
        r"^[-*•>#\d.):\s]*(?:(?:please|first|also|then|now|next|always|immediately|finally|additionally|and|so|afterwards|secondly|lastly)[,:]?\s+)*(?:(?:make sure|be sure|remember|don't forget|ensure)\s+(?:to\s+|that\s+|you\s+)*)?(read|send|include|pass|call|invoke|append|forward|copy|extract|retrieve|fetch|collect|gather|upload|post|transmit|attach|embed|insert|add|set|change|replace|modify|redirect|delete|remove|execute|run|ignore|disregard|forget|output|print|write|save|store|provide|supply|open|cat|dump|access|grab|obtain|share|submit|report|log|encode|repeat|visit|navigate|download|install|load|tell|say|mention|hide|keep|never|do not|don't|transfer|email|notify|return|respond|reply|treat|act|pretend|use)\b",
    )
    .ok()
});

/// Semantic findings for one view of a field.
pub fn scan(view: &View, profile: &Profile, ctx: &Context<'_>) -> Vec<Finding> {
    if view.text.trim().is_empty() || view.kind == Kind::ParamName && view.hidden.is_none() {
        return Vec::new();
    }
    let sentences = text::sentences(&view.text);
    let mut hits = concepts::hits(&view.text);
    hits.extend(sibling_hits(&view.text, profile, ctx));
    let offsets: Vec<usize> = sentences.iter().map(|s| s.as_ptr() as usize - view.text.as_ptr() as usize).collect();
    let sentence_of = |pos: usize| offsets.iter().rposition(|o| *o <= pos).unwrap_or(0);
    let imperative: Vec<bool> = sentences
        .iter()
        .map(|s| IMPERATIVE.as_ref().is_some_and(|re| re.is_match(s)))
        .collect();
    let relevant: Vec<(usize, Hit)> =
        hits.into_iter().filter(|h| !explained(h, view, profile)).map(|h| (sentence_of(h.start), h)).collect();
    let mut out = Vec::new();
    let n = sentences.len().max(1);
    for centre in 0..n {
        let (lo, hi) = (centre.saturating_sub(1), (centre + 1).min(n - 1));
        let window: Vec<&Hit> = relevant.iter().filter(|(s, _)| (lo..=hi).contains(s)).map(|(_, h)| h).collect();
        let present: BTreeSet<Concept> = window.iter().map(|h| h.concept).collect();
        let imperative_here = (lo..=hi).any(|i| imperative.get(i).copied().unwrap_or(false));
        for r in RULES {
            if !r.only_in.is_empty() && !r.only_in.contains(&view.kind) {
                continue;
            }
            if !r.all.iter().all(|c| present.contains(c)) {
                continue;
            }
            let cued = r.any.is_empty()
                || r.any.iter().any(|cue| match cue {
                    Cue::Concept(c) => present.contains(c),
                    Cue::Imperative => imperative_here,
                });
            if !cued || (r.all.is_empty() && !imperative_here && !present.contains(&C::Address)) {
                continue;
            }
            if r.rule.id == "MCPS-CN001" && protective(&present) {
                continue;
            }
            let evidence = evidence(&sentences[lo..=hi], &window, r.all);
            let mut f = finding(&r.rule, &view.location, &evidence);
            if let Some(how) = view.hidden {
                f.severity = Severity::High;
                f.explanation = format!("{} (hidden in {how})", f.explanation);
            }
            out.push(f);
        }
    }
    if let Some(how) = view.hidden
        && out.is_empty()
        && (imperative.iter().any(|b| *b) || relevant.iter().any(|(_, h)| h.concept == C::Address))
    {
        let mut f = finding(&HIDDEN_INSTRUCTION, &view.location, &text::reveal_bounded(&view.text, 200));
        f.explanation = format!("{} ({how})", f.explanation);
        out.push(f);
    }
    out
}

/// A concept hit the tool's own purpose explains, or a literal that is only an example.
fn explained(h: &Hit, view: &View, p: &Profile) -> bool {
    match h.concept {
        C::SensitivePath => p.explains_sensitive(&h.text),
        C::Secret => p.explains_secret(&h.text, view.param.as_deref()),
        C::Conversation => p.is(Domain::Memory),
        C::Destructive => p.is(Domain::Destructive) || p.is(Domain::Database) && h.text.contains("table"),
        C::Exec => p.is(Domain::Shell),
        C::OtherTool => {
            let t = &h.text;
            (p.is(Domain::Mail) && ["mail", "message", "dm", "text", "sms", "post", "tweet", "repl", "forward"].iter().any(|w| t.contains(w)))
                || (p.is(Domain::Finance) && !t.contains("mail") && !t.contains("message"))
                || t.contains(&p.name.to_lowercase()) && !p.name.is_empty()
        }
        C::Literal => is_example(&h.text),
        _ => false,
    }
}

/// Addresses and URLs used as examples or documentation, not as destinations.
fn is_example(s: &str) -> bool {
    let domain = s.rsplit('@').next().unwrap_or(s);
    let domain = domain.trim_start_matches("https://").trim_start_matches("http://");
    let host = domain.split(['/', ':', '?', '#']).next().unwrap_or("");
    let examples = ["example.", "test", "localhost", "your", "domain.", "company.", "acme.", "foo.", "bar.", "mycompany", "yourcompany", "email.com", "mail.com"];
    examples.iter().any(|e| host.contains(e)) || host.ends_with(".example") || host.ends_with(".invalid") || host.starts_with("127.") || host == "0.0.0.0"
}

/// A concealment sentence that protects a secret ("never show the password to the user").
fn protective(present: &BTreeSet<Concept>) -> bool {
    present.contains(&C::Secret)
        && ![C::Read, C::Flow, C::Conversation, C::SensitivePath, C::OtherTool, C::Harvest, C::Modify].iter().any(|c| present.contains(c))
}

/// Other tools of the listing named in `text` (not this one).
fn sibling_hits(t: &str, p: &Profile, ctx: &Context<'_>) -> Vec<Hit> {
    let mut out = Vec::new();
    for s in ctx.siblings.iter().filter_map(|s| s.get("name").and_then(Value::as_str).or_else(|| s.as_str())) {
        let name = s.to_lowercase();
        if name.len() < 4 || name == p.name.to_lowercase() || !name.contains(['_', '-']) && name.len() < 8 {
            continue;
        }
        let mut from = 0;
        while let Some(i) = t[from..].find(&name) {
            let start = from + i;
            let end = start + name.len();
            let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '_');
            if bounded(t[..start].chars().next_back()) && bounded(t[end..].chars().next()) {
                out.push(Hit { concept: C::OtherTool, start, end, text: name.clone() });
            }
            from = end;
        }
    }
    out
}

/// The evidence for a finding: the window's sentences, clipped, with the matched concepts.
fn evidence(sentences: &[&str], window: &[&Hit], all: &[Concept]) -> String {
    let matched: Vec<&str> = window.iter().filter(|h| all.contains(&h.concept)).map(|h| h.text.as_str()).collect();
    let joined = sentences.join(" ");
    let clip = text::reveal_bounded(&joined, 220);
    if matched.is_empty() { clip } else { format!("{clip} [{}]", matched.join(", ")) }
}

#[cfg(test)]
mod tests;
