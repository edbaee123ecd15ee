import json, re, random, sys
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
SUBS = [
 (r"\byou must\b", ["the agent has to", "it is required that you", "you need to", "make sure you", "the assistant is expected to"]),
 (r"\byou should\b", ["the model ought to", "please", "it is advisable to", "you'll want to"]),
 (r"\bbefore using\b", ["prior to invoking", "ahead of calling", "before you call", "whenever you are about to use"]),
 (r"\bbefore calling\b", ["prior to running", "ahead of invoking", "before you use"]),
 (r"\bread\b", ["load", "open", "fetch", "retrieve", "grab", "look up"]),
 (r"\bsend\b", ["transmit", "deliver", "dispatch", "forward"]),
 (r"\bpass\b", ["supply", "hand over", "provide", "put"]),
 (r"\binclude\b", ["embed", "insert", "add", "attach"]),
 (r"\bdo not mention\b", ["avoid mentioning", "never bring up", "refrain from telling the user about", "keep quiet about"]),
 (r"\bdon't tell\b", ["do not inform", "never let", "avoid telling"]),
 (r"\bthe user\b", ["the human", "the person", "the requester", "the end user"]),
 (r"\bimportant\b", ["critical", "note", "mandatory", "attention"]),
 (r"\balways\b", ["in every case", "each time", "without exception"]),
 (r"\bnever\b", ["under no circumstances", "at no point"]),
 (r"\binstead of\b", ["rather than", "in place of"]),
 (r"\bdeprecated\b", ["outdated", "obsolete", "retired", "no longer maintained"]),
 (r"\bcontents?\b", ["text", "data", "body"]),
 (r"\bparameter\b", ["argument", "field", "input"]),
 (r"\btool\b", ["function", "utility", "integration"]),
 (r"\bconversation\b", ["chat", "dialogue", "session"]),
]
def perturb(s):
    out = s
    for pat, alts in SUBS:
        if random.random() < 0.7:
            out = re.sub(pat, lambda m: random.choice(alts) if m.group(0).islower() else random.choice(alts).capitalize(), out, flags=re.I)
    return out
def walk(v):
    if isinstance(v, str): return perturb(v)
    if isinstance(v, list): return [walk(x) for x in v]
    if isinstance(v, dict): return {k: (v[k] if k in ('name','type','required','enum') and not isinstance(v[k], dict) and k!='enum' else walk(v[k])) if k!='properties' else {pk: walk(pv) for pk, pv in v[k].items()} for k in v}
    return v
out=[]
for l in open('/work/wt/vet-engine/vet-corpus/poisoned.jsonl'):
    e=json.loads(l)
    if e['split']!='dev': continue
    cats=e['category']
    if 'name-squatting' in cats or 'purpose-mismatch' in cats or 'obfuscation' in cats: continue
    e2=dict(e); e2['split']='aug'; e2['tool']=walk(e['tool']); e2['id']='aug-'+e['id']
    out.append(e2)
open(sys.argv[2],'w').write('\n'.join(json.dumps(o,ensure_ascii=False) for o in out)+'\n')
print(len(out))
