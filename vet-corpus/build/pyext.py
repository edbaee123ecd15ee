"""Extract FastMCP-style tool definitions from a python source file via ast (no execution)."""
import ast, json, sys

PYTYPE = {"int": {"type": "integer"}, "str": {"type": "string"}, "float": {"type": "number"},
          "bool": {"type": "boolean"}, "dict": {"type": "object", "additionalProperties": True}, "list": {"type": "array", "items": {}}}

def ann_schema(a):
    if a is None: return {}
    if isinstance(a, ast.Name) and a.id in PYTYPE: return dict(PYTYPE[a.id])
    if isinstance(a, ast.Subscript) and isinstance(a.value, ast.Name):
        if a.value.id in ("List", "list"):
            return {"type": "array", "items": ann_schema(a.slice)}
        if a.value.id in ("Dict", "dict"):
            return {"type": "object", "additionalProperties": True}
        if a.value.id == "Optional":
            return {"anyOf": [ann_schema(a.slice), {"type": "null"}]}
    return {}

def lit(n):
    try: return ast.literal_eval(n)
    except Exception: return None

def tools(path, raw_doc=True):
    src = open(path).read()
    tree = ast.parse(src)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
        deco = None
        for d in node.decorator_list:
            f = d.func if isinstance(d, ast.Call) else d
            if isinstance(f, ast.Attribute) and f.attr == "tool": deco = d
        if deco is None: continue
        name = node.name; desc = None
        if isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if kw.arg == "name": name = lit(kw.value) or name
                if kw.arg == "description": desc = lit(kw.value)
        if desc is None:
            desc = ast.get_docstring(node, clean=not raw_doc) or ""
        props = {}; req = []
        args = node.args.args
        defaults = node.args.defaults
        off = len(args) - len(defaults)
        for i, a in enumerate(args):
            if a.arg in ("self", "ctx", "context") and a.annotation is not None and getattr(a.annotation, "id", "") == "Context": continue
            s = {"title": a.arg.replace("_", " ").title().replace(" ", " ")}
            s["title"] = " ".join(w.capitalize() for w in a.arg.split("_") if w)
            s.update(ann_schema(a.annotation))
            if i >= off:
                dv = lit(defaults[i - off])
                s["default"] = dv
            else:
                req.append(a.arg)
            props[a.arg] = s
        schema = {"properties": props, "required": req, "title": f"{node.name}Arguments", "type": "object"}
        if not req: del schema["required"]
        out.append({"name": name, "description": desc, "inputSchema": schema, "_line": node.lineno})
    return out

if __name__ == "__main__":
    for p in sys.argv[1:]:
        for t in tools(p):
            print("###", p, t["_line"], t["name"]); print(t["description"][:1500]); print(json.dumps(t["inputSchema"]["properties"])[:300])

def dict_tools(path):
    tree = ast.parse(open(path).read())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [lit(k) for k in node.keys if k is not None]
            if "name" in keys and "description" in keys:
                v = lit(node)
                if isinstance(v, dict): v["_line"] = node.lineno; out.append(v)
    return out
