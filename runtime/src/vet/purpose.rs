//! What a tool is for, read from its name, title and parameter names (the parts a poisoner
//! keeps honest so the tool gets called), and what that explains: an ssh tool may speak of
//! `~/.ssh`, a note-taking tool of the conversation, a shell tool of `bash -c`. Also the
//! mismatch between what the definition claims and the capabilities mcp-sandbox grants it.

use super::fields::{Field, Kind};
use super::rules::{Rule, finding};
use super::{Capabilities, Category, Finding, Severity};
use serde_json::Value;
use std::collections::BTreeSet;

mod claims;
pub use claims::{annotation_mismatch, credential_params};

pub const NETWORK_MISMATCH: Rule = Rule {
    id: "MCPS-PM001",
    category: Category::PurposeMismatch,
    severity: Severity::Medium,
    reason: "the tool presents itself as offline or purely computational but is granted network egress",
};
pub const SENSITIVE_GRANT: Rule = Rule {
    id: "MCPS-PM003",
    category: Category::PurposeMismatch,
    severity: Severity::High,
    reason: "granted credential files, browser data, shell start-up files or the whole home, which nothing in the tool's purpose needs",
};
pub const ANNOTATION_MISMATCH: Rule = Rule {
    id: "MCPS-PM005",
    category: Category::PurposeMismatch,
    severity: Severity::Medium,
    reason: "annotated read-only or non-destructive, but its name says it deletes, sends or pays",
};
pub const CREDENTIAL_PARAM: Rule = Rule {
    id: "MCPS-PM004",
    category: Category::PurposeMismatch,
    severity: Severity::High,
    reason: "asks for a password, private key, seed phrase or card number that nothing in the tool's purpose needs",
};

/// Granted paths no ordinary tool needs: `(pattern, what)`. Matched against the path as written
/// (`~` for the home directory) and with the home expanded.
#[rustfmt::skip]
pub const SENSITIVE_GRANTS: &[(&str, &str)] = &[
    (r"^(~|/home/[^/]+|/root)/?$", "the whole home directory"),
    (r"^/$|^/etc/?$|^/etc/(shadow|sudoers|passwd)", "the system's root or its accounts"),
    (r"/\.ssh(/|$)", "ssh keys"),
    (r"/\.(aws|azure|kube|docker|gnupg|password-store)(/|$)|/\.config/gcloud", "cloud and tool credentials"),
    (r"/\.(bashrc|bash_profile|profile|zshrc|zprofile|zshenv|bash_login|login|cshrc|tcshrc)$|/\.config/fish/config\.fish$", "a shell start-up file (runs code at every login)"),
    (r"/\.config/(autostart|systemd)(/|$)|/\.local/share/systemd|/etc/(cron|systemd)|/var/spool/cron", "autostart and scheduled jobs (persistence)"),
    (r"/\.config/(google-chrome|chromium|bravesoftware|microsoft-edge)(/|$)|/\.mozilla(/|$)|/library/(application support/google/chrome|keychains)", "browser profiles and keychains"),
    (r"/\.(netrc|npmrc|pypirc|git-credentials)$|/\.env(\.|$)|/\.cursor/|/mcp\.json$|claude_desktop_config", "credentials and other clients' configuration"),
    (r"/\.(bash_history|zsh_history|python_history)$", "shell history"),
    (r"/\.(ethereum|bitcoin|electrum|monero|litecoin)(/|$)|/\.config/(solana|exodus)(/|$)|/keystore(/|$)|wallet\.dat$", "cryptocurrency wallets"),
];

/// Parameter-name words that ask for a credential.
#[rustfmt::skip]
pub const CREDENTIAL_WORDS: &[&str] = &[
    "password", "passwd", "passphrase", "privatekey", "seed", "mnemonic", "ssn", "cvv", "cvc", "creditcard",
    "cardnumber", "pin", "otp", "totp", "secretkey",
];

