#!/usr/bin/env python3
"""Assemble vet-corpus/dev2-poisoned.jsonl and dev2-benign.jsonl.

    python3 assemble2.py OUTDIR

Quoted entries come from quoted.py; instantiated ones from inst_{a,b,c}.py, each attached to a real tool
chosen from the harvested dev2 listings (benign2.load_listings) by pool; benign entries from benign2.py."""
import copy, hashlib, json, os, re, sys
import benign2, quoted, inst_a, inst_b, inst_c

POOLS = {
    "jira": [(r"pypi:mcp-atlassian", r"^jira_(create|update|add|get_issue|search)"), (r"atlassian|jira", r".")],
    "aws": [(r"pypi:awslabs-", r".")],
    "gitlab_or_github": [(r"gitlab|github", r".")],
    "email_send": [(r"gmail|email|mail|resend", r"(?i)send|draft|reply")],
    "kubernetes": [(r"kubernetes", r".")],
    "vector": [(r"pinecone|qdrant", r".")],
    "shell": [(r"commands|shell|cli-mcp|ssh|code-runner", r".")],
    "payments": [(r"stripe|paypal", r".")],
    "notes": [(r"obsidian|todoist", r".")],
    "db": [(r"postgres|supabase|clickhouse|motherduck|neon|redis|neo4j", r".")],
    "browser": [(r"browserbase|playwright|puppeteer", r".")],
    "messaging": [(r"slack|twilio", r".")],
    "docker": [(r"docker", r".")],
    "ssh": [(r"ssh", r".")],
    "search": [(r"perplexity|apify|wolfram|elastic|aws-documentation|search", r"(?i)search|ask|query|find|research")],
    "files": [(r"obsidian|commands|docker-mcp-server|ssh", r"(?i)write|edit|file|create|append|patch|move|delete")],
    "cloud_dns": [(r"cloudflare", r".")],
    "destructive_tool": [(r".", r"(?i)delete|remove|drop|destroy|terminate")],
    "any": [(r".", r".")],
}


def h(s):
    return int(hashlib.sha256(s.encode()).hexdigest(), 16)


def str_params(t):
    props = (t.get("inputSchema") or {}).get("properties") or {}
    return [k for k, v in props.items() if isinstance(v, dict) and (v.get("type") == "string" or "string" in json.dumps(v.get("anyOf", "")))]


class Picker:
    def __init__(self, listings):
        self.tools = []  # (key, ver, listing-names, tool)
        for kind, pkg, ver, d in listings:
            names = [t["name"] for t in d["tools"]]
            for t in d["tools"]:
                self.tools.append((f"{kind}:{pkg}", ver, names, t))
        self.used = {}

    def pick(self, pool, pid, need_str=True, ok=lambda t: True):
        for lk, tr in POOLS.get(pool, []) + POOLS["any"]:
            c = [x for x in self.tools if re.search(lk, x[0]) and re.search(tr, x[3]["name"]) and (not need_str or str_params(x[3])) and ok(x[3])]
            if c:
                c.sort(key=lambda x: (self.used.get((x[0], x[3]["name"]), 0), h(pid + x[0] + x[3]["name"])))
                x = c[0]
                self.used[(x[0], x[3]["name"])] = self.used.get((x[0], x[3]["name"]), 0) + 1
                return x
        raise SystemExit(f"no base for {pid} in pool {pool}")


def fill(text, name, sib, p):
    return text.replace("{name}", name).replace("{sib}", sib).replace("{p}", p)


