//! What a definition claims about itself against what its name says: annotations that call a
//! destroying or sending tool harmless, parameters asking for credentials the tool has no use for.

use super::super::Finding;
use super::super::rules::finding;
use super::{ANNOTATION_MISMATCH, CREDENTIAL_PARAM, CREDENTIAL_WORDS, Domain, Profile, words};

/// Name words of operations that are neither read-only nor harmless.
#[rustfmt::skip]
const HARMFUL_VERBS: &[&str] =
    &["delete", "remove", "drop", "destroy", "purge", "erase", "wipe", "kill", "terminate", "truncate", "send", "transfer", "pay", "payout", "withdraw"];

/// A read-only or non-destructive annotation on a tool whose name says otherwise.
/// (`destructiveHint: false` means "only additive updates": true of sending, and of removing a
/// label; a lie only for the verbs of [`DESTROYING_VERBS`].)
pub fn annotation_mismatch(p: &Profile) -> Option<Finding> {
    let verb = words(&p.name).into_iter().find(|w| HARMFUL_VERBS.contains(&w.as_str()))?;
    (p.claims_read_only || p.claims_non_destructive && DESTROYING_VERBS.contains(&verb.as_str()))
        .then(|| finding(&ANNOTATION_MISMATCH, "annotations", &format!("`{}` ({verb}) is annotated harmless", p.name)))
}

/// Name verbs that destroy: `destructiveHint: false` on them is a lie.
const DESTROYING_VERBS: &[&str] = &["delete", "drop", "destroy", "purge", "erase", "wipe", "truncate"];

/// Parameters asking for a credential the tool's purpose does not need.
pub fn credential_params(p: &Profile) -> Vec<Finding> {
    let secrets_ok = p.is(Domain::Secrets) || p.is(Domain::Cloud) || p.is(Domain::Ssh);
    let payments_ok = p.is(Domain::Finance) || p.is(Domain::Secrets);
    p.params
        .iter()
        .filter(|name| {
            let w = words(name);
            let joined: String = w.concat();
            let payment = ["card", "cvv", "cvc", "ssn", "iban"].iter().any(|c| joined.contains(c));
            // Keys, seed phrases and card data are never a service's login; a password, PIN or
            // one-time code is one for an online service, so it counts only for offline tools.
            let strong =
                ["privatekey", "secretkey", "creditcard", "cardnumber", "seedphrase", "mnemonic", "cvv", "cvc"]
                    .iter()
                    .any(|c| joined.contains(c))
                    || w.iter().any(|x| ["ssn", "mnemonic", "cvv", "cvc"].contains(&x.as_str()));
            let weak = w.iter().any(|x| CREDENTIAL_WORDS.contains(&x.as_str()));
            let asks = strong || weak && p.offline;
            // A pure or offline tool has no use for an API key or access token either.
            let api_credential = p.offline
                && (w
                    .iter()
                    .any(|x| ["key", "token", "secret", "apikey", "credential", "credentials"].contains(&x.as_str())));
            (asks || api_credential) && !(if payment { payments_ok } else { secrets_ok })
        })
        .map(|name| {
            finding(
                &CREDENTIAL_PARAM,
                &format!("inputSchema.properties.{name}"),
                &format!("parameter `{name}` of `{}`", p.name),
            )
        })
        .collect()
}
