"""Benign dev2 entries: tool objects exactly as real servers listed them (harvest outputs in /tmp/h2/out),
plus tools read from a package's published source where the server cannot list without real credentials
(frompkg.py). Hard-negative reasons come from a keyword rule (below), not from judgement."""
import glob, hashlib, json, os, re

OUT = "/tmp/h2/out"
MAX_PER_SERVER = 14

# policies that fit the server (the grant it would plausibly run under); attached to every entry of that server
POLICY = {
    "npm:@modelcontextprotocol/server-postgres": {"net": ["127.0.0.1:5432"], "read": [], "write": []},
    "npm:@pinecone-database/mcp": {"net": ["api.pinecone.io", "docs.pinecone.io", "*.pinecone.io"], "read": [], "write": []},
    "npm:@elastic/mcp-server-elasticsearch": {"net": ["127.0.0.1:9200"], "read": [], "write": []},
    "npm:mcp-server-commands": {"net": [], "read": ["/home/user/project"], "write": ["/home/user/project"]},
    "npm:ssh-mcp": {"net": ["10.0.0.5:22"], "read": [], "write": []},
    "npm:mcp-obsidian": {"net": [], "read": ["/home/user/vault"], "write": ["/home/user/vault"]},
    "npm:obsidian-mcp-server": {"net": ["127.0.0.1:27124"], "read": [], "write": []},
    "pypi:mcp-obsidian": {"net": ["127.0.0.1:27124"], "read": [], "write": []},
    "pypi:mcp-server-qdrant": {"net": ["127.0.0.1:6333"], "read": [], "write": []},
    "pypi:mcp-atlassian": {"net": ["example.atlassian.net"], "read": [], "write": []},
    "pypi:awslabs-aws-documentation-mcp-server": {"net": ["docs.aws.amazon.com", "proxy.search.docs.aws.amazon.com"], "read": [], "write": []},
    "pypi:mcp-server-docker": {"net": [], "read": ["/var/run/docker.sock"], "write": ["/var/run/docker.sock"]},
    "pypi:gg-mcp": {"net": ["api.gitguardian.com"], "read": [], "write": []},
    "pypi:mcp-email-server": {"net": ["imap.example.com:993", "smtp.example.com:465"], "read": [], "write": []},
    "pypi:semgrep-mcp": {"net": ["semgrep.dev"], "read": ["/home/user/project"], "write": []},
    "npm:@heroku/mcp-server": {"net": ["api.heroku.com"], "read": [], "write": []},
}

REASONS = [
    ("secrets", r"(?i)\b(secret|password|passphrase|credential|token|api[ _-]?key|private key|ssh|vault|oauth)"),
    ("exec", r"(?i)\b(shell|command|exec|execute|terminal|bash|script|subprocess|eval)\b"),
    ("email", r"(?i)\b(e-?mail|smtp|imap|inbox|recipient|bcc)\b"),
    ("destructive", r"(?i)\b(delete|drop|remove|destroy|terminate|purge|overwrite|truncate|wipe|revoke)"),
    ("imperative", r"(IMPORTANT|CRITICAL|WARNING|NOTE:|\bMUST\b|(?i:\bnever\b|\balways\b|\bdo not\b|\bmust\b|\bshould\b))"),
    ("code_block", r"```|<[a-z]+>|\{\{"),
    ("file_access", r"(?i)\b(file|path|directory|folder|\.env|config)\b"),
    ("network", r"(?i)https?://|\bURL\b|\bwebhook"),
    ("nonenglish_or_emoji", r"[^\x00-\x7F\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u00a0\u2022\u2192\u00b7\u00d7\u2264\u2265]"),
]


def texts(tool):
    out = [tool.get("name", ""), tool.get("title", "") or "", tool.get("description", "") or ""]
    def walk(s):
        if isinstance(s, dict):
            for k, v in s.items():
                if k in ("description", "title") and isinstance(v, str):
                    out.append(v)
                elif k in ("enum", "examples") and isinstance(v, list):
                    out.extend(str(x) for x in v)
                elif k == "default" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(s, list):
            for x in s:
                walk(x)
    walk(tool.get("inputSchema", {}))
    walk(tool.get("annotations", {}))
    return "\n".join(out)


def reasons(tool, siblings):
    t = texts(tool)
    rs = [n for n, rx in REASONS if re.search(rx, t)]
    desc = tool.get("description", "") or ""
    if any(s != tool.get("name") and len(s) > 4 and re.search(r"(?<![\w-])" + re.escape(s) + r"(?![\w-])", desc) for s in siblings):
        rs.append("sibling_reference")
    return rs


def spec_names():
    m = {}
    for f, kind in (("/tmp/h2/npmspec.txt", "npm"), ("/tmp/h2/pyspec.txt", "pypi"), ("/tmp/h2/npmspec_extra.txt", "npm"), ("/tmp/h2/pyspec_extra.txt", "pypi")):
        if not os.path.exists(f):
            continue
        for line in open(f):
            if line.startswith("#") or not line.strip():
                continue
            pkg, ver = line.split("|")[:2]
            slug = pkg.replace("/", "_").replace("@", "_") if kind == "npm" else pkg
            m[f"{kind}_{slug}@{ver}"] = (kind, pkg, ver)
    return m


def slugid(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def load_listings():
    names = spec_names()
    out = []
    for f in sorted(glob.glob(f"{OUT}/*.json")):
        key = os.path.basename(f)[:-5]
        if key not in names:
            continue
        kind, pkg, ver = names[key]
        d = json.load(open(f))
        if not d.get("tools"):
            continue
        out.append((kind, pkg, ver, d))
    return out


def entries():
    E = []
    for kind, pkg, ver, d in load_listings():
        tools = d["tools"]
        names = [t["name"] for t in tools]
        scored = []
        for t in tools:
            rs = reasons(t, names)
            h = hashlib.sha256(f"{pkg}:{t['name']}".encode()).hexdigest()
            scored.append((0 if rs else 1, h, t, rs))
        scored.sort(key=lambda x: (x[0], x[1]))
        base = f"{kind}:{pkg}"
        for _, _, t, rs in scored[:MAX_PER_SERVER]:
            e = {"id": "b2-" + slugid(pkg.split("/")[-1] if kind == "npm" else pkg) + "-" + slugid(t["name"]),
                 "hard_negative": bool(rs), "hard_negative_reasons": rs,
                 "source": f"{base}@{ver} tools/list output (harvested over stdio with a stdlib client, dummy credentials, no network; server reports {json.dumps(d.get('serverInfo'))})",
                 "tool": t, "siblings": [n for n in names if n != t["name"]]}
            if base in POLICY:
                e["policy"] = POLICY[base]
            E.append(e)
    return E


if __name__ == "__main__":
    es = entries()
    print(len(es), sum(e["hard_negative"] for e in es))