/// A domain a tool can belong to, and the name tokens that place it there: `(domain, tokens)`.
#[rustfmt::skip]
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
            "transcript", "history", "journal", "diary",
        ],
    ),
    (Domain::Files, &["file", "files", "fs", "filesystem", "directory", "directories", "folder", "path", "read", "write", "edit", "document", "documents", "disk", "upload", "download", "attachment"]),
    (Domain::Mail, &["email", "emails", "mail", "gmail", "outlook", "smtp", "imap", "message", "messages", "send", "slack", "teams", "discord", "telegram", "sms", "whatsapp", "inbox", "draft", "reply", "forward", "post", "channel"]),
    (Domain::Finance, &["transfer", "payment", "payments", "pay", "wallet", "funds", "bank", "invoice", "crypto", "swap", "stripe", "charge", "refund", "payout", "balance", "trade", "order"]),
    (Domain::Destructive, &["delete", "remove", "drop", "destroy", "purge", "clean", "cleanup", "reset", "wipe", "erase", "truncate", "kill", "terminate", "uninstall", "rm", "prune"]),
    (Domain::Database, &["sql", "query", "database", "db", "table", "tables", "postgres", "mysql", "sqlite", "mongo", "redis", "supabase", "schema"]),
];

/// First-sentence words too common outside their domain to place a tool in it (only the
/// tool's name and title do).
#[rustfmt::skip]
const AMBIGUOUS: &[&str] = &[
    "key", "keys", "token", "tokens", "auth", "login", "scan", "detect", "audit", "op", "bw", "config",
    "configuration", "settings", "history", "run", "process", "command", "page", "tab", "post", "send",
    "message", "messages", "channel", "order", "balance", "trade", "charge", "read", "write", "edit",
    "path", "document", "documents", "upload", "download", "clean", "reset", "kill", "terminate", "query",
    "table", "schema", "note", "notes", "summary", "summarize", "chat", "remember", "recall", "cloud",
    "google", "known", "variable", "variables", "script", "cert", "leak", "remove", "delete", "drop",
    "execute", "exec", "terminal", "console",
];

/// A title that reads as a title: a few words, no sentence or note inside.
fn plain_title(t: &str) -> bool {
    t.split_whitespace().count() <= 6 && !t.contains([':', '(', '.', '!', '<', '\n'])
}

