"""Assemble dev14-poisoned.jsonl and dev14-benign.jsonl from the harvested listings (/tmp/h2/out, made
by build2/npmharvest.sh and build2/pyharvest.sh with the package lists in build4/) and payloads.py.
usage: python3 assemble14.py HARVEST_DIR OUT_DIR"""
import copy, glob, hashlib, json, os, re, sys
sys.path.insert(0, os.path.dirname(__file__))
import payloads, payloads15
# `assemble14.py HARVEST OUT 15` writes dev15-poisoned.jsonl (split dev15) from payloads15.py only.
SET = sys.argv[3] if len(sys.argv) > 3 else "14"
ROWS = payloads15.ROWS if SET == "15" else payloads.ROWS

HARVEST, OUT = sys.argv[1], sys.argv[2]
# short key -> harvested listing file prefix
SERVERS = {
    "ssh-manager": "npm_mcp-ssh-manager@", "shell-mako": "npm__mako10k_mcp-shell-server@",
    "mysql": "npm__benborla29_mcp-server-mysql@", "calendar": "npm__cocal_google-calendar-mcp@",
    "git-cy": "npm__cyanheads_git-mcp-server@", "docker-sh": "npm__0xshariq_docker-mcp-server@",
    "email-cf": "npm__codefuturist_email-mcp@", "dbhub": "npm__bytebase_dbhub@",
    "browser-tools": "npm__agentdeskai_browser-tools-mcp@", "fs-j0": "npm__j0hanz_filesystem-mcp@",
    "ccxt": "npm__mcpfun_mcp-server-ccxt@", "gcloud": "npm__google-cloud_gcloud-mcp@",
    "n8n": "npm__illuminaresolutions_n8n-mcp-server@", "shell-py": "pypi_mcp-shell-server@",
    "digitalocean": "npm__digitalocean_mcp@", "gdocs": "npm__a-bonus_google-docs-mcp@",
    "obsidian": "npm_obsidian-mcp-server@", "browser-mcp": "npm__browsermcp_mcp@",
    "doppler": "npm__dopplerhq_mcp-server@", "postgres": "npm__henkey_postgres-mcp-server@",
    "datadog": "npm__winor30_mcp-server-datadog@", "email": "pypi_mcp-email-server@",
    "iam": "pypi_awslabs.iam-mcp-server@", "k8s": "npm_mcp-server-kubernetes@", "redis": "pypi_redis-mcp-server@",
    "mobile": "npm__mobilenext_mobile-mcp@", "shortcut": "npm__shortcut_mcp@", "ssh-mcp": "npm_ssh-mcp@",
    "playwright-ea": "npm__executeautomation_playwright-mcp-server@", "cloudrun": "npm__google-cloud_cloud-run-mcp@",
    "elastic": "npm__elastic_mcp-server-elasticsearch@", "code-runner": "npm_mcp-server-code-runner@",
    "gcal-cocal": "npm__cocal_google-calendar-mcp@", "browserbase": "npm__browserbasehq_mcp-server-browserbase@",
    # FastMCP sources rebuilt by build/pyext.py (build4/pysources.txt)
    "gcal": "py:gcalendar/calendar_tools.py", "gdocs": "py:gdocs/docs_tools.py", "gmail": "py:gmail/gmail_tools.py", "gdrive": "py:gdrive/drive_tools.py",
}

def listing(prefix):
    if prefix.startswith("py:"):
        for fname, src, tools in PYGROUPS:
            if fname.endswith(prefix[3:]):
                return fname, tools
        return None, None
    fs = [f for f in glob.glob(os.path.join(HARVEST, prefix + "*.json")) if not f.endswith(".stderr")]
    if not fs:
        return None, None
    d = json.load(open(fs[0]))
    return os.path.basename(fs[0])[:-5], d.get("tools") or []

def spec(fname):
    if fname.startswith("github_"):
        return next(src.split(" (")[0] for f, src, _ in PYGROUPS if f == fname)
    kind, rest = fname.split("_", 1)
    pkg, ver = rest.rsplit("@", 1)
    if kind == "npm" and pkg.startswith("_"):
        pkg = "@" + pkg[1:].replace("_", "/", 1)
    return f"{kind}:{pkg}@{ver}"

def first_string_param(t):
    for k, v in (t.get("inputSchema", {}).get("properties") or {}).items():
        if v.get("type") == "string":
            return k
    return None

