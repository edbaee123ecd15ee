import json, os, sys, subprocess
sys.path.insert(0, '/work/tmp/tools'); from listtools import rpc_session
from harvest import DUMMY
BASE = '/work/tmp/harvest/py'; OUT = '/work/tmp/harvest/out'
SPEC = {
 'mcp-server-fetch': ['mcp-server-fetch'], 'mcp-server-git': ['mcp-server-git', '--repository', '/tmp/gitrepo'], 'mcp-server-time': ['mcp-server-time'],
 'mcp-server-sqlite': ['mcp-server-sqlite', '--db-path', '/tmp/x.db'], 'mcp-server-sentry': ['mcp-server-sentry', '--auth-token', 'dummy'],
 'mcp-atlassian': ['mcp-atlassian'], 'arxiv-mcp-server': ['arxiv-mcp-server'], 'duckduckgo-mcp-server': ['duckduckgo-mcp-server'],
 'mcp-clickhouse': ['mcp-clickhouse'], 'mcp-simple-arxiv': ['mcp-simple-arxiv'], 'semgrep-mcp': ['semgrep-mcp'], 'mcp-server-docker': ['mcp-server-docker'],
 'mcp-grafana': ['mcp-grafana'], 'baidu-mcp-server': ['baidu-mcp-server'], 'mcp-yahoo-finance': ['mcp-yahoo-finance'], 'mcp-server-qdrant': ['mcp-server-qdrant'],
}
ENV = dict(DUMMY); ENV.update({"JIRA_URL": "http://127.0.0.1:1", "JIRA_USERNAME": "a@example.com", "JIRA_API_TOKEN": "dummy", "CONFLUENCE_URL": "http://127.0.0.1:1/wiki", "CONFLUENCE_USERNAME": "a@example.com", "CONFLUENCE_API_TOKEN": "dummy",
  "CLICKHOUSE_HOST": "127.0.0.1", "CLICKHOUSE_PORT": "1", "CLICKHOUSE_USER": "x", "CLICKHOUSE_PASSWORD": "x", "GRAFANA_URL": "http://127.0.0.1:1", "GRAFANA_API_KEY": "dummy", "QDRANT_URL": "http://127.0.0.1:1", "COLLECTION_NAME": "x", "DOCKER_HOST": "unix:///nonexistent.sock"})
for pkg in sys.argv[1:]:
    of = os.path.join(OUT, 'pypi__' + pkg + '.json')
    if os.path.exists(of): continue
    try:
        meta = subprocess.run([os.path.join(BASE, pkg, 'bin', 'pip'), 'show', pkg], capture_output=True, text=True).stdout
        ver = [l.split(': ', 1)[1] for l in meta.splitlines() if l.startswith('Version:')][0]
        home = [l.split(': ', 1)[1] for l in meta.splitlines() if l.startswith('Home-page:')]
        cmd = [os.path.join(BASE, pkg, 'bin', SPEC[pkg][0])] + SPEC[pkg][1:]
        res = rpc_session(cmd, env=ENV, cwd='/tmp/fsroot', timeout=60)
        res.update(package=pkg, version=ver, registry='pypi', repository=(home[0] if home and home[0] else None))
        json.dump(res, open(of, 'w'), ensure_ascii=False, indent=1); print(pkg, len(res['tools']), flush=True)
    except Exception as e:
        print(pkg, 'FAIL', str(e)[:300], flush=True)