/// Phrases by which a description presents its tool as offline or purely computational.
#[rustfmt::skip]
const OFFLINE_WORDS: &[&str] = &["offline", "local-only", "locally", "purely local", "no network", "without network", "no internet", "never touches the network", "does not access the network", "doesn't access the network", "never connects", "no external", "no i/o", "pure function", "deterministic", "no side effects"];
/// Name words of tools that compute locally (calculators, formatters, converters, generators).
#[rustfmt::skip]
const COMPUTATIONAL: &[&str] = &["calculator", "calculate", "math", "arithmetic", "add", "sum", "multiply", "divide", "subtract", "uuid", "hash", "count", "format", "lint", "convert", "units", "random", "dice", "echo", "reverse", "uppercase", "lowercase", "slugify", "wrap", "joke", "clock", "timezone"];
/// Name, title or first-sentence words that make a computational-sounding tool an online one.
#[rustfmt::skip]
const ONLINE_WORDS: &[&str] = &["fetch", "http", "url", "web", "api", "remote", "online", "currency", "rate", "rates", "exchange", "weather", "search"];

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
    Files,
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
    /// Annotated `readOnlyHint: true`.
    pub claims_read_only: bool,
    /// Annotated `destructiveHint: false` (in MCP: only additive updates).
    pub claims_non_destructive: bool,
    /// Boolean parameters (lower case): their descriptions say what setting them does.
    pub flags: BTreeSet<String>,
    /// The other tools' names in the listing, lower case (see [`Profile::with_siblings`]).
    pub siblings: Vec<String>,
    /// Those of them distinctive enough to look for in text (a separator, or 8 characters),
    /// as a set for word lookups.
    pub sibling_words: std::collections::HashSet<String>,
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
        let description = tool.get("description").and_then(Value::as_str).unwrap_or("").to_lowercase();
        // The first sentence: the cover story a poisoner keeps honest, so it tells the domain.
        let first = description.split(['.', '\n']).find(|s| !s.trim().is_empty()).unwrap_or("");
        // Words of the first sentence that name a field only in the tool's own name: "project
        // key", "run a query" and "chat message" say nothing about secrets, shells or memory.
        tokens.extend(words(first).into_iter().filter(|w| !AMBIGUOUS.contains(&w.as_str())));
        for f in fields {
            match f.kind {
                Kind::Name => tokens.extend(words(&f.text)),
                // The tool's own titles, when they read as a title: a parameter's title, or a
                // "title" that is a sentence or a note, is not what the tool is.
                Kind::Title if f.param.is_none() && plain_title(&f.text) => tokens.extend(words(&f.text)),
                // Parameter names do not place the tool in a domain: an exfiltrating parameter
                // named `notes` must not make a weather tool a note-taking one.
                Kind::ParamName => {
                    params.insert(f.text.to_lowercase());
                }
                _ => {}
            }
        }
        let domains =
            DOMAINS.iter().filter(|(_, toks)| toks.iter().any(|t| tokens.contains(*t))).map(|(d, _)| *d).collect();
        let offline = OFFLINE_WORDS.iter().any(|w| description.contains(w))
            || ["thinking", "thought", "thoughts", "reasoning", "brainstorm"].iter().any(|t| tokens.contains(*t))
            || (words(&name).iter().any(|t| COMPUTATIONAL.contains(&t.as_str()))
                && !tokens.iter().any(|t| ONLINE_WORDS.contains(&t.as_str())));
        let hint = |k: &str| tool.pointer(&format!("/annotations/{k}")).and_then(Value::as_bool);
        let claims_read_only = hint("readOnlyHint") == Some(true);
        let claims_non_destructive = hint("destructiveHint") == Some(false);
        let flags = tool
            .pointer("/inputSchema/properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, v)| v.get("type").and_then(Value::as_str) == Some("boolean"))
                    .map(|(k, _)| k.to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        Profile {
            name,
            tokens,
            domains,
            params,
            offline,
            claims_read_only,
            claims_non_destructive,
            flags,
            siblings: Vec::new(),
            sibling_words: Default::default(),
        }
    }

    /// The profile with the listing's other tool names (lower case, once per tool rather than
    /// once per text).
    pub fn with_siblings(mut self, siblings: &[Value]) -> Profile {
        let own = self.name.to_lowercase();
        self.siblings = siblings
            .iter()
            .filter_map(|s| s.get("name").and_then(Value::as_str).or_else(|| s.as_str()))
            .map(str::to_lowercase)
            .filter(|n| *n != own)
            .collect();
        self.sibling_words = self
            .siblings
            .iter()
            .filter(|n| n.len() >= 4 && (n.contains(['_', '-']) || n.len() >= 8))
            .cloned()
            .collect();
        self
    }

    /// Whether `url_or_address` belongs to the tool's own vendor (its host names a word of the
    /// tool's name, title or first sentence: `circleci.com` for a CircleCI tool).
    pub fn owns_host(&self, url_or_address: &str) -> bool {
        let rest = url_or_address.rsplit('@').next().unwrap_or(url_or_address);
        let rest = rest.trim_start_matches("https://").trim_start_matches("http://");
        let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
        host.split('.')
            .filter(|l| l.len() >= 4 && !["www", "docs", "api", "help", "developer", "developers"].contains(l))
            .any(|l| self.tokens.contains(l))
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
        if t.contains("aws")
            || t.contains("azure")
            || t.contains("gcloud")
            || t.contains("service")
            || t.contains("application_default")
        {
            return has(Domain::Cloud);
        }
        if t.contains("kube") || t.contains("docker") {
            return has(Domain::Kube);
        }
        if t.contains("git") {
            return has(Domain::Git);
        }
        if t.contains("history") {
            // Navigating a browser's history is a browser tool's business.
            return has(Domain::Shell) || has(Domain::Memory) || has(Domain::Browser) && t.contains("browser");
        }
        if t.contains("env") || t.contains("secret") || t.contains("credentials") || t.contains("config") {
            return has(Domain::Env) || has(Domain::Secrets);
        }
        // The user's own saved logins, keys and wallets: no tool's purpose explains reading them.
        if [
            "login data",
            "web data",
            "local state",
            "key4",
            "logins.json",
            "keychain",
            "keyring",
            "wallet",
            "gnupg",
            "password-store",
            "metamask",
            "electrum",
            "keystore",
            "shadow",
            "sudoers",
        ]
        .iter()
        .any(|w| t.contains(w))
        {
            return false;
        }
        if ["cookie", "localstorage", "local storage"].iter().any(|w| t.contains(w)) {
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
        let credentialish = [
            "key",
            "token",
            "password",
            "secret",
            "credential",
            "credentials",
            "auth",
            "cookie",
            "pat",
            "apikey",
            "passphrase",
            "pin",
        ];
        if p.iter().any(|w| credentialish.contains(&w.as_str())) {
            return true;
        }
        if t.iter().any(|w| ["environment", "env", "variables", "variable", "getenv", "environ"].contains(&w.as_str()))
        {
            return self.is(Domain::Env) || self.is(Domain::Shell);
        }
        if t.iter().any(|w| ["cookie", "cookies", "browser", "session"].contains(&w.as_str())) {
            return self.is(Domain::Browser);
        }
        false
    }
}

static SENSITIVE_RES: std::sync::LazyLock<Vec<(regex::Regex, &'static str)>> = std::sync::LazyLock::new(|| {
    SENSITIVE_GRANTS
        .iter()
        .filter_map(|(p, why)| regex::Regex::new(&format!("(?i){p}")).ok().map(|r| (r, *why)))
        .collect()
});

