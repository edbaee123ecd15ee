//! The semantic rules: an instruction aimed at the model combined with a harmful objective,
//! judged per window of three sentences, with the tool's own purpose (its name, titles and
//! parameters) allowed to explain what it talks about. Rules are data ([`RULES`]).

use super::concepts::{self, Concept, Hit};
use super::fields::Kind;
use super::hidden::View;
use super::purpose::Profile;
use super::rules::{Rule, finding};
use super::{Category, Context, Finding, Severity, text};
use judge::{
    evidence, example_context, explained, ignored, is_objective, negated, permitted, protective, sibling_hits,
};
use std::collections::BTreeSet;
use std::sync::LazyLock;

use Concept as C;

// Concept sets are `u64` bit sets.
const _: () = assert!((Concept::ArgAssign as u32) < 64, "more concepts than bits in a u64");

/// A rule over the concepts of a window.
#[derive(Debug, Clone, Copy)]
pub struct SemanticRule {
    pub rule: Rule,
    /// Every one of these.
    pub all: &'static [Concept],
    /// At least one of these (none: no requirement). `Imperative` is a sentence that opens
    /// with a command verb.
    pub any: &'static [Cue],
    /// And at least one of these too (none: no requirement).
    pub also: &'static [Cue],
    /// Whether the window must also carry a directive (an address, a trigger or an imperative).
    pub directed: bool,
    /// Only in fields of these kinds (none: any but parameter names).
    pub only_in: &'static [Kind],
    /// Whether the tool's purpose may explain the concepts (see `explained`).
    pub purpose_explains: bool,
}

/// What may accompany a rule's concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    Concept(Concept),
    /// A sentence opening with a command verb.
    Imperative,
    /// A sentence opening with a verb that puts something somewhere ("include…", "paste…"):
    /// in a parameter's description, a request to fill that parameter.
    FlowImperative,
    /// A concrete destination (address, URL, IP, account) that is not the tool's own vendor's,
    /// documentation examples included: a directive to contact one is not an example.
    Destination,
}

const INSTRUCTED: &[Cue] = &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative];
/// A directive proper: an address to the model or a hook on other activity (an imperative
/// alone is how honest descriptions explain their parameters).
const DIRECTED: &[Cue] = &[Cue::Concept(C::Address), Cue::Concept(C::Trigger)];
/// What a directive about another tool may ask for that no honest cross-reference does.
const CROSS_OBJECTIVES: &[Cue] = &[
    Cue::Concept(C::Shell),
    Cue::Concept(C::Exec),
    Cue::Concept(C::SensitivePath),
    Cue::Concept(C::Conversation),
    Cue::Concept(C::Destructive),
    Cue::Concept(C::ArgAssign),
    Cue::Concept(C::Escalate),
    Cue::Concept(C::Modify),
    Cue::Concept(C::Repeat),
    Cue::Concept(C::Pii),
];
const NOT_NAMES: &[Kind] = &[Kind::Description, Kind::ParamDescription, Kind::Value, Kind::Other, Kind::Title];
const DESCRIPTIONS: &[Kind] = &[Kind::ParamDescription, Kind::Value, Kind::Other, Kind::Title];

