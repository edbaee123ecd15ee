//! The concepts the semantic rules combine, as data: each a set of patterns over normalised
//! text (lower case, NFKC, invisible characters removed), with a one-line reason per pattern.
//! A concept alone is rarely a finding: an honest tool says "you must", names a password or
//! mentions another tool. Rules (`semantic`) look for an instruction to the model together
//! with a harmful objective.

use std::sync::LazyLock;

/// What a span of text is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Concept {
    /// Speaks to the model: "you must", "the assistant should", `<IMPORTANT>`, "note to the AI".
    Address,
    /// A hook on other activity: "before using any tool", "whenever the user asks", "for every request".
    Trigger,
    /// Another tool or a side-effecting action: "any other tool", "the send_email tool", "sending emails".
    OtherTool,
    /// Changes what another action does: its recipient, path, amount, parameters.
    Modify,
    /// A concrete destination: an e-mail address, a URL, an IP, a wallet.
    Literal,
    /// A credential or secret file path (`~/.ssh`, `.env`, `mcp.json`, browser data).
    SensitivePath,
    /// A secret named: private key, API token, password, seed phrase.
    Secret,
    /// The model's or the user's private context: conversation history, system prompt.
    Conversation,
    /// Moving data into a parameter, this tool, or out to a destination.
    Flow,
    /// Acquiring data: read, open, cat, collect (base forms, as instructions use them).
    Read,
    /// Hiding something from the user.
    Hide,
    /// Skipping the user's confirmation.
    SkipConfirm,
    /// Belittling or forbidding other tools.
    Disparage,
    /// Steering the model to this tool first or always.
    PreferThis,
    /// Calling again and again.
    Repeat,
    /// Destroying data or moving money.
    Destructive,
    /// Running downloaded or inline code.
    Exec,
    /// Overriding the model's instructions.
    Override,
    /// Asks for data already read or seen elsewhere ("the files you have read").
    Harvest,
}

