import json, os, glob, copy, base64, urllib.parse
OUT = '/work/tmp/harvest/out'
SRCNOTE = {}
def load_server(fname_part):
    fs = [f for f in glob.glob(OUT + '/*.json') if fname_part in f]
    assert len(fs) == 1, (fname_part, fs)
    return json.load(open(fs[0]))
def base_tool(server_part, name):
    d = load_server(server_part)
    for t in d['tools']:
        if t['name'] == name:
            return copy.deepcopy(t), server_source(d)
    raise KeyError((server_part, name))
def server_source(d):
    repo = d.get('repository')
    if isinstance(repo, dict):
        url = repo.get('url', ''); sub = repo.get('directory')
        repo = url + ((' (' + sub + ')') if sub else '')
    reg = d.get('registry', 'npm')
    return f"{reg}:{d['package']}@{d['version']} tools/list output" + (f"; repository {repo}" if repo else "")
def sibling_names(server_part, exclude=None):
    d = load_server(server_part)
    return [t['name'] for t in d['tools'] if t['name'] != exclude]
