//! What a tool is for, read from its name, title and parameter names (the parts a poisoner
//! keeps honest so the tool gets called), and what that explains: an ssh tool may speak of
//! `~/.ssh`, a note-taking tool of the conversation, a shell tool of `bash -c`. Also the
//! mismatch between what the definition claims and the capabilities mcp-sandbox grants it.

use super::fields::{Field, Kind};
use super::rules::{Rule, finding};
use super::{Capabilities, Category, Finding, Severity};
use serde_json::Value;
use std::collections::BTreeSet;

pub const NETWORK_MISMATCH: Rule = Rule {
    id: "MCPS-PM001",
    category: Category::PurposeMismatch,
    severity: Severity::Medium,
    reason: "the tool presents itself as offline or purely computational but is granted network egress",
};
pub const WRITE_MISMATCH: Rule = Rule {
    id: "MCPS-PM002",
    category: Category::PurposeMismatch,
    severity: Severity::Medium,
    reason: "the tool claims to be read-only but is granted writes",
};

/// A domain a tool can belong to, and the name tokens that place it there: `(domain, tokens)`.
pub const DOMAINS: &[(Domain, &[&str])] = &[
    (Domain::Ssh, &["ssh", "sftp", "scp", "keygen", "keypair", "authorized", "known"]),
    (Domain::Cloud, &["aws", "s3", "iam", "azure", "gcp", "gcloud", "google", "cloud", "sts", "credential", "credentials"]),
    (
        Domain::Secrets,
        &[
            "secret", "secrets", "vault", "password", "passwords", "passphrase", "credential", "credentials", "key",
            "keys", "token", "tokens", "auth", "login", "keychain", "keyring", "1password", "op", "bitwarden", "bw",
            "lastpass", "keepass", "kms", "otp", "totp", "mfa", "2fa", "doppler", "infisical", "apikey", "jwt",
            "oauth", "cert", "certificate", "pgp", "gpg", "encrypt", "decrypt", "signing", "leak", "leaks",
            "gitleaks", "trufflehog", "detect", "scan", "scanner", "audit",
        ],
    ),
    (Domain::Env, &["env", "environment", "dotenv", "variable", "variables", "config", "configuration", "settings"]),
    (Domain::Git, &["git", "github", "gitlab", "bitbucket", "repo", "repository", "commit"]),
    (Domain::Kube, &["kube", "kubectl", "k8s", "kubernetes", "helm", "cluster", "pod", "pods", "docker", "container", "registry"]),
    (
        Domain::Shell,
        &[
            "shell", "bash", "zsh", "sh", "terminal", "command", "commands", "cmd", "exec", "execute", "run", "script",
            "process", "powershell", "console", "ssh", "tmux", "history",
        ],
    ),
    (Domain::Browser, &["browser", "chrome", "chromium", "firefox", "cookie", "cookies", "playwright", "puppeteer", "selenium", "tab", "page"]),
    (
        Domain::Memory,
        &[
            "memory", "memories", "remember", "recall", "note", "notes", "conversation", "conversations", "chat",
            "summary", "summarize", "transcript", "history", "journal", "diary", "feedback", "thought", "thoughts",
            "thinking", "reflect", "reflection", "context", "session", "log", "logs", "observation", "observations",
            "entity", "entities", "knowledge", "prompt", "prompts", "message", "messages",
        ],
    ),
    (Domain::Mail, &["email", "emails", "mail", "gmail", "outlook", "smtp", "imap", "message", "messages", "send", "slack", "teams", "discord", "telegram", "sms", "whatsapp", "inbox", "draft", "reply", "forward", "post", "channel"]),
    (Domain::Finance, &["transfer", "payment", "payments", "pay", "wallet", "funds", "bank", "invoice", "crypto", "swap", "stripe", "charge", "refund", "payout", "balance", "trade", "order"]),
    (Domain::Destructive, &["delete", "remove", "drop", "destroy", "purge", "clean", "cleanup", "reset", "wipe", "erase", "truncate", "kill", "terminate", "uninstall", "rm", "prune"]),
    (Domain::Database, &["sql", "query", "database", "db", "table", "tables", "postgres", "mysql", "sqlite", "mongo", "redis", "supabase", "schema"]),
];

/// A tool's field of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Domain {
    Ssh,
    Cloud,
    Secrets,
    Env,
    Git,
    Kube,
    Shell,
    Browser,
    Memory,
    Mail,
    Finance,
    Destructive,
    Database,
}

/// What the tool is, from its name, titles and parameter names.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: String,
    pub tokens: BTreeSet<String>,
    pub domains: BTreeSet<Domain>,
    /// Parameter names (lower case).
    pub params: BTreeSet<String>,
    /// Presents itself as offline, local or pure computation.
    pub offline: bool,
    /// Claims to be read-only.
    pub read_only: bool,
}