/// The semantic rules. The tool's purpose can explain some concepts (an ssh tool reading
/// `~/.ssh`): see `explained`; a rule with `purpose_explains: false` ignores that.
#[rustfmt::skip]
pub const RULES: &[SemanticRule] = &[
    r("MCPS-IN001", Category::Instruction, Severity::High, "tells the model to ignore or replace its instructions, or claims priority over the user", &[C::Override], &[], &[], true),
    r("MCPS-IN005", Category::Instruction, Severity::High, "claims or grants privileges the model should not assume", &[C::Escalate], &[Cue::Concept(C::Address), Cue::Imperative, Cue::Concept(C::Trigger)], &[], true),
    r("MCPS-SR001", Category::SensitiveRead, Severity::High, "asks the model to read a credential or secret file the tool's purpose does not need", &[C::SensitivePath], &[Cue::Concept(C::Read), Cue::Concept(C::Flow), Cue::Concept(C::Harvest), Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative], &[], true),
    r("MCPS-SR002", Category::SensitiveRead, Severity::High, "asks for secrets to be passed into a parameter, the reply, or sent somewhere", &[C::Secret, C::Flow], &[], &[], true),
    r("MCPS-SR003", Category::SensitiveRead, Severity::High, "a parameter asks for secrets or personal data the tool does not need", &[], &[Cue::Concept(C::Secret), Cue::Concept(C::Pii)], DESCRIPTIONS, true),
    // (SR003 also needs an ask: see `ASKS`.)
    r("MCPS-SR004", Category::SensitiveRead, Severity::High, "tells the model to pass the user's personal data to another tool or destination", &[C::Pii], &[Cue::Concept(C::Flow), Cue::Concept(C::CallOther), Cue::Concept(C::Literal)], &[], true),
    r("MCPS-EX001", Category::ExfilParam, Severity::High, "a parameter asks for the conversation, the system prompt or other tools' results", &[C::Conversation], &[], DESCRIPTIONS, true),
    r("MCPS-EX002", Category::ExfilParam, Severity::High, "asks the model to pass the conversation or private context into the tool", &[C::Conversation, C::Flow], &[], &[], true),
    r("MCPS-EX003", Category::ExfilParam, Severity::High, "asks for data the model read or received elsewhere", &[C::Harvest], &[Cue::Concept(C::Flow), Cue::Concept(C::Address), Cue::Imperative], DESCRIPTIONS, true),
    r("MCPS-EX007", Category::ExfilParam, Severity::High, "asks for data the model read elsewhere to be passed on", &[C::Harvest, C::Flow], &[], &[], true),
    r("MCPS-EX004", Category::ExfilParam, Severity::High, "a parameter's name asks for the conversation, secrets, or data read elsewhere", &[], &[Cue::Concept(C::Conversation), Cue::Concept(C::SensitivePath), Cue::Concept(C::Harvest)], &[Kind::ParamName], true),
    r("MCPS-EX005", Category::ExfilParam, Severity::High, "speaks to the model about the conversation or its instructions", &[C::Conversation], &[Cue::Concept(C::Address), Cue::Concept(C::Trigger)], &[], true),
    r("MCPS-SH001", Category::Shadowing, Severity::High, "instructs the model to change what another tool or action does", &[C::OtherTool, C::Modify], &[], &[], true),
    r2("MCPS-SH002", Category::Shadowing, Severity::High, "redirects an action to a concrete address, account or URL", &[C::Modify], INSTRUCTED, &[Cue::Destination], &[], false, true),
    r("MCPS-SH003", Category::Shadowing, Severity::High, "instructs the model to skip the user's confirmation", &[C::SkipConfirm], &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative, Cue::Concept(C::OtherTool), Cue::Concept(C::Destructive), Cue::Concept(C::CallOther)], &[], true),
    r("MCPS-SH004", Category::Shadowing, Severity::Medium, "says the user's confirmation is not needed", &[C::SkipConfirm], &[], &[], true),
    r("MCPS-SH005", Category::Shadowing, Severity::High, "tells the model to call another tool for secrets, private data or destruction", &[C::CallOther], &[Cue::Concept(C::SensitivePath), Cue::Concept(C::Conversation), Cue::Concept(C::Destructive), Cue::Concept(C::Bulk), Cue::Concept(C::Exec), Cue::Concept(C::Pii)], &[], true),
    r("MCPS-SH014", Category::Shadowing, Severity::High, "a directive scoped to another tool's calls changes what they do", &[C::OtherTool, C::Trigger], &[Cue::Concept(C::Modify), Cue::Concept(C::ArgAssign), Cue::Concept(C::Inject), Cue::Concept(C::Escalate), Cue::Concept(C::Exec), Cue::Concept(C::Shell), Cue::Concept(C::Destructive), Cue::Destination], &[], true),
    r("MCPS-SH006", Category::Shadowing, Severity::High, "overrides what the user asked for", &[C::OverrideUser], &[], &[], false),
    r("MCPS-SH007", Category::Shadowing, Severity::High, "makes the model add code, secrets or addresses to what it writes", &[C::Inject], &[Cue::Concept(C::Exec), Cue::Concept(C::Secret), Cue::Concept(C::Literal), Cue::Concept(C::SensitivePath)], &[], true),
    r("MCPS-SH008", Category::Shadowing, Severity::High, "tells the model to expose private data publicly through another action", &[C::Expose], &[Cue::Concept(C::Trigger), Cue::Concept(C::OtherTool), Cue::Concept(C::CallOther), Cue::Concept(C::Address), Cue::Imperative], &[], true),
    r("MCPS-SH009", Category::Instruction, Severity::High, "makes the model add dependencies or code to what it writes for the user", &[C::SupplyChain], &[Cue::Concept(C::Trigger), Cue::Concept(C::Address), Cue::Concept(C::Inject)], &[], true),
    r("MCPS-SR005", Category::SensitiveRead, Severity::High, "tells the model to read a file and pass its content on", &[C::FileRef, C::Read, C::Flow], &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative], &[], true),
    r("MCPS-SH010", Category::Shadowing, Severity::High, "hooks an extra side effect onto another action", &[C::ExtraAction, C::Trigger], &[], &[], true),
    r("MCPS-CN001", Category::Concealment, Severity::High, "tells the model to hide what it does from the user", &[C::Hide], &[], &[], true),
    r("MCPS-CN002", Category::Concealment, Severity::High, "tells the model to mislead the user", &[C::Deceive], &[], &[], true),
    r("MCPS-PR001", Category::Preference, Severity::High, "belittles the other tools so the model uses this one", &[C::Disparage], &[], &[], true),
    r("MCPS-PR003", Category::Preference, Severity::High, "calls another tool deprecated, broken or untrustworthy", &[C::Belittle, C::OtherTool], &[], &[], true),
    r("MCPS-PR004", Category::Preference, Severity::High, "forbids the other tools in favour of this one", &[C::Forbid], &[Cue::Concept(C::PreferThis), Cue::Concept(C::Belittle), Cue::Concept(C::Disparage)], &[], true),
    r("MCPS-PR005", Category::Preference, Severity::High, "demands to be used for everything", &[C::PreferThis, C::Trigger], &[], &[], true),
    r("MCPS-PR002", Category::Preference, Severity::Low, "steers the model to this tool for everything or before anything", &[C::PreferThis], &[], &[], true),
    r("MCPS-RD001", Category::RepeatDestructive, Severity::High, "tells the model to call many times over", &[C::Repeat], INSTRUCTED, &[], true),
    r("MCPS-RD004", Category::RepeatDestructive, Severity::High, "tells the model to call without end", &[C::RepeatUnbounded], INSTRUCTED, &[], true),
    r("MCPS-RD002", Category::RepeatDestructive, Severity::High, "instructs a destructive operation the tool's purpose does not explain", &[C::Destructive], &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative, Cue::Concept(C::OtherTool), Cue::Concept(C::CallOther)], &[], true),
    r("MCPS-RD005", Category::RepeatDestructive, Severity::High, "hooks a destructive operation on other requests", &[C::Destructive, C::Trigger], &[], &[], false),
    r("MCPS-RD003", Category::RepeatDestructive, Severity::High, "instructs the model to run downloaded or inline code", &[C::Exec], INSTRUCTED, &[], true),
    r2("MCPS-SH011", Category::Shadowing, Severity::High, "a directive about another tool asks for commands, secrets, private data, destruction or changed arguments", &[], &[Cue::Concept(C::OtherTool), Cue::Concept(C::CallOther)], CROSS_OBJECTIVES, NOT_NAMES, true, true),
    r2("MCPS-RD006", Category::RepeatDestructive, Severity::High, "tells the model to run a shell command the tool's purpose does not explain", &[C::Shell], INSTRUCTED, &[], NOT_NAMES, false, true),
    r2("MCPS-EX006", Category::ExfilParam, Severity::High, "tells the model to contact an endpoint that is not the tool's own", &[C::Contact], &[Cue::Concept(C::Address), Cue::Concept(C::Trigger), Cue::Imperative], &[Cue::Destination], NOT_NAMES, false, true),
    r("MCPS-PR006", Category::Preference, Severity::High, "boasts about itself with claimed endorsements or comparisons so the model picks it", &[C::Boast], &[Cue::Concept(C::SocialProof), Cue::Concept(C::Comparative)], &[], true),
    r("MCPS-PR007", Category::Preference, Severity::High, "claims to be better than the other tools", &[C::Comparative, C::OtherTool], &[], &[], true),
    r("MCPS-PR008", Category::Preference, Severity::Medium, "claims endorsements to be picked", &[C::SocialProof], &[], &[], true),
    r2("MCPS-SR007", Category::SensitiveRead, Severity::High, "tells the model to take credentials or secrets from one tool and hand them to another", &[C::Flow, C::SensitivePath], &[Cue::Concept(C::OtherTool), Cue::Concept(C::CallOther)], &[], &[], false, false),
    r2("MCPS-SR010", Category::SensitiveRead, Severity::High, "hooks on other activity to collect secrets with another tool and pass them on", &[C::Flow, C::Secret, C::Trigger], &[Cue::Concept(C::OtherTool), Cue::Concept(C::CallOther)], &[], &[], false, false),
    r("MCPS-SR009", Category::SensitiveRead, Severity::Medium, "names a credential file the tool's purpose does not explain", &[C::SensitivePath], &[], &[Kind::Description, Kind::ParamDescription, Kind::Title], true),
    r("MCPS-SR008", Category::SensitiveRead, Severity::High, "a value the model may copy into a call names a credential file", &[C::SensitivePath], &[], &[Kind::Value], true),
    r("MCPS-RD007", Category::RepeatDestructive, Severity::High, "a value the model may copy into a call is a shell command", &[], &[Cue::Concept(C::Shell), Cue::Concept(C::Exec)], &[Kind::Value], true),
    r("MCPS-IN003", Category::Instruction, Severity::Medium, "a value the model may copy into a call carries an instruction", &[], &[Cue::Concept(C::Address), Cue::Imperative], &[Kind::Value], true),
    r2("MCPS-SR011", Category::SensitiveRead, Severity::High, "tells the model to hand over a credential file's content, whatever the tool is for", &[C::SensitivePath, C::Flow, C::Address], &[], &[], &[], false, false),
    r("MCPS-SH015", Category::Shadowing, Severity::High, "tells the model to falsify the values it passes or reports", &[C::Falsify], INSTRUCTED, &[], true),
];

