//! The data-flow guard's secret detector: what in a `tools/call`'s arguments is a secret
//! (private keys, cloud and API tokens of known formats, JWTs, high-entropy credentials, the
//! content of files under sensitive paths). Findings name the rule and the argument, and carry
//! a short fingerprint, never the value.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// `(id, pattern, what it is)`: the known secret formats. One line of reason each.
pub const SECRET_PATTERNS: &[(&str, &str, &str)] = &[
    (
        "private-key",
        r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----",
        "a PEM/OpenSSH/PGP private key",
    ),
    ("aws-access-key", r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", "an AWS access key id"),
    (
        "aws-secret-key",
        r"(?i)aws_?secret_?access_?key\s*[=:]\s*['\x22]?[A-Za-z0-9/+]{40}\b",
        "an AWS secret access key",
    ),
    ("github-token", r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}\b", "a GitHub token"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20}\b", "a GitLab personal access token"),
    (
        "slack-token",
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
        "a Slack token or webhook",
    ),
    ("stripe-key", r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{20,}\b", "a Stripe secret key"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key"),
    (
        "google-oauth",
        r"\bya29\.[0-9A-Za-z_-]{20,}\b|\bGOCSPX-[A-Za-z0-9_-]{20,}\b",
        "a Google OAuth token or client secret",
    ),
    (
        "openai-key",
        r"\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b|\bsk-(proj|svcacct|admin)-[A-Za-z0-9_-]{40,}\b",
        "an OpenAI API key",
    ),
    ("anthropic-key", r"\bsk-ant-(api|admin)\d{2}-[A-Za-z0-9_-]{80,}\b", "an Anthropic API key"),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{34}\b", "a Hugging Face token"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", "an npm token"),
    ("pypi-token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}\b", "a PyPI token"),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", "a SendGrid API key"),
    ("twilio-key", r"\bSK[0-9a-fA-F]{32}\b", "a Twilio API key"),
    ("digitalocean-token", r"\bdo[opr]_v1_[a-f0-9]{64}\b", "a DigitalOcean token"),
    ("azure-storage-key", r"AccountKey=[A-Za-z0-9+/]{86}==", "an Azure storage account key"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}\b", "a JSON Web Token"),
    ("basic-auth-url", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]{6,}@[^\s/]+", "a URL with a password in it"),
    ("shadow-entry", r"(?m)^[a-z_][a-z0-9_-]*:\$(1|2[abxy]?|5|6|y)\$[^:\s]{8,}:", "an /etc/shadow password hash"),
    (
        "aws-credentials-file",
        r"(?m)^\s*aws_(access_key_id|secret_access_key|session_token)\s*=",
        "the content of ~/.aws/credentials",
    ),
    (
        "kubeconfig",
        r"(?m)^\s*(client-key-data|client-certificate-data|token):\s*\S{20,}",
        "the content of a kubeconfig",
    ),
    (
        "docker-auth",
        r"\x22auths\x22\s*:\s*\{[^}]*\x22auth\x22\s*:\s*\x22[A-Za-z0-9+/=]{12,}",
        "the content of ~/.docker/config.json",
    ),
    ("netrc", r"(?m)^\s*machine\s+\S+\s+login\s+\S+\s+password\s+\S+", "the content of ~/.netrc"),
    ("mcp-config", r"\x22mcpServers\x22\s*:\s*\{", "another MCP client's configuration (mcp.json)"),
    (
        "dotenv-secret",
        r"(?m)^\s*(export\s+)?[A-Z0-9_]*(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY)[A-Z0-9_]*\s*=\s*['\x22]?[^\s'\x22]{8,}",
        "a secret assignment from a .env file",
    ),
];

/// Nesting followed into arguments: serde_json's own limit, so no parsed argument is deeper.
pub const MAX_DEPTH: usize = 128;
/// Secrets reported per call, at most (one is enough to refuse it).
pub const MAX_FINDINGS: usize = 64;
/// Longest token judged on entropy alone (longer ones are blobs, not credentials; the known
/// formats are still matched in them).
pub const ENTROPY_MAX_LEN: usize = 512;

/// Shortest string judged on entropy alone.
pub const ENTROPY_MIN_LEN: usize = 32;
/// Bits per character above which a credential-shaped string counts as a secret.
pub const ENTROPY_BITS: f64 = 4.2;

static COMPILED: LazyLock<Vec<(&'static str, regex::Regex, &'static str)>> = LazyLock::new(|| {
    SECRET_PATTERNS.iter().filter_map(|(id, p, why)| regex::Regex::new(p).ok().map(|r| (*id, r, *why))).collect()
});