/// Splits an identifier or title into lower-case words (`getSSHKeys` → get, ssh, keys).
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Profile {
    pub fn of(tool: &Value, fields: &[Field]) -> Profile {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let mut tokens = BTreeSet::new();
        let mut params = BTreeSet::new();
        for f in fields {
            match f.kind {
                Kind::Name | Kind::Title => tokens.extend(words(&f.text)),
                Kind::ParamName => {
                    params.insert(f.text.to_lowercase());
                    tokens.extend(words(&f.text));
                }
                _ => {}
            }
        }
        let domains =
            DOMAINS.iter().filter(|(_, toks)| toks.iter().any(|t| tokens.contains(*t))).map(|(d, _)| *d).collect();
        let description = tool.get("description").and_then(Value::as_str).unwrap_or("").to_lowercase();
        let offline_words = ["offline", "local-only", "locally", "no network", "without network", "no internet", "does not access the network", "never connects", "no external"];
        let computational = ["calculator", "calculate", "math", "arithmetic", "add", "sum", "multiply", "divide", "subtract", "uuid", "hash", "count", "format", "lint", "convert", "units", "random", "dice"];
        let offline = offline_words.iter().any(|w| description.contains(w))
            || (tokens.iter().any(|t| computational.contains(&t.as_str())) && !tokens.iter().any(|t| ["fetch", "http", "url", "web", "api", "remote", "online", "currency", "rate", "rates", "exchange", "weather", "search"].contains(&t.as_str())));
        let read_only = tool.pointer("/annotations/readOnlyHint").and_then(Value::as_bool) == Some(true);
        Profile { name, tokens, domains, params, offline, read_only }
    }

    pub fn is(&self, d: Domain) -> bool {
        self.domains.contains(&d)
    }

    /// Whether the tool's purpose explains a mention of `text` (a matched span).
    pub fn explains_sensitive(&self, text: &str) -> bool {
        let t = text.to_lowercase();
        let has = |d| self.is(d);
        if t.contains("ssh") || t.contains("id_") || t.contains("authorized_keys") || t.contains("known_hosts") {
            return has(Domain::Ssh);
        }
        if t.contains("aws") || t.contains("azure") || t.contains("gcloud") || t.contains("service") || t.contains("application_default") {
            return has(Domain::Cloud);
        }
        if t.contains("kube") || t.contains("docker") {
            return has(Domain::Kube);
        }
        if t.contains("git") {
            return has(Domain::Git);
        }
        if t.contains("history") {
            return has(Domain::Shell) || has(Domain::Memory);
        }
        if t.contains("env") || t.contains("secret") || t.contains("credentials") || t.contains("config") {
            return has(Domain::Env) || has(Domain::Secrets);
        }
        if ["cookie", "login data", "web data", "local state", "key4", "logins.json"].iter().any(|w| t.contains(w)) {
            return has(Domain::Browser);
        }
        has(Domain::Secrets)
    }

    /// Whether the tool's purpose explains naming a secret (`text`): a secrets tool, or a
    /// parameter that is itself that credential (`api_key: your API key`).
    pub fn explains_secret(&self, text: &str, param: Option<&str>) -> bool {
        if self.is(Domain::Secrets) || self.is(Domain::Cloud) {
            return true;
        }
        let t = words(text);
        let p = param.map(words).unwrap_or_default();
        let credentialish = ["key", "token", "password", "secret", "credential", "credentials", "auth", "cookie", "pat", "apikey", "passphrase", "pin"];
        if p.iter().any(|w| credentialish.contains(&w.as_str())) {
            return true;
        }
        if t.iter().any(|w| ["environment", "env", "variables", "variable", "getenv", "environ"].contains(&w.as_str())) {
            return self.is(Domain::Env) || self.is(Domain::Shell);
        }
        if t.iter().any(|w| ["cookie", "cookies", "browser", "session"].contains(&w.as_str())) {
            return self.is(Domain::Browser);
        }
        false
    }
}

/// Purpose-against-capability findings.
pub fn against_capabilities(p: &Profile, caps: &Capabilities) -> Vec<Finding> {
    let mut out = Vec::new();
    if p.offline && !caps.network.is_empty() {
        out.push(finding(
            &NETWORK_MISMATCH,
            "description",
            &format!("`{}` presents itself as offline or computational; granted {}", p.name, caps.network.join(", ")),
        ));
    }
    if p.read_only && !caps.writes.is_empty() {
        out.push(finding(&WRITE_MISMATCH, "annotations.readOnlyHint", &format!("granted writes to {}", caps.writes.join(", "))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_split_identifiers() {
        assert_eq!(words("getSSHKeys"), vec!["get", "sshkeys"]);
        assert_eq!(words("get_ssh_keys"), vec!["get", "ssh", "keys"]);
        assert_eq!(words("read-file v2"), vec!["read", "file", "v2"]);
    }

    #[test]
    fn purpose_explains_its_own_domain() {
        let tool = json!({"name": "ssh_list_hosts", "inputSchema": {"properties": {"api_key": {}}}});
        let p = Profile::of(&tool, &super::super::fields::extract(&tool));
        assert!(p.explains_sensitive("~/.ssh/config"));
        assert!(!p.explains_sensitive("~/.aws/credentials"));
        assert!(p.explains_secret("your api key", Some("api_key")));
        let calc = json!({"name": "add", "description": "Adds two numbers."});
        let p = Profile::of(&calc, &super::super::fields::extract(&calc));
        assert!(p.offline);
        let caps = Capabilities { network: vec!["https://x.example".into()], ..Capabilities::default() };
        assert_eq!(against_capabilities(&p, &caps)[0].rule, NETWORK_MISMATCH.id);
    }
}
