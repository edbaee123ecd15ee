//! The vetting rules as data: an id, a category, a severity and a one-line reason each. The
//! patterns they use live with the module that applies them (`hidden`, `semantic`, `names`,
//! `purpose`); [`RULES`] lists them all (for SARIF and the documentation).

use super::{Category, Finding, Severity};

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line: why a match is a finding.
    pub reason: &'static str,
}

/// A finding of `rule` at `location` with `evidence` (already revealed).
pub fn finding(rule: &Rule, location: &str, evidence: &str) -> Finding {
    Finding {
        rule: rule.id,
        category: rule.category,
        severity: rule.severity,
        location: location.to_string(),
        evidence: evidence.to_string(),
        explanation: rule.reason.to_string(),
    }
}

/// Every rule, for reports and documentation.
pub fn all() -> Vec<&'static Rule> {
    use super::{hidden, names, purpose, semantic};
    let mut v: Vec<&'static Rule> = vec![
        &hidden::TAGS,
        &hidden::BIDI,
        &hidden::ZERO_WIDTH,
        &hidden::ESCAPES,
        &hidden::COMMENT,
        &hidden::PADDING,
        &hidden::ENCODED,
        &hidden::CONFUSABLE,
        &hidden::CONTROL,
        &hidden::HIDDEN_HTML,
        &hidden::SCRAMBLED,
        &names::CONFUSABLE_SIBLING,
        &names::CONFUSABLE_WELL_KNOWN,
        &names::MIXED_SCRIPT_NAME,
        &names::SEPARATOR_SIBLING,
        &names::DUPLICATE,
        &names::VERSIONED_SIBLING,
        &names::INVISIBLE_IN_NAME,
        &names::FOREIGN_WELL_KNOWN,
        &purpose::NETWORK_MISMATCH,
        &purpose::SENSITIVE_GRANT,
        &purpose::CREDENTIAL_PARAM,
        &purpose::ANNOTATION_MISMATCH,
    ];
    v.extend(semantic::ALL.iter());
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_reasons_present() {
        let all = super::all();
        let ids: std::collections::HashSet<_> = all.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), all.len());
        assert!(all.iter().all(|r| !r.reason.is_empty() && r.id.starts_with("MCPS-")));
    }
}
