"""Extract tool definitions from Go sources using mark3labs/mcp-go (mcp.NewTool(...))."""
import json, re, subprocess, sys

def go_string(s, i):
    """Parse a Go string literal (or a + concatenation of them) at s[i:]; return (value, end)."""
    parts = []
    while True:
        while i < len(s) and s[i] in ' \t\n\r':
            i += 1
        if i < len(s) and s[i] == '"':
            j = i + 1; buf = []
            while s[j] != '"':
                if s[j] == '\\':
                    nxt = s[j+1]
                    buf.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\', "'": "'"}.get(nxt, '\\' + nxt)); j += 2
                else:
                    buf.append(s[j]); j += 1
            parts.append(''.join(buf)); i = j + 1
        elif i < len(s) and s[i] == '`':
            j = s.index('`', i + 1); parts.append(s[i+1:j]); i = j + 1
        else:
            return None, i
        k = i
        while k < len(s) and s[k] in ' \t\n\r':
            k += 1
        if k < len(s) and s[k] == '+':
            i = k + 1
            continue
        return ''.join(parts), i

def balanced(s, i):
    """s[i] == '('; return index after the matching ')' (skipping strings)."""
    depth = 0; j = i
    while j < len(s):
        c = s[j]
        if c in '"`':
            _, j = go_string(s, j); continue
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j

CONSTS = {}

TYPES = {'WithString': 'string', 'WithNumber': 'number', 'WithBoolean': 'boolean', 'WithArray': 'array', 'WithObject': 'object', 'WithInteger': 'integer'}

def tools(src):
    out = []
    for m in re.finditer(r'mcp\.NewTool\(', src):
        start = m.end() - 1
        end = balanced(src, start)
        body = src[start+1:end-1]
        name, k = go_string(body, 0)
        if not name:
            ident = re.match(r'\s*([A-Za-z_][A-Za-z0-9_.]*)', body)
            name = CONSTS.get(ident.group(1).split('.')[-1]) if ident else None
        if not name:
            continue
        tool = {"name": name}
        props = {}; required = []
        d = re.search(r'mcp\.WithDescription\(', body)
        if d:
            desc, _ = go_string(body, d.end())
            if desc: tool["description"] = desc
        for pm in re.finditer(r'mcp\.(WithString|WithNumber|WithBoolean|WithArray|WithObject|WithInteger)\(', body):
            ps = pm.end() - 1
            pe = balanced(body, ps)
            pbody = body[ps+1:pe-1]
            pname, _ = go_string(pbody, 0)
            if not pname: continue
            p = {"type": TYPES[pm.group(1)]}
            dd = re.search(r'mcp\.Description\(', pbody)
            if dd:
                v, _ = go_string(pbody, dd.end())
                if v: p["description"] = v
            if 'mcp.Required()' in pbody: required.append(pname)
            em = re.search(r'mcp\.Enum\(', pbody)
            if em:
                ee = balanced(pbody, em.end() - 1); vals = []; q = em.end()
                while q < ee - 1:
                    v, q2 = go_string(pbody, q)
                    if v is None: q += 1; continue
                    vals.append(v); q = q2
                if vals: p["enum"] = vals
            dm = re.search(r'mcp\.Default(String|Number|Bool)\(', pbody)
            if dm and dm.group(1) == 'String':
                v, _ = go_string(pbody, dm.end())
                if v is not None: p["default"] = v
            props[pname] = p
        tool["inputSchema"] = {"type": "object", "properties": props}
        if required: tool["inputSchema"]["required"] = required
        ann = {}
        for key, hint in [('WithReadOnlyHintAnnotation', 'readOnlyHint'), ('WithDestructiveHintAnnotation', 'destructiveHint'), ('WithIdempotentHintAnnotation', 'idempotentHint'), ('WithOpenWorldHintAnnotation', 'openWorldHint')]:
            am = re.search(r'mcp\.' + key + r'\((true|false)\)', body)
            if am: ann[hint] = am.group(1) == 'true'
        tm = re.search(r'mcp\.WithTitleAnnotation\(', body)
        if tm:
            v, _ = go_string(body, tm.end())
            if v: ann["title"] = v
        if ann: tool["annotations"] = ann
        out.append(tool)
    return out

if __name__ == '__main__':
    repo, prefix, idp, label = sys.argv[1:5]
    commit = subprocess.check_output(['git', '-C', repo, 'rev-parse', 'HEAD']).decode().strip()
    files = subprocess.check_output(['git', '-C', repo, 'grep', '-l', 'mcp.NewTool(', 'HEAD', '--', '*.go']).decode().split()
    allgo = subprocess.check_output(['git', '-C', repo, 'grep', '-h', '-E', '^\\s*[A-Za-z_][A-Za-z0-9_]*\\s*(string)?\\s*=\\s*"', 'HEAD', '--', '*.go']).decode('utf-8', 'replace')
    for cm in re.finditer(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:string)?\s*=\s*"([^"]*)"', allgo, re.M):
        CONSTS.setdefault(cm.group(1), cm.group(2))
    res = []
    for f in files:
        path = f.split(':', 1)[1]
        if path.endswith('_test.go'): continue
        src = subprocess.check_output(['git', '-C', repo, 'show', f'HEAD:{path}']).decode('utf-8', 'replace')
        for t in tools(src):
            res.append({"id": f"{idp}-{t['name'].replace('_', '-')}", "split": "dev3", "hard_negative": False, "hard_negative_reasons": [],
                        "source": f"https://github.com/{label} @{commit} {path} (mcp.NewTool definition, rebuilt as the server lists it)", "tool": t})
    names = [r['tool']['name'] for r in res]
    for r in res: r['siblings'] = [n for n in names if n != r['tool']['name']][:60]
    json.dump(res, open(prefix, 'w'))
    print(len(res), names[:50])