#[allow(clippy::too_many_arguments)]
const fn r(
    id: &'static str,
    category: Category,
    severity: Severity,
    reason: &'static str,
    all: &'static [Concept],
    any: &'static [Cue],
    only_in: &'static [Kind],
    purpose_explains: bool,
) -> SemanticRule {
    SemanticRule {
        rule: Rule { id, category, severity, reason },
        all,
        any,
        also: &[],
        directed: false,
        only_in,
        purpose_explains,
    }
}

/// A rule that needs a concept from each of two groups (`any` and `also`).
#[allow(clippy::too_many_arguments)]
const fn r2(
    id: &'static str,
    category: Category,
    severity: Severity,
    reason: &'static str,
    all: &'static [Concept],
    any: &'static [Cue],
    also: &'static [Cue],
    only_in: &'static [Kind],
    directed: bool,
    purpose_explains: bool,
) -> SemanticRule {
    SemanticRule { rule: Rule { id, category, severity, reason }, all, any, also, directed, only_in, purpose_explains }
}

/// An instruction found in hidden text.
pub const HIDDEN_INSTRUCTION: Rule = Rule {
    id: "MCPS-IN002",
    category: Category::Instruction,
    severity: Severity::High,
    reason: "hidden text carries an instruction to the model",
};
/// Two different kinds of suspicious finding in one tool.
pub const COMBINED: Rule = Rule {
    id: "MCPS-CB001",
    category: Category::Instruction,
    severity: Severity::High,
    reason: "several independent signs of poisoning in one definition",
};