POLICIES = [  # purpose-mismatch entries: an offline utility granted what it does not need
    {"net": ["collector.example.net:443"]}, {"read": ["~/.ssh", "~/.aws"]}, {"net": ["*:443"]},
    {"write": ["~/.bashrc", "~/.config"]}, {"net": ["paste.example.org:443"], "read": ["~"]},
    {"read": ["~/.gnupg"], "net": ["api.example.com:443"]},
]

def apply(tool, where, text):
    t = copy.deepcopy(tool)
    schema = t.setdefault("inputSchema", {"type": "object", "properties": {}})
    props = schema.setdefault("properties", {})
    kind, _, arg = where.partition(":")
    if kind == "desc+": t["description"] = (t.get("description") or "") + text
    elif kind == "desc^": t["description"] = text + (t.get("description") or "")
    elif kind == "desc=": t["description"] = text
    elif kind == "param": props[arg] = {"type": "string", "description": text}; schema.setdefault("required", []).append(arg)
    elif kind == "pdesc":
        name = arg if arg in props else first_string_param(t)
        if name is None:
            name = arg if arg != "*" else "input"; props[name] = {"type": "string", "description": ""}
        props[name]["description"] = (props[name].get("description") or "") + text
    elif kind == "enum": props[arg] = {"type": "string", "enum": ["incremental", text], "description": "Sync mode."}
    elif kind == "default": props[arg] = {"type": "string", "default": text}
    elif kind == "title": t["title"] = text
    elif kind == "annot": t.setdefault("annotations", {})["title"] = text
    elif kind == "output":
        t["outputSchema"] = {"type": "object", "properties": {"result": {"type": "string", "description": text}}}
    elif kind == "items": props[arg] = {"type": "array", "items": {"type": "string", "description": text}}
    else: raise SystemExit(f"unknown where {where}")
    return t

def main():
    poisoned = []
    tag = "p15" if SET == "15" else "p14"
    new_host = ["ssh-manager", "git-cy", "gcal", "email", "postgres", "shell-mako", "datadog", "browser-mcp", "iam"]
    for i, (key, base, where, cats, text, src) in enumerate(ROWS):
        if base.startswith("new:"):
            name = base[4:]
            host = new_host[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(new_host)]
            if key.startswith("i"):  # name squatting: host the server whose tool is imitated
                target = {"i01": "ssh-manager", "i02": "shell-mako", "i03": "email", "i04": "postgres", "i05": "git-cy",
                          "i06": "gcal", "i07": "git-cy", "i08": "browser-mcp"}[key]
                host = target
            fname, tools = listing(SERVERS[host])
            if tools is None:
                raise SystemExit(f"{key}: listing for {host} missing")
            tool = {"name": name, "description": text,
                    "inputSchema": {"type": "object", "properties": {"input": {"type": "string", "description": "Input."}}}}
            e = {"id": f"{tag}-{key}", "split": f"dev{SET}", "category": cats, "source": src.strip(),
                 "derived_from": f"a tool added to the listing of {spec(fname)}",
                 "tool": tool, "siblings": [t["name"] for t in tools][:60]}
            if key.startswith("h"):
                e["policy"] = POLICIES[int(key[1:]) - 1]
                e["derived_from"] = "an offline utility tool with a granted policy"
                e["siblings"] = []
            poisoned.append(e)
            continue
        server, tname = base.split(":", 1)
        fname, tools = listing(SERVERS[server])
        if tools is None:
            raise SystemExit(f"{key}: listing for {server} missing")
        match = [t for t in tools if t["name"] == tname]
        if not match:
            raise SystemExit(f"{key}: {tname} not in {fname}: {[t['name'] for t in tools]}")
        tool = apply(match[0], where, text)
        poisoned.append({"id": f"{tag}-{key}", "split": f"dev{SET}", "category": cats, "source": src.strip(),
                         "derived_from": f"{spec(fname)} tool {tname}", "tool": tool,
                         "siblings": [t["name"] for t in tools if t["name"] != tname][:60]})
    if SET == "15":
        with open(os.path.join(OUT, "dev15-poisoned.jsonl"), "w") as f:
            for e in poisoned:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
        print(len(poisoned), "poisoned (dev15)")
        return
    import quoted14
    poisoned = quoted14.entries() + poisoned
    with open(os.path.join(OUT, "dev14-poisoned.jsonl"), "w") as f:
        for e in poisoned:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(len(poisoned), "poisoned")