/// A secret found in an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    /// The pattern's id (`private-key`, `aws-access-key`, `high-entropy`, …).
    pub rule: &'static str,
    /// What it is.
    pub what: &'static str,
    /// The argument, as a JSON pointer into the arguments (`/config/token`).
    pub argument: String,
    /// The first 12 hex digits of the secret's SHA-256: to correlate, never to recover.
    pub fingerprint: String,
}

/// Every secret in `arguments` (any JSON), each once.
pub fn scan(arguments: &Value) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    walk(arguments, String::new(), &mut out, 0);
    out
}

fn walk(v: &Value, at: String, out: &mut Vec<SecretFinding>, depth: usize) {
    if depth > MAX_DEPTH || out.len() >= MAX_FINDINGS {
        return;
    }
    match v {
        Value::String(s) => scan_str(s, &at, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{at}/{i}"), out, depth + 1);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                walk(item, format!("{at}/{key}"), out, depth + 1);
            }
        }
        _ => {}
    }
}

fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn scan_str(s: &str, at: &str, out: &mut Vec<SecretFinding>) {
    let argument = if at.is_empty() { "/".to_string() } else { at.to_string() };
    let mut found = false;
    for (id, re, what) in COMPILED.iter() {
        if let Some(m) = re.find(s) {
            out.push(SecretFinding {
                rule: id,
                what,
                argument: argument.clone(),
                fingerprint: fingerprint(m.as_str()),
            });
            found = true;
        }
    }
    if found {
        return;
    }
    for token in s.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '(' | ')' | '<' | '>')) {
        if looks_like_credential(token) {
            out.push(SecretFinding {
                rule: "high-entropy",
                what: "a high-entropy credential-like string",
                argument: argument.clone(),
                fingerprint: fingerprint(token),
            });
            return;
        }
    }
}

/// A long random-looking token of credential characters: mixed classes, high entropy, not a
/// hex digest (hashes and ids are ordinary arguments), not a path or a word.
fn looks_like_credential(t: &str) -> bool {
    let t = t.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if t.len() < ENTROPY_MIN_LEN
        || t.len() > ENTROPY_MAX_LEN
        || !t.chars().all(|c| c.is_ascii_alphanumeric() || "+/=_-.".contains(c))
    {
        return false;
    }
    if t.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return false;
    }
    let classes = [
        t.chars().any(|c| c.is_ascii_lowercase()),
        t.chars().any(|c| c.is_ascii_uppercase()),
        t.chars().any(|c| c.is_ascii_digit()),
    ];
    if classes.iter().filter(|b| **b).count() < 3 || t.contains("..") || t.matches('/').count() > 2 {
        return false;
    }
    entropy(t) >= ENTROPY_BITS
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(v: Value) -> Vec<&'static str> {
        scan(&v).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(COMPILED.len(), SECRET_PATTERNS.len());
    }

    #[test]
    fn known_formats_are_found_by_argument() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
        let found = scan(&json!({"sidenote": key, "a": 1}));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].rule, found[0].argument.as_str()), ("private-key", "/sidenote"));
        assert!(!found[0].fingerprint.contains("b3Bl"));
        assert_eq!(rules(json!({"k": "AKIAIOSFODNN7EXAMPLE"})), vec!["aws-access-key"]);
        assert_eq!(rules(json!({"k": ["ghp_0123456789abcdefghijABCDEFGHIJ012345"]})), vec!["github-token"]);
        assert_eq!(
            rules(
                json!({"t": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"})
            ),
            vec!["jwt"]
        );
        assert_eq!(rules(json!({"t": "x=1\n[default]\naws_access_key_id = AKIA...\n"})), vec!["aws-credentials-file"]);
        assert_eq!(rules(json!({"t": "token Zx8pQ2rT7vLm9NcB4yHs6WdK1gFj3aE5uRt0"})), vec!["high-entropy"]);
    }

    #[test]
    fn ordinary_arguments_are_not_secrets() {
        for v in [
            json!({"path": "/home/user/projects/app/src/main.rs"}),
            json!({"sha": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}),
            json!({"id": "550e8400-e29b-41d4-a716-446655440000"}),
            json!({"q": "how do I rotate an AWS access key safely?"}),
            json!({"url": "https://example.com/a/b/c?page=2&sort=desc"}),
            json!({"text": "ThisIsAVeryLongCamelCaseIdentifierName"}),
        ] {
            assert!(scan(&v).is_empty(), "{v}");
        }
    }
}