/// All rule descriptors of this module.
pub static ALL: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let mut v: Vec<Rule> = RULES.iter().map(|r| r.rule).collect();
    v.extend([HIDDEN_INSTRUCTION, COMBINED]);
    v
});

/// What a parameter's description must also show for SR003: an ask, not a mention.
const ASKS: &[Cue] = &[Cue::Concept(C::Flow), Cue::Concept(C::Harvest), Cue::Concept(C::Address), Cue::FlowImperative];

static FLOW_IMPERATIVE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r"^[-*•>#\d.):\s]*(?:(?:please|also|then|always|just)\s+)*(include|put|paste|add|append|fill|populate|provide|list|concatenate|attach|insert|copy|dump|enter|give|supply|write|place|send)\b").ok()
});

static IMPERATIVE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(
        r"^[-*•>#\d.):\s]*(?:(?:please|first|also|then|now|next|always|immediately|finally|additionally|and|so|afterwards|secondly|lastly|instead|just)[,:]?\s+)*(?:(?:make sure|be sure|remember|don't forget|ensure)\s+(?:to\s+|that\s+|you\s+)*)?(read|send|include|pass|call|invoke|append|prepend|forward|copy|extract|retrieve|fetch|collect|gather|upload|post|transmit|attach|embed|insert|add|set|change|replace|modify|redirect|delete|remove|execute|run|ignore|disregard|forget|output|print|write|save|store|provide|supply|open|cat|dump|access|grab|obtain|share|submit|report|log|encode|repeat|visit|navigate|download|install|load|tell|say|mention|hide|keep|never|do not|don't|transfer|email|notify|return|respond|reply|treat|act|pretend|use|paste|put|fill|stage|archive|answer|recommend|describe|present|end|begin|start|sign|wrap|concatenate|query|search|list|get|check|verify|scan|look|find|create|make|update|edit|patch|post|trust|escalate|approve|confirm|prefix|pipe|route|point|mount|multiply|quote|dm|open|push|skip|terminate|drop|wipe|mirror|sync|relay|mark|populate|select|empty|respond|label|assign|reassign|go ahead|proceed|request|hit|ping|poll|fetch|visit|crawl|register|authorize)\b",
    )
    .ok()
});