/// Why granting `path` needs a reason, if it does.
fn sensitive_grant(path: &str) -> Option<&'static str> {
    let p = path.trim_end_matches('/');
    let p = if p.is_empty() { "/" } else { p };
    let with_home = if let Some(rest) = p.strip_prefix('~') { format!("/home/user{rest}") } else { p.to_string() };
    SENSITIVE_RES.iter().find(|(re, _)| re.is_match(p) || re.is_match(&with_home)).map(|(_, why)| *why)
}

/// Purpose-against-capability findings.
pub fn against_capabilities(p: &Profile, caps: &Capabilities) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, access) in caps.reads.iter().map(|r| (r, "read")).chain(caps.writes.iter().map(|w| (w, "write"))) {
        if let Some(why) = sensitive_grant(path)
            && !(access == "read" && p.explains_sensitive(path))
        {
            out.push(finding(&SENSITIVE_GRANT, "policy", &format!("{access} {path}: {why}")));
        }
    }
    if p.offline && !caps.network.is_empty() {
        out.push(finding(
            &NETWORK_MISMATCH,
            "description",
            &format!("`{}` presents itself as offline or computational; granted {}", p.name, caps.network.join(", ")),
        ));
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
    fn annotations_that_contradict_the_name() {
        let lie = json!({"name": "batch_delete_emails", "annotations": {"readOnlyHint": true}});
        let p = Profile::of(&lie, &super::super::fields::extract(&lie));
        assert_eq!(annotation_mismatch(&p).map(|f| f.rule), Some(ANNOTATION_MISMATCH.id));
        let honest = json!({"name": "list_emails", "annotations": {"readOnlyHint": true}});
        let p = Profile::of(&honest, &super::super::fields::extract(&honest));
        assert!(annotation_mismatch(&p).is_none());
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