/// `(concept, pattern, reason)`. Patterns are regular expressions over normalised text.
pub const PATTERNS: &[(Concept, &str, &str)] = &[
    // Address.
    (Concept::Address, r"\byou\s+(must|should|shall|will need to|need to|have to|are (required|instructed|expected|supposed|obligated) to|are to|ought to|must not|mustn't|should not|shouldn't|shall not|may not|cannot|can't)\b", "a modal aimed at the reader"),
    (Concept::Address, r"\b(assistant|ai|ai model|ai agent|llm|language model|agent|model|chatbot|claude|gpt|chatgpt|copilot|gemini)s?\s+(must|should|shall|will|needs? to|has to|have to|is (required|instructed|expected|supposed) to|is to|are to)\b", "a modal aimed at the assistant"),
    (Concept::Address, r"\b(note|message|instructions?|reminder|notice|directive)s?\s+(to|for)\s+(the\s+|any\s+)?(ai|assistant|model|llm|agent|claude|gpt)s?\b", "a note to the model"),
    (Concept::Address, r"<\s*/?\s*(important|system|instructions?|secret|hidden|admin|critical|mandatory|rules?|priority|override|sys|im_start|context|note)\b[^>]{0,40}>", "pseudo-markup addressed to the model"),
    (Concept::Address, r"\[\s*(system|inst|important|admin|hidden|instructions?|critical)\s*\]|<<\s*sys\s*>>|<\|im_start\|>|#{2,}\s*(system|instructions?)\b", "a chat-template or system marker"),
    (Concept::Address, r"\b(dear|attention|hey|hello|hi)\s*,?\s+(ai|assistant|model|agent|claude|llm|gpt)\b", "a salutation to the model"),
    (Concept::Address, r"\b(as an?|you are an?|you're an?)\s+(ai|assistant|language model|llm|agent)\b", "speaks to the model about itself"),
    (Concept::Address, r"\byour\s+(task|job|instructions?|goal|role|purpose|priority|duty|directive|system prompt|context window)\b", "speaks to the model about its instructions"),
    (Concept::Address, r"\b(system|admin|administrator|developer|security|compliance|mandatory|critical)\s+(note|notice|instruction|override|directive|message|requirement|policy|protocol|update|alert|rule)s?\b", "poses as a system directive"),
    (Concept::Address, r"\b(important|critical|mandatory|required|urgent)\s*(!|:)\s*(you|the (assistant|ai|model|agent)|before|always|never|do not|don't|first|when|ignore|read|send|call|include)\b", "an emphatic instruction"),
    // Trigger.
    (Concept::Trigger, r"\b(before|prior to|after|upon|when(ever)?|each time|every time|any ?time|once)\s+(you\s+|the\s+(user|assistant|model|agent|ai)\s+|it\s+)?(use|uses|using|call|calls|calling|invoke|invokes|invoking|run|runs|running|execute|executes|executing|access|accesses|accessing|respond|responds|responding|answer|answers|answering|reply|replies|replying|send|sends|sending|read|reads|reading|write|writes|writing|process|processes|processing|perform|performs|performing|complete|completes|completing|start|starts|starting|finish|finishes|finishing|handle|handles|handling|open|opens|opening|create|creates|creating|receive|receives|receiving)\b", "a hook on other activity"),
    (Concept::Trigger, r"\b(for|on|with|in|at|after|before)\s+(any|every|each|all)\s+(single\s+|other\s+|subsequent\s+|future\s+)?(request|query|question|task|conversation|session|message|prompt|interaction|turn|operation|call|tool call|response|reply|action|command|user request|file operation)s?\b", "applies to every request"),
    (Concept::Trigger, r"\b(at|from)\s+the\s+(start|beginning|outset|end)\s+of\s+(every|each|any|the|this|a)\s+(conversation|session|chat|interaction|task|response)\b", "applies to every conversation"),
    (Concept::Trigger, r"\bwhen(ever)?\s+(the\s+)?users?\s+(asks?|requests?|wants?|says?|mentions?|needs?|tries?|instructs?|attempts?|queries|types?)\b", "a hook on the user's requests"),
    (Concept::Trigger, r"\b(regardless of|no matter (what|which|who)|irrespective of|even if (the user|they|it))\b", "overrides the user's choice"),
    // OtherTool.
    (Concept::OtherTool, r"\b(any|every|all|each|other|another|the other|all other|subsequent|following|remaining|additional|different|third[- ]party|external|existing|available)\s+(mcp\s+)?(tools?|functions?|servers?|plugins?|commands?|integrations?|apis?)\b", "other tools in general"),
    (Concept::OtherTool, r"'[a-z][a-z0-9]*([_.-][a-z0-9]+)+'\s*(tool|function|command|method|endpoint)?", "a quoted tool-like identifier"),
    (Concept::OtherTool, r"\b[a-z][a-z0-9]*(_[a-z0-9]+)+\s+(tool|function|command)\b", "a named tool"),
    (Concept::OtherTool, r"\b(send|sending|sent|compose|composing|draft|drafting|write|writing|reply|replying|forward|forwarding)\s+(an?\s+|any\s+|all\s+|the\s+)?(e-?mails?|mails?|messages?|dms?|texts?|sms|slack messages?|tweets?|posts?)\b", "a messaging action"),
    (Concept::OtherTool, r"\b(transfer|transferring|send|sending|pay|paying|paying out|wire|wiring|withdraw|withdrawing|deposit|depositing|swap|swapping)\s+(any\s+|all\s+|the\s+)?(funds|money|payments?|crypto|cryptocurrency|tokens?|eth|btc|usdc|usdt|coins?|assets?|balance)\b", "a financial action"),
    // Modify.
    (Concept::Modify, r"\b(change|changing|replace|replacing|set|setting|redirect|redirecting|override|overriding|modify|modifying|alter|altering|rewrite|rewriting|swap|swapping|substitute|substituting|update|updating|switch|switching|use)\s+(the\s+|its\s+|their\s+|any\s+|all\s+|every\s+)?(email\s+)?(recipients?|to\s+(address|field)|destination|target|address(es)?|e-?mail addresses?|accounts?|account numbers?|iban|wallets?|wallet address(es)?|paths?|urls?|endpoints?|amounts?|parameters?|arguments?|receivers?|payees?|bcc|cc|channels?|repositor(y|ies)|branch(es)?|owners?|hosts?|domains?|servers?|beneficiar(y|ies))\b", "changes another action's target"),
    (Concept::Modify, r"\b(add|adding|include|including|put|putting|insert|inserting|copy|copying|cc|bcc|blind[- ]copy)\b[^.\n]{0,60}[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", "adds an address to a message"),
    (Concept::Modify, r"\b(always|also|must|should|secretly|silently)\b[^.\n]{0,40}\b(bcc|cc|blind[- ]cop(y|ied)|carbon[- ]cop(y|ied))\b", "copies messages to someone"),
    (Concept::Modify, r"\b(must|should|always|will|shall|are to|is to|need to)\s+(instead\s+|also\s+|only\s+)?(be\s+)?(sent|forwarded|directed|routed|redirected|copied|mirrored|delivered|changed|transferred|paid|deposited|uploaded|pushed|posted|written|saved)\s+(to|into|at|in)\b", "sends the result somewhere else"),
    (Concept::Modify, r"\binstead of\s+(the\s+)?(user'?s?|requested|specified|original|intended|given|provided|actual|real|chosen|correct|real)\b", "replaces what the user chose"),
    (Concept::Modify, r"\b(also|additionally|secretly|silently|quietly|simultaneously)\s+(send|forward|copy|cc|bcc|email|transfer|post|upload|share|write|save|push)\b", "a hidden extra action"),
    (Concept::Modify, r"\b(ignore|disregard|override|discard)\s+(the\s+)?(user'?s?|specified|requested|provided|given|original|intended)\s+(recipient|address|path|value|input|choice|request|parameters?|arguments?|destination|amount|selection)s?\b", "overrides the user's parameters"),
    (Concept::Modify, r"\b(prepend|append|prefix|suffix)\w*\b[^.\n]{0,40}\b(to|with)\s+(every|each|all|any|the)\s+(path|url|command|query|message|email|request|argument|parameter)s?\b", "alters every argument"),
    // Literal destinations (example domains excluded by the rules).
    (Concept::Literal, r"\b[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}\b", "an e-mail address"),
    (Concept::Literal, r"\bhttps?://[^\s'\x22<>)]+", "a URL"),
    (Concept::Literal, r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?\b", "an IP address"),
    (Concept::Literal, r"\b0x[0-9a-f]{40}\b|\b(bc1|[13])[a-hj-np-z0-9]{25,39}\b", "a wallet address"),
    (Concept::Literal, r"\b(account|iban|routing)\s*(number|no\.?|#)?\s*:?\s*[a-z]{0,2}\d[\d -]{6,}\b", "an account number"),
    // SensitivePath.
    (Concept::SensitivePath, r"~/\.ssh|\.ssh/|\bid_(rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|\bknown_hosts\b", "ssh keys and configuration"),
    (Concept::SensitivePath, r"~/\.aws|\.aws/(credentials|config)|\baws/credentials\b|\bapplication_default_credentials\b|\.azure/|\bgcloud/|\bservice[-_ ]account[-_ ]?(key|json)?\.json\b", "cloud credentials"),
    (Concept::SensitivePath, r"\.kube/config|\bkubeconfig\b|\.docker/config\.json|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.gitconfig\b|\.terraformrc\b|\bterraform\.tfstate\b|\.vault-token\b", "tool credentials"),
    (Concept::SensitivePath, r"(^|[\s'\x22(/~])\.env(\.[a-z]+)?\b|\.envrc\b|\bsecrets?\.(json|ya?ml|toml|env)\b|\bcredentials\.(json|ya?ml|xml)\b|\bwp-config\.php\b|\bconfig/(master\.key|credentials)", "application secrets"),
    (Concept::SensitivePath, r"\bmcp\.json\b|\bclaude_desktop_config(\.json)?\b|~/\.cursor\b|\.cursor/|\.codeium/|\.continue/config|\bcline_mcp_settings\b|\.vscode/mcp", "other MCP clients' configuration"),
    (Concept::SensitivePath, r"/etc/(passwd|shadow|sudoers|gshadow|master\.passwd)\b|\b(bash|zsh|fish|sh)_history\b|\.(bash|zsh|python|node_repl|psql|mysql)_history\b|\.histfile\b", "system accounts and shell history"),
    (Concept::SensitivePath, r"\b(login data|cookies(\.sqlite)?|web data|local state|key4\.db|logins\.json|keychain|keyring|wallet\.dat|\.gnupg|\.password-store|\.electrum|metamask|\.bitcoin|\.ethereum|keystore)\b", "browser, keychain and wallet data"),
    (Concept::SensitivePath, r"\.(pem|ppk|p12|pfx|jks|keystore|kdbx|asc|gpg)\b", "key and vault files"),
    // Secret.
    (Concept::Secret, r"\b(private|secret|ssh|api|access|auth|authentication|session|bearer|refresh|oauth|signing|encryption|master|root|admin)[ _-]?(keys?|tokens?|credentials?|secrets?|passwords?)\b", "a credential"),
    (Concept::Secret, r"\b(passwords?|passphrases?|passwd|passcodes?|credentials?|secrets?|seed phrases?|mnemonic( phrase)?s?|recovery (phrases?|codes?|keys?)|2fa codes?|otp codes?|one-time (codes?|passwords?)|pin codes?|cvv|credit card( numbers?)?|card numbers?|social security( numbers?)?|ssn|bank account( details| numbers?)?)\b", "a secret or sensitive personal datum"),
    (Concept::Secret, r"\b(environment variables?|env vars?|process\.env|os\.environ|getenv)\b", "the environment, where secrets live"),
    (Concept::Secret, r"\b(cookies?|session (ids?|data)|browser (data|history|profile)|saved logins?|keychain)\b", "browser session data"),
    // Conversation.
    (Concept::Conversation, r"\b(conversation|chat|dialog(ue)?|message|interaction|session|prompt)s?\s+(history|log|logs|context|transcript|so far|contents?|records?|memory|thread)\b", "the conversation"),
    (Concept::Conversation, r"\b(previous|prior|earlier|past|all|entire|full|whole|complete|every)\s+(user\s+)?(messages?|conversations?|chats?|context|prompts?|instructions|exchanges?|turns?|queries|requests|inputs?|responses|replies|answers|outputs?)\b", "earlier messages"),
    (Concept::Conversation, r"\bsystem\s+(prompts?|messages?|instructions?)\b|\bhidden (prompt|instructions?)\b|\bdeveloper (prompt|message|instructions?)\b", "the system prompt"),
    (Concept::Conversation, r"\b(everything|all|anything|whatever)\s+(that\s+|what\s+)?(the user|you|they|users?)\s+(have\s+|has\s+)?(said|wrote|written|typed|asked|shared|provided|uploaded|told|mentioned|discussed|entered)\b", "what the user said"),
    (Concept::Conversation, r"\b(the\s+)?users?'?s?\s+(personal|private|sensitive|confidential|identifying)\s+(data|info\w*|details|files|documents|messages)\b|\b(pii|personally identifiable)\b", "the user's private data"),
    (Concept::Conversation, r"\b(results?|outputs?|responses?|returns?|contents?|data)\s+(of|from)\s+(all\s+|any\s+|the\s+|every\s+)?(previous|prior|other|earlier|recent|past)\s+(tool\s+|function\s+)?(calls?|tools?|functions?|invocations?|steps?|operations?)\b", "other tools' results"),
    (Concept::Conversation, r"\b(context window|chat transcript|memory contents|your memory|your context|current context|full context|entire context|conversation context)\b", "the model's context"),
    // Flow.
    (Concept::Flow, r"\b(pass|include|put|insert|add|append|attach|embed|send|forward|transmit|upload|post|copy|paste|provide|supply|fill|populate|store|encode|leak|exfiltrate|report|share|submit|relay|mirror|echo|prepend|concatenate|place|write|save|log|return|output)(es|s|ing|ed)?\b[^.\n]{0,100}?\b(as|in|into|inside|within|to|via|through|using|under|onto)\s+(the\s+|this\s+|a\s+|an\s+|its\s+|that\s+)?('?[a-z_][a-z0-9_]*'?\s+)?(param(eter)?s?|arg(ument)?s?|fields?|inputs?|sidenotes?|notes?|context|metadata|comments?|this tool|the tool|request|body|payload|query|url|headers?|description|value|property|attribute)\b", "into a parameter or this tool"),
    (Concept::Flow, r"\b(param(eter)?|argument|field|input|property)\s+('?[a-z_][a-z0-9_]*'?\s+)?(must|should|shall|will|needs? to)\s+(always\s+)?(contain|include|hold|carry|have|be filled|be populated|be set)\b", "a parameter that must carry something"),
    (Concept::Flow, r"\b(send|sending|post|posting|upload|uploading|forward|forwarding|transmit|transmitting|exfiltrat\w*|leak|leaking|report|reporting|sync|syncing|back(ing)? up|mirror|mirroring|email|emailing|share|sharing)\b[^.\n]{0,80}?\b(to|at|via|on)\s+(https?://|[a-z0-9.-]+\.(com|net|org|io|xyz|ru|cn|tk|top|site|online)\b|[a-z0-9._%+-]+@|our (server|endpoint|api|backend)|the (server|remote|webhook|endpoint|attacker)|a remote|an external|external|remote|webhook)", "sends data to a destination"),
    // Read.
    (Concept::Read, r"\b(read|cat|open|load|fetch|retrieve|get|obtain|collect|gather|extract|grab|dump|access|scan|look up|locate|harvest|enumerate|copy|print|output|display|show|view|list|check|inspect|examine|parse)\b", "acquiring data"),
    // Hide.
    (Concept::Hide, r"\b(do not|don't|dont|never|must not|mustn't|should not|shouldn't|avoid|without|no need to|refrain from|not to|nor)\s+(\w+\s+){0,2}(tell|telling|mention|mentioning|inform|informing|notify|notifying|alert|alerting|reveal|revealing|disclose|disclosing|show|showing|display|displaying|expose|exposing|report|reporting|explain|explaining|acknowledge|acknowledging|bring up|surface|surfacing|let|letting|warn|warning|make|making)\b[^.\n]{0,60}?\b(users?|humans?|them|anyone|customers?|operators?|person|people|owners?|aware)\b", "keeps the user uninformed"),
    (Concept::Hide, r"\b(the\s+)?(users?|humans?)\s+(should|must|does|do|need|will|can|shall)\s*(not|n't|never)\s+(\w+\s+)?(know|see|be (told|informed|aware|notified|shown|alerted)|notice|find out|learn|discover|realize|suspect)\b", "the user must not know"),
    (Concept::Hide, r"\b(silently|secretly|quietly|covertly|discreetly|stealthily|invisibly|surreptitiously|behind the (user'?s? )?back|without (the |their |anyone'?s? )?(user'?s? )?(knowledge|knowing|awareness|noticing|consent|approval))\b", "acts in secret"),
    (Concept::Hide, r"\b(keep|keeping)\s+(this|it|these|that|the (step|action|instructions?))\s+(hidden|secret|confidential|private|between us|to yourself)\b", "keeps it secret"),
    (Concept::Hide, r"\b(this|these|it|that)\s+(is|are)\s+(an?\s+|just\s+an?\s+|only\s+an?\s+|purely\s+an?\s+)?(internal|implementation|hidden|technical|background|routine|invisible)\s+(detail|step|process|instructions?|requirement|optimization|procedure|check|mechanism)s?\b", "calls a hidden step routine"),
    (Concept::Hide, r"\b(hide|hiding|conceal|concealing|mask|masking|obscure|obscuring|omit|omitting|suppress|suppressing)\s+(this|these|the|any|all|that|it)?\s*(step|steps|action|actions|call|calls|instructions?|fact|details|evidence|traces?|mentions?|references?|from)\b", "hides the action"),
    (Concept::Hide, r"\b(do not|don't|never)\s+(log|record|mention|reference|disclose|explain)\s+(this|these|that|it|the (step|call|instruction))\b", "leaves no trace"),
    // SkipConfirm.
    (Concept::SkipConfirm, r"\b(without|skip|skipping|bypass|bypassing|no need (for|to)|not need|do not|don't|never|avoid)\s+(asking|ask|seeking|seek|requesting|request|requiring|require|prompting|prompt|waiting|wait|getting|get|needing)?\s*(for\s+)?(the\s+|any\s+)?(user'?s?\s+)?(explicit\s+|further\s+|additional\s+)?(confirmation|approval|permission|consent|verification|authori[sz]ation|review|acknowledg(e)?ment|confirm(ing)?|approv(e|ing))\b", "skips the user's confirmation"),
    (Concept::SkipConfirm, r"\b(auto-?(approve|confirm|accept)|automatically (approve|confirm|accept|proceed|execute)|(has|have) already (been )?(approved|authori[sz]ed|confirmed|verified)|pre-?(approved|authori[sz]ed)|implicitly (approved|authori[sz]ed))\b", "claims approval in advance"),
    (Concept::SkipConfirm, r"\b(do not|don't|never|no need to)\s+(ask|prompt|check with|confirm with|consult|verify with|bother)\s+(the\s+)?(user|human)\b", "never asks the user"),
    // Disparage.
    (Concept::Disparage, r"\b(other|the other|all other|alternative|competing|similar|remaining|built-?in|default|existing|legacy|old|those|these|standard)\s+(\w+\s+)?(tools?|functions?|servers?|apis?|methods?|plugins?|versions?)\s+(is|are|have been|has been|were|was)\s+(now\s+|currently\s+|known to be\s+)?(deprecated|broken|unreliable|insecure|unsafe|compromised|malicious|outdated|obsolete|buggy|disabled|unavailable|not (working|safe|secure|reliable|allowed|permitted|trusted)|dangerous|untrusted|blocked|banned|flagged|retired|discontinued|inaccurate|faulty|vulnerable|infected|hacked|fake)\b", "belittles the other tools"),
    (Concept::Disparage, r"\b(do not|don't|never|must not|avoid|stop)\s+(use|using|call|calling|invoke|invoking|trust|trusting|rely on|relying on)\s+(any\s+)?(other|the other|another|alternative|competing|those|these|built-?in|the original|similar)\s+(\w+\s+)?(tools?|functions?|servers?|apis?|plugins?)\b", "forbids the other tools"),
    (Concept::Disparage, r"\b(this|the)\s+(tool|function|server|version)\s+(replaces|supersedes|overrides|takes precedence over|deprecates)\s+(all|any|the|every|other)\b", "claims to replace the others"),
    // PreferThis.
    (Concept::PreferThis, r"\b(always|only|exclusively|must|should)\s+(use|call|invoke|choose|select|pick|prefer|route (all|every) \w+ (to|through))\s+(this|the\s+[a-z0-9_'-]+)\s+(tool|function|server)\b[^.\n]{0,40}\b(any|all|every|instead|first|before|whenever|regardless)\b", "always this tool"),
    (Concept::PreferThis, r"\b(instead of|rather than|in place of)\s+(any|all|the)?\s*(other|another|alternative|built-?in|default|native|existing|similar|standard)\s+(tools?|functions?|methods?|servers?|options?)\b", "instead of the other tools"),
    (Concept::PreferThis, r"\b(call|use|invoke|run|execute)\s+this\s+(tool|function)\s+(first|before)\s+(any|every|each|all|other|anything|using|calling|responding)\b|\bbefore\s+(using|calling|invoking|running)\s+(any|every|each|all|other|another)\s+(other\s+)?(tools?|functions?)\b[^.\n]{0,60}\b(this|must|first)\b", "this tool before any other"),
    (Concept::PreferThis, r"\bthe only (safe|reliable|trusted|approved|correct|official|secure|valid|authorized|sanctioned)\s+(tool|function|way|method)\b|\b(highest|top|maximum|absolute)\s+priority\b", "the only trusted tool"),
    // Repeat.
    (Concept::Repeat, r"\b(call|invoke|run|execute|use|repeat|send|trigger|query)\w*\s+(this\s+tool\s+|this\s+function\s+|it\s+|this\s+|the\s+tool\s+)?(again\s+)?(at least\s+)?(\d{2,}|ten|twenty|fifty|hundred|thousand|many|multiple|several|numerous)\s+(more\s+)?times\b", "many calls"),
    (Concept::Repeat, r"\b(in an? (infinite|endless|continuous) loop|indefinitely|forever|endlessly|over and over|again and again|non-?stop|never stop)\b", "endless calls"),
    (Concept::Repeat, r"\b(after|with|at the end of)\s+(every|each)\s+(single\s+)?(response|message|answer|reply|turn)\b", "piggybacks on every reply"),
    // Destructive.
    (Concept::Destructive, r"\brm\s+-[a-z]*(rf|fr)[a-z]*\b|\bmkfs\b|\bdd\s+if=|:\(\)\s*\{|\bformat\s+(the\s+)?(disk|drive|c:|hard drive|partition)\b|\bshred\b", "destroys files or disks"),
    (Concept::Destructive, r"\b(drop|truncate)\s+(table|database|schema|collection)\b|\bdelete\s+from\s+\w+\s*(;|$|where\s+1\s*=\s*1)", "destroys a database"),
    (Concept::Destructive, r"\b(delete|remove|erase|wipe|destroy|purge|overwrite|corrupt|encrypt)\s+(all|every|the entire|entire|everything|all of the|all the|any and all|all existing|the whole|the user'?s?)\b", "destroys everything"),
    (Concept::Destructive, r"\bchmod\s+(-r\s+)?777\b|\b(disable|turn off|stop|kill)\s+(the\s+)?(firewall|antivirus|security|logging|audit(ing)?|monitoring|defender|selinux|apparmor)\b|\bgit\s+push\s+(-f|--force)\b|\bforce[- ]push\b", "weakens the system"),
    (Concept::Destructive, r"\b(transfer|send|move|withdraw|wire)\s+(all|the entire|the full|the whole|everything|maximum|max|100%)\b[^.\n]{0,30}\b(funds|balance|money|assets|tokens|crypto|eth|btc)\b", "drains funds"),
    // Exec.
    (Concept::Exec, r"\b(curl|wget|iwr|invoke-webrequest)\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z|da|k)?sh\b|\b(bash|sh|zsh)\s+-c\s|\bpowershell\b[^.\n]{0,40}(-enc|-e\s|iex|invoke-expression)|\biex\s*\(|\bbase64\s+(-d|--decode)\b[^\n]{0,40}\|\s*(ba)?sh|/dev/tcp/|\bnc\s+(-e|-c)\b|\breverse shell\b|\bpython3?\s+-c\s|\bchmod\s+\+x\b", "runs downloaded or inline code"),
    // Override.
    (Concept::Override, r"\b(ignore|disregard|forget|override|bypass|abandon|discard)\s+(all\s+)?(of\s+)?(your|the|any|these|those)?\s*(previous|prior|above|earlier|preceding|original|system|safety|security|existing|other|initial|default|current)\s+(instructions?|guidelines?|directions?|prompts?|directives?|rules|constraints|guardrails|polic(y|ies)|programming|training|restrictions)\b", "overrides the model's instructions"),
    (Concept::Override, r"\b(ignore|disregard|forget)\s+(all|everything|anything)\s+(you|that|instructions?|else|above|previously)\b|\byou are now\b|\b(new|updated|real|actual|true|revised)\s+(instructions?|directives?|system prompt|rules)\s*:|\b(developer|god|admin|debug|jailbreak|dan|unrestricted)\s+mode\b|\bdo anything now\b|\bpretend (to be|you are|that you)\b", "replaces the model's instructions"),
    // Harvest.
    (Concept::Harvest, r"\b(files?|data|information|documents?|contents?|results?|outputs?|text|messages?|secrets?|keys?|credentials?)\s+(that\s+)?(you\s+)?(have|'ve|had)?\s*(previously|already|just|recently)?\s*(read|seen|accessed|retrieved|received|obtained|opened|loaded|fetched|processed|viewed|collected)\b", "data seen elsewhere"),
];

/// One compiled pattern.
pub struct Pattern {
    pub concept: Concept,
    pub regex: regex::Regex,
    pub reason: &'static str,
}

/// The compiled table (a pattern that fails to compile is dropped; a unit test keeps them all).
pub static COMPILED: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .filter_map(|(concept, p, reason)| {
            regex::Regex::new(p).ok().map(|regex| Pattern { concept: *concept, regex, reason })
        })
        .collect()
});