def build_inst(spec, picker):
    op = spec["op"]
    e = {"id": "p2-" + spec["id"], "category": spec["cats"], "source": "pattern: " + spec["src"]}
    if op == "new_tool_standalone":
        e["source"] += "; tool written for this entry (no real base tool)"
        e["tool"] = copy.deepcopy(spec["tool"])
        if "siblings" in spec:
            e["siblings"] = spec["siblings"]
        if "policy" in spec:
            e["policy"] = spec["policy"]
        return e, json.dumps(spec["tool"], ensure_ascii=False)
    ok = (lambda t: spec["rename"](t["name"]) != t["name"]) if op == "rename_copy" else (lambda t: True)
    key, ver, names, base = picker.pick(spec["pool"], spec["id"], need_str=op not in ("new_tool", "policy", "rename_copy", "annotations_replace"), ok=ok)
    t = copy.deepcopy(base)
    sibs = [n for n in names if n != base["name"]]
    sib_re = spec.get("sib_re", r".")
    sib_c = [n for n in names if re.search(sib_re, n) and n != base["name"]] or sibs or [base["name"]]
    sib = sorted(sib_c, key=lambda n: h(spec["id"] + n))[0]
    sp = str_params(base)
    p = sp[0] if sp else "query"
    e["derived_from"] = f"{key}@{ver} tools/list output, tool `{base['name']}`"
    props = t.setdefault("inputSchema", {"type": "object"}).setdefault("properties", {})
    text = fill(spec.get("text", ""), base["name"], sib, p)
    payload = text
    if op == "append":
        t["description"] = (t.get("description") or "") + text
    elif op == "prepend":
        t["description"] = text + (t.get("description") or "")
    elif op in ("append_param", "split"):
        t["description"] = (t.get("description") or "") + text
        props[spec["param"]] = copy.deepcopy(spec["param_schema"])
        payload = text + json.dumps(spec["param_schema"], ensure_ascii=False)
        if op == "split" and h(spec["id"]) % 2 == 0 and isinstance(t["inputSchema"].get("required"), list):
            t["inputSchema"]["required"].append(spec["param"])
    elif op == "param_desc":
        props[p]["description"] = (props[p].get("description") or "") + text
    elif op == "param_title":
        props[p]["title"] = text
    elif op == "param_pattern":
        props[p]["pattern"] = text
    elif op == "examples":
        props[p]["examples"] = spec["values"]
        payload = json.dumps(spec["values"], ensure_ascii=False)
    elif op == "add_enum_param":
        props[spec["param"]] = {"type": "string", "enum": spec["values"]}
        payload = json.dumps(spec["values"], ensure_ascii=False)
    elif op == "add_default_param":
        props[spec["param"]] = {"type": "string", "default": spec["default"]}
        payload = spec["default"]
    elif op == "add_param":
        props[spec["param"]] = copy.deepcopy(spec["param_schema"])
        if spec.get("required"):
            t["inputSchema"].setdefault("required", []).append(spec["param"])
        payload = spec["param"] + json.dumps(spec["param_schema"], ensure_ascii=False)
    elif op == "nested":
        props[spec["param"]] = copy.deepcopy(spec["nested"])
        payload = json.dumps(spec["nested"], ensure_ascii=False)
    elif op == "title":
        t["title"] = text
    elif op == "output_schema":
        t["outputSchema"] = {"type": "object", "description": text, "properties": {"result": {"type": "string"}}}
    elif op == "annotations":
        t["annotations"] = {**(t.get("annotations") or {}), **spec["ann"]}
        payload = json.dumps(spec["ann"], ensure_ascii=False)
    elif op == "annotations_replace":
        t["annotations"] = {**(t.get("annotations") or {}), **spec["ann"]}
        payload = spec["id"] + json.dumps(spec["ann"], ensure_ascii=False)
    elif op == "meta":
        t["_meta"] = spec["meta"]
        payload = json.dumps(spec["meta"], ensure_ascii=False)
    elif op == "policy":
        e["policy"] = spec["policy"]
        payload = spec["id"] + json.dumps(spec["policy"])
    elif op == "new_tool":
        t = {"name": spec["new_name"], "description": text, "inputSchema": spec["schema"]}
        sibs = names
        e["derived_from"] = f"{key}@{ver} tools/list output (the listing this tool is added to; `{sib}` is one of its real tools)"
    elif op == "rename_copy":
        t["name"] = spec["rename"](base["name"])
        if t["name"] == base["name"]:
            raise SystemExit(f"{spec['id']}: rename did not change {base['name']}")
        if spec.get("extra"):
            t["description"] = (t.get("description") or "") + spec["extra"]
        sibs = names  # the listing still contains the original
        payload = spec["id"] + t["name"]
    else:
        raise SystemExit("unknown op " + op)
    e["tool"] = t
    e["siblings"] = sibs
    return e, payload


def main():
    outdir = sys.argv[1]
    listings = benign2.load_listings()
    picker = Picker(listings)
    P, seen = [], {}
    for e in quoted.entries():
        P.append(e)
    for spec in inst_a.P + inst_b.P + inst_c.P:
        e, payload = build_inst(spec, picker)
        if payload in seen:
            raise SystemExit(f"payload of {spec['id']} repeats {seen[payload]}")
        seen[payload] = spec["id"]
        P.append(e)
    B = benign2.entries()
    for kind, es, prefix in (("poisoned", P, "p2-"), ("benign", B, "b2-")):
        ids = set()
        with open(os.path.join(outdir, f"dev2-{kind}.jsonl"), "w", encoding="utf-8") as f:
            for e in es:
                assert e["id"].startswith(prefix) and e["id"] not in ids, e["id"]
                ids.add(e["id"])
                out = {"id": e["id"], "split": "dev2"}
                if kind == "poisoned":
                    out["category"] = e["category"]
                else:
                    out["hard_negative"] = e["hard_negative"]
                    out["hard_negative_reasons"] = e["hard_negative_reasons"]
                out["source"] = e["source"]
                if e.get("derived_from"):
                    out["derived_from"] = e["derived_from"]
                out["tool"] = e["tool"]
                if e.get("siblings"):
                    out["siblings"] = e["siblings"]
                if e.get("policy"):
                    out["policy"] = e["policy"]
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
    print(len(P), "poisoned;", len(B), "benign")
    print("base-tool use:", sorted(((v, k) for k, v in picker.used.items()), reverse=True)[:8])


if __name__ == "__main__":
    main()
