//! A refused capability use: what every check that says no returns, and what the audit log and
//! the CLI's one line report. It lives here, below `grant` and `egress`, which both produce it.

use super::Capability;
use std::fmt;

/// A refused capability use, with the flag that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub capability: Capability,
    pub target: String,
    pub reason: String,
    pub hint: Option<String>,
}

impl Denial {
    pub fn new(capability: Capability, target: &str, reason: &str, hint: Option<String>) -> Self {
        Denial { capability, target: target.to_string(), reason: reason.to_string(), hint }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "denied: {} {} ({})", self.capability.verb(), self.target, self.reason)?;
        if let Some(h) = &self.hint {
            write!(f, "; to allow: {h}")?;
        }
        Ok(())
    }
}
