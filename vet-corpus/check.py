#!/usr/bin/env python3
"""Validate the tool-vetting corpus (stdlib only).

    python3 vet-corpus/check.py            # validate poisoned.jsonl and benign.jsonl, print counts
    python3 vet-corpus/check.py --assign   # (re)compute the dev/holdout split in place, then validate

Checks: one JSON object per line; required fields and types; unique ids across both files; known
categories; every entry has a non-empty source; the tool object looks like an MCP tool (string name,
object inputSchema); minimum counts (200 poisoned, 200 benign, 60 hard negatives, every category
present); and that each entry's split equals the seeded, stratified assignment below, so nobody can
move entries between dev and holdout by hand without this check failing.
"""
import hashlib, json, os, sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORIES = ["instruction", "sensitive-read", "exfil-param", "shadowing", "preference", "concealment",
              "repeat-destructive", "obfuscation", "purpose-mismatch", "name-squatting"]
SEED = "vet-corpus-split-v1"
HOLDOUT_SHARE = 0.4
MIN = {"poisoned": 200, "benign": 200, "hard_negative": 60}


def load(name):
    path = os.path.join(HERE, name)
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                raise SystemExit(f"{name}:{n}: empty line")
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{name}:{n}: not JSON: {e}")
    return out


def stratum(e, kind, freq):
    if kind == "benign":
        return "hard" if e.get("hard_negative") else "plain"
    # the entry's rarest category, so that rare categories are split too
    return min(e["category"], key=lambda c: (freq[c], c))


def assign(entries, kind):
    freq = Counter(c for e in entries for c in e.get("category", []))
    groups = defaultdict(list)
    for e in entries:
        groups[stratum(e, kind, freq)].append(e)
    split = {}
    for key, es in groups.items():
        es = sorted(es, key=lambda e: hashlib.sha256(f"{SEED}:{e['id']}".encode()).hexdigest())
        k = round(HOLDOUT_SHARE * len(es))
        for i, e in enumerate(es):
            split[e["id"]] = "holdout" if i < k else "dev"
    return split


def validate(kind, entries, errors):
    for i, e in enumerate(entries):
        where = f"{kind}[{i}] {e.get('id', '?')}"
        if not isinstance(e.get("id"), str) or not e["id"]:
            errors.append(f"{where}: id must be a non-empty string")
        if e.get("split") not in ("dev", "holdout"):
            errors.append(f"{where}: split must be dev or holdout")
        if not isinstance(e.get("source"), str) or len(e["source"].strip()) < 10:
            errors.append(f"{where}: source missing")
        if "derived_from" in e and not isinstance(e["derived_from"], str):
            errors.append(f"{where}: derived_from must be a string")
        t = e.get("tool")
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not t["name"]:
            errors.append(f"{where}: tool.name missing")
        elif not isinstance(t.get("inputSchema", {}), dict):
            errors.append(f"{where}: tool.inputSchema must be an object")
        elif "description" in t and not isinstance(t["description"], str):
            errors.append(f"{where}: tool.description must be a string")
        if "siblings" in e:
            s = e["siblings"]
            if not isinstance(s, list) or not all(isinstance(x, str) or (isinstance(x, dict) and "name" in x) for x in s):
                errors.append(f"{where}: siblings must be names or tool objects")
        if "policy" in e:
            p = e["policy"]
            if not isinstance(p, dict) or not all(isinstance(p.get(k, []), list) for k in ("net", "read", "write")):
                errors.append(f"{where}: policy must be {{net, read, write}} lists")
        if kind == "poisoned":
            c = e.get("category")
            if not isinstance(c, list) or not c or any(x not in CATEGORIES for x in c) or len(set(c)) != len(c):
                errors.append(f"{where}: category must be a non-empty list of {CATEGORIES}")
            if "hard_negative" in e:
                errors.append(f"{where}: hard_negative is for benign entries")
        else:
            if not isinstance(e.get("hard_negative"), bool):
                errors.append(f"{where}: hard_negative must be a bool")
            if "category" in e:
                errors.append(f"{where}: category is for poisoned entries")


def main():
    files = {"poisoned": "poisoned.jsonl", "benign": "benign.jsonl"}
    data = {k: load(v) for k, v in files.items()}
    if "--assign" in sys.argv:
        for kind, entries in data.items():
            sp = assign(entries, kind)
            for e in entries:
                e["split"] = sp[e["id"]]
            with open(os.path.join(HERE, files[kind]), "w", encoding="utf-8") as f:
                for e in entries:
                    f.write(json.dumps(e, ensure_ascii=False, sort_keys=False) + "\n")
    errors = []
    for kind, entries in data.items():
        validate(kind, entries, errors)
    ids = Counter(e.get("id") for es in data.values() for e in es)
    errors += [f"duplicate id {i} ({n}x)" for i, n in ids.items() if n > 1]
    for kind, entries in data.items():
        if all(isinstance(e.get("id"), str) for e in entries) and (kind == "benign" or all(isinstance(e.get("category"), list) and e["category"] for e in entries)):
            sp = assign(entries, kind)
            errors += [f"{e['id']}: split is {e.get('split')}, the seeded assignment says {sp[e['id']]}" for e in entries if e.get("split") != sp[e["id"]]]
    P, B = data["poisoned"], data["benign"]
    if len(P) < MIN["poisoned"]:
        errors.append(f"only {len(P)} poisoned entries (need {MIN['poisoned']})")
    if len(B) < MIN["benign"]:
        errors.append(f"only {len(B)} benign entries (need {MIN['benign']})")
    hn = sum(1 for e in B if e.get("hard_negative"))
    if hn < MIN["hard_negative"]:
        errors.append(f"only {hn} hard negatives (need {MIN['hard_negative']})")
    cat = Counter((c, e.get("split")) for e in P for c in e.get("category", []))
    for c in CATEGORIES:
        for s in ("dev", "holdout"):
            if cat[(c, s)] == 0:
                errors.append(f"category {c} has no {s} entry")
    # report
    print(f"{'category':20} {'dev':>5} {'holdout':>8} {'total':>6}")
    for c in CATEGORIES:
        print(f"{c:20} {cat[(c, 'dev')]:5} {cat[(c, 'holdout')]:8} {cat[(c, 'dev')] + cat[(c, 'holdout')]:6}")
    sp = Counter(e.get("split") for e in P)
    print(f"{'poisoned entries':20} {sp['dev']:5} {sp['holdout']:8} {len(P):6}")
    sb = Counter((e.get("split"), e.get("hard_negative")) for e in B)
    print(f"{'benign, hard neg.':20} {sb[('dev', True)]:5} {sb[('holdout', True)]:8} {hn:6}")
    print(f"{'benign, other':20} {sb[('dev', False)]:5} {sb[('holdout', False)]:8} {len(B) - hn:6}")
    print(f"{'benign entries':20} {sb[('dev', True)] + sb[('dev', False)]:5} {sb[('holdout', True)] + sb[('holdout', False)]:8} {len(B):6}")
    if errors:
        for e in errors[:50]:
            print("ERROR:", e, file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