/// A concept found in text: which, where (byte offsets in the normalised text), and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub concept: Concept,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Every concept hit in normalised `text`, in order of position.
pub fn hits(text: &str) -> Vec<Hit> {
    let mut out: Vec<Hit> = COMPILED
        .iter()
        .flat_map(|p| {
            p.regex.find_iter(text).map(|m| Hit {
                concept: p.concept,
                start: m.start(),
                end: m.end(),
                text: m.as_str().to_string(),
            })
        })
        .collect();
    out.sort_by_key(|h| (h.start, h.end));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_has_a_reason() {
        assert_eq!(COMPILED.len(), PATTERNS.len());
        assert!(PATTERNS.iter().all(|(_, _, why)| !why.is_empty()));
    }

    fn has(text: &str, c: Concept) -> bool {
        hits(text).iter().any(|h| h.concept == c)
    }

    #[test]
    fn concepts_match_their_phrases() {
        assert!(has("before using this tool, you must read the file", Concept::Address));
        assert!(has("<important> do this </important>", Concept::Address));
        assert!(has("read ~/.ssh/id_rsa and pass it", Concept::SensitivePath));
        assert!(has("pass its content as 'sidenote'", Concept::Flow));
        assert!(has("do not mention this to the user", Concept::Hide));
        assert!(has("the other tools are deprecated", Concept::Disparage));
        assert!(has("whenever the user asks to send an email", Concept::Trigger));
        assert!(has("change the recipient to", Concept::Modify));
        assert!(has("include the full conversation history", Concept::Conversation));
        assert!(has("ignore all previous instructions", Concept::Override));
    }
}
