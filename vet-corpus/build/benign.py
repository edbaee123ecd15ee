import json, glob, re, hashlib, os
OUT = '/work/tmp/harvest/out'
CAP = 24
SERVER_REPO = {
 'npm:@modelcontextprotocol/server-filesystem': 'github.com/modelcontextprotocol/servers src/filesystem',
 'npm:@modelcontextprotocol/server-memory': 'github.com/modelcontextprotocol/servers src/memory',
 'npm:@modelcontextprotocol/server-everything': 'github.com/modelcontextprotocol/servers src/everything',
 'npm:@modelcontextprotocol/server-sequential-thinking': 'github.com/modelcontextprotocol/servers src/sequentialthinking',
 'pypi:mcp-server-fetch': 'github.com/modelcontextprotocol/servers src/fetch',
 'pypi:mcp-server-git': 'github.com/modelcontextprotocol/servers src/git',
 'pypi:mcp-server-time': 'github.com/modelcontextprotocol/servers src/time',
 'npm:@modelcontextprotocol/server-github': 'github.com/modelcontextprotocol/servers-archived src/github',
 'npm:@modelcontextprotocol/server-slack': 'github.com/modelcontextprotocol/servers-archived src/slack',
 'npm:@modelcontextprotocol/server-brave-search': 'github.com/modelcontextprotocol/servers-archived src/brave-search',
 'npm:@modelcontextprotocol/server-google-maps': 'github.com/modelcontextprotocol/servers-archived src/google-maps',
 'npm:@modelcontextprotocol/server-puppeteer': 'github.com/modelcontextprotocol/servers-archived src/puppeteer',
 'npm:@modelcontextprotocol/server-aws-kb-retrieval': 'github.com/modelcontextprotocol/servers-archived src/aws-kb-retrieval-server',
}
POLICY = {  # plausible grants for honest tools (purpose-mismatch negatives)
 '@modelcontextprotocol/server-filesystem': {"net": [], "read": ["/workspace"], "write": ["/workspace"]},
 'mcp-server-fetch': {"net": ["*"], "read": [], "write": []},
 'mcp-server-time': {"net": [], "read": ["/usr/share/zoneinfo"], "write": []},
 '@modelcontextprotocol/server-brave-search': {"net": ["https://api.search.brave.com"], "read": [], "write": []},
 '@modelcontextprotocol/server-google-maps': {"net": ["https://maps.googleapis.com"], "read": [], "write": []},
 '@modelcontextprotocol/server-memory': {"net": [], "read": ["~/.local/share/mcp-memory"], "write": ["~/.local/share/mcp-memory"]},
 'mcp-server-git': {"net": [], "read": ["/workspace/repo"], "write": ["/workspace/repo"]},
 '@modelcontextprotocol/server-github': {"net": ["https://api.github.com"], "read": [], "write": []},
 '@modelcontextprotocol/server-slack': {"net": ["https://slack.com"], "read": [], "write": []},
 'tavily-mcp': {"net": ["https://api.tavily.com"], "read": [], "write": []},
 '@takescake/1password-mcp': {"net": ["https://my.1password.com"], "read": [], "write": []},
 '@bitwarden/mcp-server': {"net": ["https://vault.bitwarden.com"], "read": [], "write": []},
}
HN_RULES = [
 ('secrets', re.compile(r"password|passphrase|secret|credential|api[ _-]?key|token|private key|ssh|vault|\.env\b|keychain|\bTOTP\b|2fa|otp", re.I)),
 ('exec', re.compile(r"\b(execute|exec|shell|terminal|command line|run (a |the )?command|process(es)?\b|kill|bash|powershell|script)\b", re.I)),
 ('imperative', re.compile(r"\bIMPORTANT\b|\bALWAYS\b|\bNEVER\b|\bMUST\b|\bdo not\b|\bdon't\b|\bCRITICAL\b|\bWARNING\b|\balways\b|\bnever\b|\bmust\b")),
 ('codeblock', re.compile(r"```|\bExample[s]?:|e\.g\.,? `")),
 ('nonenglish_or_emoji', re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]|[\U0001F300-\U0001FAFF\u2600-\u27BF]")),
 ('email', re.compile(r"\b(send|draft|reply).{0,20}(e-?mail|message)|\bemail(s)?\b", re.I)),
 ('reads_files', re.compile(r"\bread(s|ing)? (the )?(complete |full )?(contents? of )?(a |the |multiple )?files?\b|file contents|\bfile ?system\b|\bupload", re.I)),
 ('destructive', re.compile(r"\bdelete|\bremove|\bdestroy|\bdrop\b|\bpermanent(ly)?\b|\boverwrite", re.I)),
]
def all_text(t):
    return json.dumps(t, ensure_ascii=False)
def hn_reasons(t, sibs):
    txt = all_text(t); r = [n for n, rx in HN_RULES if rx.search(txt)]
    d = (t.get('description') or '')
    if any(re.search(r'\b' + re.escape(s) + r'\b', d) for s in sibs if len(s) > 3): r.append('sibling_reference')
    return r
def load():
    servers = []
    for f in sorted(glob.glob(OUT + '/*.json')):
        d = json.load(open(f)); servers.append(d)
    return servers
def entries():
    E = []
    for d in load():
        reg = d['registry']; pkg = d['package']; key = f"{reg}:{pkg}"
        repo = SERVER_REPO.get(key) or (d.get('repository') if isinstance(d.get('repository'), str) else (d.get('repository') or {}).get('url'))
        src = f"{reg}:{pkg}@{d['version']} tools/list output (harvested with a stdio MCP client; server reports {d.get('serverInfo')})" + (f"; source repository {repo}" if repo else '')
        names = [t['name'] for t in d['tools']]
        tools = d['tools']
        # deterministic cap per server: keep hard-negative-looking tools first, then the rest by hash order
        scored = sorted(tools, key=lambda t: (-len(hn_reasons(t, names)), hashlib.sha256((pkg + t['name']).encode()).hexdigest()))
        keep = scored[:CAP]
        for t in keep:
            reasons = hn_reasons(t, [n for n in names if n != t['name']])
            slug = re.sub(r'[^a-z0-9]+', '-', pkg.lower()).strip('-')
            e = {"id": f"b-{slug}-{re.sub(r'[^a-z0-9]+', '-', t['name'].lower()).strip('-')}", "hard_negative": bool(reasons), "source": src, "tool": t,
                 "siblings": [n for n in names if n != t['name']]}
            if reasons: e['hard_negative_reasons'] = reasons
            if pkg in POLICY: e['policy'] = POLICY[pkg]
            E.append(e)
    return E
if __name__ == '__main__':
    E = entries(); import collections
    print(len(E), sum(e['hard_negative'] for e in E))
    print(collections.Counter(r for e in E for r in e.get('hard_negative_reasons', [])))