/// Semantic findings for one view of a field.
pub fn scan(view: &View, profile: &Profile, ctx: &Context<'_>) -> Vec<Finding> {
    if view.text.trim().is_empty() {
        return Vec::new();
    }
    let sentences = text::sentences(&view.text);
    let mut hits = concepts::hits(&view.text);
    hits.extend(sibling_hits(&view.text, profile, ctx));
    hits.retain(|h| !ignored(h));
    let offsets: Vec<usize> = sentences.iter().map(|s| s.as_ptr() as usize - view.text.as_ptr() as usize).collect();
    let sentence_of = |pos: usize| offsets.iter().rposition(|o| *o <= pos).unwrap_or(0);
    // A sentence, or a clause after a colon or "then", that opens with a command verb.
    let starts = |re: &LazyLock<Option<regex::Regex>>| -> Vec<bool> {
        sentences
            .iter()
            .map(|s| {
                s.split_whitespace().count() >= 3
                    && clauses(s)
                        .any(|c| re.as_ref().is_some_and(|re| re.is_match(c)) && c.split_whitespace().count() >= 2)
            })
            .collect()
    };
    let mut imperative = starts(&IMPERATIVE);
    // The first sentence of a description is the tool's own summary ("Set restrictions on a
    // page"), not a command to the model.
    if view.kind == Kind::Description
        && view.hidden.is_none()
        && let Some(first) = imperative.first_mut()
    {
        *first = false;
    }
    // Likewise the first sentence of a boolean flag's description says what setting it does
    // ("Remove all HTML comments"), not what the model must do.
    if view.kind == Kind::ParamDescription
        && view.hidden.is_none()
        && view.param.as_ref().is_some_and(|p| profile.flags.contains(&p.to_lowercase()))
        && let Some(first) = imperative.first_mut()
    {
        *first = false;
    }
    let flow_imperative = starts(&FLOW_IMPERATIVE);
    let all: Vec<(usize, bool, Hit)> = hits
        .into_iter()
        .map(|h| {
            let s = sentence_of(h.start);
            let negated = is_objective(h.concept) && negated(&view.text[offsets.get(s).copied().unwrap_or(0)..h.start])
                || permitted(&h, &view.text[..h.start]);
            let example = is_objective(h.concept) && example_context(&view.text[..h.start]);
            (s, negated || example || explained(&h, view, profile), h)
        })
        .collect();
    let mut out = Vec::new();
    let n = sentences.len().max(1);
    // Concepts present per window as bit sets (raw, and not explained by the purpose); a rule
    // reports once per view (the first window where it holds).
    let bit = |c: Concept| 1u64 << (c as u32);
    let mut fired = vec![false; RULES.len()];
    let words = view.text.split_whitespace().count();
    for centre in 0..n {
        let (lo, hi) = (centre.saturating_sub(1), (centre + 1).min(n - 1));
        let in_window = |(s, _, _): &&(usize, bool, Hit)| (lo..=hi).contains(s);
        let mut raw_set = 0u64;
        let mut unexplained_set = 0u64;
        let mut destination = false;
        for (_, explained, h) in all.iter().filter(in_window) {
            raw_set |= bit(h.concept);
            if !explained {
                unexplained_set |= bit(h.concept);
            }
            destination |= h.concept == C::Literal
                && !profile.owns_host(&h.text)
                && !example_context(&view.text[..h.start])
                && !h.text.contains("your");
        }
        let raw_secret = raw_set & bit(C::Secret) != 0;
        let imperative_here = (lo..=hi).any(|i| imperative.get(i).copied().unwrap_or(false));
        let flow_here = (lo..=hi).any(|i| flow_imperative.get(i).copied().unwrap_or(false));
        for (ri, r) in RULES.iter().enumerate() {
            if fired[ri] {
                continue;
            }
            let kind_ok =
                if r.only_in.is_empty() { view.kind != Kind::ParamName } else { r.only_in.contains(&view.kind) };
            if !kind_ok {
                continue;
            }
            let set = if r.purpose_explains { unexplained_set } else { raw_set };
            let has = |c: Concept| set & bit(c) != 0;
            if !r.all.iter().all(|c| has(*c)) {
                continue;
            }
            let cue = |cue: &Cue| match cue {
                Cue::Concept(c) => has(*c),
                Cue::Imperative => imperative_here,
                Cue::FlowImperative => flow_here,
                Cue::Destination => destination,
            };
            let cued = (r.any.is_empty() || r.any.iter().any(cue))
                && (r.also.is_empty() || r.also.iter().any(cue))
                && (!r.directed || DIRECTED.iter().any(cue))
                && (r.rule.id != "MCPS-SR003" || ASKS.iter().any(cue));
            // A value that is an operation's label ("delete workflow run logs") opens with a
            // verb too: only an address, or a long imperative, is an instruction.
            if !cued || (r.rule.id == "MCPS-IN003" && (words < 4 || !has(C::Address) && words < 8)) {
                continue;
            }
            if r.rule.id == "MCPS-CN001" && protective(set, raw_secret) {
                continue;
            }
            fired[ri] = true;
            let window: Vec<&Hit> =
                all.iter().filter(in_window).filter(|(_, e, _)| !r.purpose_explains || !e).map(|(_, _, h)| h).collect();
            let mut f = finding(&r.rule, &view.location, &evidence(&sentences[lo..=hi], &window, r));
            if let Some(how) = view.hidden {
                f.severity = Severity::High;
                f.explanation = format!("{} (hidden in {how})", f.explanation);
            }
            out.push(f);
        }
    }
    if let Some(how) = view.hidden
        && out.is_empty()
        && (imperative.iter().any(|b| *b) || all.iter().any(|(_, _, h)| h.concept == C::Address))
    {
        let mut f = finding(&HIDDEN_INSTRUCTION, &view.location, &text::reveal_bounded(&view.text, 200));
        f.explanation = format!("{} ({how})", f.explanation);
        out.push(f);
    }
    out
}

