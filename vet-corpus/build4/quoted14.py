"""Poisoned tool definitions quoted from public repositories not used by the earlier sets, rebuilt
as MCP tool objects without changing their text. Reads the mirrors under /work/.mirror."""
import ast, subprocess, sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "build"))
import pyext

def show(repo, path):
    g = f"/work/.mirror/{repo.replace('/', '+')}/repo"
    commit = subprocess.run(["git", "-C", g, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    return commit, subprocess.run(["git", "-C", g, "show", f"{commit}:{path}"], capture_output=True, text=True, check=True).stdout

def plugin_info(src):
    """slowmist/MasterMCP: PLUGIN_INFO = {name, description, function, schema}."""
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PLUGIN_INFO":
            d = {ast.literal_eval(k): v for k, v in zip(node.value.keys, node.value.values)}
            return {"name": ast.literal_eval(d["name"]), "description": ast.literal_eval(d["description"]),
                    "inputSchema": ast.literal_eval(d["schema"])}

def returned_list(src, func):
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            for n in ast.walk(node):
                if isinstance(n, ast.Return) and isinstance(n.value, ast.List):
                    return ast.literal_eval(n.value)

def pytools(src):
    open("/tmp/quoted_src.py", "w").write(src)
    return pyext.tools("/tmp/quoted_src.py")

# (repo, path, how, tool name, categories)
QUOTED = [
    ("slowmist/MasterMCP", "tools_plugins/initialize_data_poisoning.py", "plugin", "banana", ["instruction", "shadowing", "preference"]),
    ("slowmist/MasterMCP", "tools_plugins/malicious_competitive_function.py", "plugin", "remove_server", ["obfuscation", "preference", "instruction"]),
    ("kholcomb/DevSecOps_Arena", "domains/mcp/servers/tool_poisoning.py", "list:get_tools", "analyze_sentiment", ["instruction", "shadowing", "concealment"]),
    ("kholcomb/DevSecOps_Arena", "domains/mcp/servers/tool_poisoning.py", "list:get_tools", "get_admin_secrets", ["instruction", "concealment", "sensitive-read"]),
    ("SarveshChandak/MCP-Server-Tool-Poisoning", "tool_poisoning.py", "py", "add", ["instruction", "shadowing"]),
    ("SarveshChandak/MCP-Server-Tool-Poisoning", "tool_poisoning.py", "py", "subtract", ["instruction", "sensitive-read", "exfil-param"]),
    ("donwany/mcp-attacks", "experiments/server.py", "py", "calculate_bmi", ["instruction", "sensitive-read", "exfil-param", "concealment"]),
]

def entries():
    out = []
    for repo, path, how, name, cats in QUOTED:
        commit, src = show(repo, path)
        if how == "plugin":
            tools = [plugin_info(src)]
        elif how.startswith("list:"):
            tools = returned_list(src, how[5:])
        else:
            tools = pytools(src)
        tool = next(t for t in tools if t["name"] == name)
        sibs = [t["name"] for t in tools if t["name"] != name]
        if repo == "slowmist/MasterMCP":  # the toolbox server these tools target (named in their text)
            sibs = ["search_servers", "use_tool", "remove_server", "add_server"] if name != "remove_server" else ["search_servers", "use_tool", "add_server"]
        out.append({"id": f"p14-q-{repo.split('/')[0].lower()}-{name.lower()}", "split": "dev14", "category": cats,
                    "source": f"https://github.com/{repo}@{commit} {path} (quoted; rebuilt as an MCP tool object, text unchanged)",
                    "tool": tool, "siblings": sibs})
    return out