# ---- benign: every harvested listing (capped per server) plus FastMCP sources rebuilt by build/pyext.py
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "build"))
from benign import hn_reasons  # the first corpus's keyword rule for hard-negative reasons

CAP = 30

def known():
    seen = set()
    for f in glob.glob(os.path.join(os.path.dirname(__file__), "..", "*.jsonl")):
        if os.path.basename(f).startswith(("dev14", "dev15")):
            continue
        for l in open(f):
            if l.strip():
                t = json.loads(l)["tool"]
                seen.add((t.get("name"), t.get("description")))
    return seen

def benign(extra):
    seen = known(); out = []
    groups = []
    for f in sorted(glob.glob(os.path.join(HARVEST, "*.json"))):
        d = json.load(open(f)); fname = os.path.basename(f)[:-5]
        src = f"{spec(fname)} tools/list output (harvested with vet-corpus/build2/listtools.py; serverInfo {d.get('serverInfo')})"
        groups.append((fname, src, d.get("tools") or []))
    for fname, src, tools in extra:
        groups.append((fname, src, tools))
    for fname, src, tools in groups:
        names = [t["name"] for t in tools]
        cand = []
        for t in tools:
            if (t.get("name"), t.get("description")) in seen:
                continue
            r = hn_reasons(t, [n for n in names if n != t["name"]])
            h = hashlib.sha256((fname + t["name"]).encode()).hexdigest()
            cand.append((not r, h, t, r))
        cand.sort(key=lambda c: (c[0], c[1]))
        for _, _, t, r in cand[:CAP]:
            slug = re.sub(r"[^a-z0-9]+", "-", (fname.split("@")[0] + "-" + t["name"]).lower()).strip("-")
            e = {"id": f"b14-{slug}", "split": "dev14", "hard_negative": bool(r), "source": src, "tool": t,
                 "siblings": [n for n in names if n != t["name"]][:60]}
            if r:
                e["hard_negative_reasons"] = r
            out.append(e)
    with open(os.path.join(OUT, "dev14-benign.jsonl"), "w") as f:
        for e in out:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(len(out), "benign,", sum(e["hard_negative"] for e in out), "hard negatives")

def pyext_groups():
    """Honest FastMCP servers rebuilt from source (build/pyext.py), listed in build4/pysources.txt."""
    import subprocess
    import pyext
    groups = []
    for line in open(os.path.join(os.path.dirname(__file__), "pysources.txt")):
        if not line.strip() or line.startswith("#"):
            continue
        repo, commit, path = line.split()
        src_text = subprocess.run(["git", "-C", f"/work/.mirror/{repo.replace('/', '+')}/repo", "show", f"{commit}:{path}"],
                                  capture_output=True, text=True, check=True).stdout
        tmp = "/tmp/pyext_src.py"; open(tmp, "w").write(src_text)
        tools = pyext.tools(tmp)
        groups.append((f"github_{repo.replace('/', '_')}_{path}", f"https://github.com/{repo}@{commit} {path} (FastMCP tools rebuilt from source by vet-corpus/build/pyext.py)", tools))
    return groups

PYGROUPS = pyext_groups()
main()
if SET == "15":
    sys.exit(0)
benign(PYGROUPS)

def split():
    """Half of each stratum (poisoned: rarest category; benign: hard negative or not), by hash order,
    is `dev14-unseen`: measured, never looked at entry by entry while changing the engine."""
    from collections import Counter, defaultdict
    for f in ["dev14-poisoned.jsonl", "dev14-benign.jsonl"]:
        path = os.path.join(OUT, f)
        rows = [json.loads(l) for l in open(path) if l.strip()]
        cat_n = Counter(c for e in rows for c in e.get("category", []))
        strata = defaultdict(list)
        for e in rows:
            key = min(e["category"], key=lambda c: (cat_n[c], c)) if "category" in e else str(e["hard_negative"])
            strata[key].append(e)
        for es in strata.values():
            es.sort(key=lambda e: hashlib.sha256(("vet-corpus-dev14-v1:" + e["id"]).encode()).hexdigest())
            for i, e in enumerate(es):
                e["split"] = "dev14" if i % 2 == 0 else "dev14-unseen"
        with open(path, "w") as out:
            for e in rows:
                out.write(json.dumps(e, ensure_ascii=False) + "\n")

split()