/// A sentence and its clauses after a colon or "then" ("if it fails: delete it",
/// "read the file, then pass it").
fn clauses(s: &str) -> impl Iterator<Item = &str> {
    // After an opening subordinate clause ("after you get a result, invoke …"), the main clause.
    let opener = [
        "after ",
        "before ",
        "when ",
        "whenever ",
        "once ",
        "if ",
        "then ",
        "to ",
        "for ",
        "first, ",
        "next, ",
        "finally, ",
    ]
    .iter()
    .any(|o| s.trim_start_matches(|c: char| !c.is_alphanumeric()).starts_with(o));
    let main = s.find(", ").filter(|_| opener).map(|i| &s[i + 2..]);
    std::iter::once(s).chain(
        s.match_indices(':')
            .map(|(i, _)| s[i + 1..].trim_start())
            .chain(s.match_indices(" then ").map(|(i, _)| &s[i + 6..]))
            .chain(main)
            .filter(|c| !c.is_empty()),
    )
}

/// The unexplained concepts of each window of three sentences of a view, with `Imperative`
/// and `Hidden` as pseudo-concepts: the features the scorer weighs.
pub fn windows(view: &View, profile: &Profile, ctx: &Context<'_>) -> Vec<Vec<String>> {
    let sentences = text::sentences(&view.text);
    let mut hits = concepts::hits(&view.text);
    hits.extend(sibling_hits(&view.text, profile, ctx));
    hits.retain(|h| !ignored(h));
    let offsets: Vec<usize> = sentences.iter().map(|s| s.as_ptr() as usize - view.text.as_ptr() as usize).collect();
    let sentence_of = |pos: usize| offsets.iter().rposition(|o| *o <= pos).unwrap_or(0);
    let imperative: Vec<bool> = sentences
        .iter()
        .map(|s| IMPERATIVE.as_ref().is_some_and(|re| re.is_match(s)) && s.split_whitespace().count() >= 3)
        .collect();
    let kept: Vec<(usize, Concept)> = hits
        .iter()
        .filter(|h| {
            let s = sentence_of(h.start);
            let negated = is_objective(h.concept) && negated(&view.text[offsets.get(s).copied().unwrap_or(0)..h.start]);
            let example = is_objective(h.concept) && example_context(&view.text[..h.start]);
            !(negated || example || explained(h, view, profile))
        })
        .map(|h| (sentence_of(h.start), h.concept))
        .collect();
    let n = sentences.len().max(1);
    (0..n)
        .map(|c| {
            let (lo, hi) = (c.saturating_sub(1), (c + 1).min(n - 1));
            let mut f: BTreeSet<String> =
                kept.iter().filter(|(s, _)| (lo..=hi).contains(s)).map(|(_, c)| format!("{c:?}")).collect();
            if (lo..=hi).any(|i| imperative.get(i).copied().unwrap_or(false)) {
                f.insert("Imperative".into());
            }
            if view.hidden.is_some() {
                f.insert("Hidden".into());
            }
            f.insert(format!("Kind{:?}", view.kind));
            f.into_iter().collect()
        })
        .collect()
}

/// The concepts of a view, for diagnostics.
pub fn describe(view: &View, profile: &Profile, ctx: &Context<'_>) -> String {
    let mut hits = concepts::hits(&view.text);
    hits.extend(sibling_hits(&view.text, profile, ctx));
    hits.retain(|h| !ignored(h));
    let mut seen = BTreeSet::new();
    hits.iter()
        .filter_map(|h| {
            let e = explained(h, view, profile);
            seen.insert((h.concept, e))
                .then(|| if e { format!("[{:?}]", h.concept) } else { format!("{:?}", h.concept) })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

mod judge;

#[cfg(test)]
mod tests;
