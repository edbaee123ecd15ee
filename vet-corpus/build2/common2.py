"""Helpers shared by the dev2 build scripts (stdlib only)."""
import ast, json

TYPE = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "dict": "object",
        "List": "array", "Dict": "object", "string": "string", "number": "number", "integer": "integer",
        "boolean": "boolean", "array": "array", "object": "object"}


def _ann_schema(a):
    """FastMCP-like JSON schema fragment for a Python annotation AST node."""
    if a is None:
        return {}
    if isinstance(a, ast.Name):
        return {"type": TYPE.get(a.id, "string")}
    if isinstance(a, ast.Subscript):
        base = a.value.id if isinstance(a.value, ast.Name) else ""
        if base == "Optional":
            return {"anyOf": [_ann_schema(a.slice), {"type": "null"}]}
        if base in ("List", "list"):
            return {"type": "array", "items": _ann_schema(a.slice)}
        if base in ("Dict", "dict"):
            return {"type": "object"}
        if base == "Literal":
            elts = a.slice.elts if isinstance(a.slice, ast.Tuple) else [a.slice]
            return {"enum": [e.value for e in elts], "type": "string"}
    return {}


def fastmcp_tool(fn: ast.AST, description=None, name=None):
    """Rebuild the tool object FastMCP (python SDK) lists for a decorated function."""
    args = fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    props, req = {}, []
    for a, d in zip(args, defaults):
        if a.arg == "self":
            continue
        s = {"title": a.arg.replace("_", " ").title().replace(" ", " ")}
        s["title"] = " ".join(w.capitalize() for w in a.arg.split("_"))
        s.update(_ann_schema(a.annotation))
        if d is None:
            req.append(a.arg)
        else:
            s["default"] = ast.literal_eval(d) if not isinstance(d, ast.Name) else None
        props[a.arg] = s
    schema = {"properties": props, "required": req, "title": f"{fn.name}Arguments", "type": "object"}
    if not req:
        del schema["required"]
    doc = ast.get_docstring(fn, clean=False)
    return {"name": name or fn.name, "description": description if description is not None else (doc or ""),
            "inputSchema": schema}


def functions(path):
    """name -> FunctionDef for every function decorated with *.tool(...) in a python file."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                f = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(f, ast.Attribute) and f.attr == "tool":
                    out[node.name] = node
    return out


def simple_schema(params: dict, required=None, descriptions=None):
    """{'x': 'string', ...} -> JSON schema (used for benchmark tools given as name->type maps)."""
    props = {}
    for k, v in (params or {}).items():
        t = TYPE.get(v, "string") if isinstance(v, str) else "string"
        if v == "list":
            t = "array"
        props[k] = {"type": t}
        if descriptions and k in descriptions:
            props[k]["description"] = descriptions[k]
    return {"type": "object", "properties": props, "required": list(required if required is not None else props)}


def zod_schema(props: dict, required):
    """Schema as the TypeScript SDK (zod-to-json-schema) lists it."""
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#"}
