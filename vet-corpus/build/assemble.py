import json, sys, os
sys.path.insert(0, '/work/tmp/build'); sys.path.insert(0, '/work/tmp/tools')
import verbatim, instantiate, benign
DST = '/work/wt/vet-corpus/vet-corpus'
P = verbatim.entries() + verbatim.more() + instantiate.build()
B = benign.entries()
def order(e, kind):
    keys = ["id", "split", "category", "hard_negative", "hard_negative_reasons", "source", "derived_from", "tool", "siblings", "policy"]
    o = {k: e[k] for k in keys if k in e}
    o.setdefault('split', 'dev')
    return {k: o[k] for k in ["id", "split"] + [k for k in keys[2:] if k in o]}
for name, es, kind in (("poisoned.jsonl", P, 'poisoned'), ("benign.jsonl", B, 'benign')):
    with open(os.path.join(DST, name), 'w', encoding='utf-8') as f:
        for e in es: f.write(json.dumps(order(e, kind), ensure_ascii=False) + "\n")
print(len(P), len(B))
