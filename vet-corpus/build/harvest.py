import json, os, sys, subprocess, glob
sys.path.insert(0, '/work/tmp/tools')
from listtools import rpc_session
BASE = '/work/tmp/harvest/npm'; OUT = '/work/tmp/harvest/out'; os.makedirs(OUT, exist_ok=True)
DUMMY = {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_dummy", "GITHUB_TOKEN": "ghp_dummy", "SLACK_BOT_TOKEN": "xoxb-dummy", "SLACK_TEAM_ID": "T000",
  "BRAVE_API_KEY": "dummy", "GOOGLE_MAPS_API_KEY": "dummy", "TAVILY_API_KEY": "tvly-dummy", "FIRECRAWL_API_KEY": "fc-dummy", "EXA_API_KEY": "dummy",
  "NOTION_TOKEN": "ntn_dummy", "OPENAPI_MCP_HEADERS": "{}", "STRIPE_SECRET_KEY": "sk_test_dummy", "SENTRY_ACCESS_TOKEN": "dummy", "SUPABASE_ACCESS_TOKEN": "sbp_dummy",
  "BW_SESSION": "dummy", "BW_CLIENT_ID": "dummy", "BW_CLIENT_SECRET": "dummy", "DOPPLER_TOKEN": "dp.st.dummy", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID": "dummy",
  "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET": "dummy", "OP_SERVICE_ACCOUNT_TOKEN": "ops_dummy", "MDB_MCP_CONNECTION_STRING": "mongodb://127.0.0.1:1/x",
  "CIRCLECI_TOKEN": "dummy", "GITLAB_PERSONAL_ACCESS_TOKEN": "glpat-dummy", "GITLAB_API_URL": "http://127.0.0.1:1/api/v4", "FIGMA_API_KEY": "dummy",
  "PRIVATE_APP_ACCESS_TOKEN": "dummy", "LAUNCHDARKLY_API_KEY": "dummy", "AMAP_MAPS_API_KEY": "dummy", "BAIDU_MAP_API_KEY": "dummy", "HEROKU_API_KEY": "dummy",
  "NETLIFY_PERSONAL_ACCESS_TOKEN": "dummy", "RESEND_API_KEY": "re_dummy", "LINEAR_API_KEY": "lin_dummy", "APIFY_TOKEN": "dummy", "PERPLEXITY_API_KEY": "pplx-dummy",
  "SHORTCUT_API_TOKEN": "dummy", "DATADOG_API_KEY": "dummy", "DATADOG_APP_KEY": "dummy", "DD_API_KEY": "dummy", "DD_APP_KEY": "dummy", "ATLASSIAN_SITE_NAME": "x", "ATLASSIAN_USER_EMAIL": "a@example.com", "ATLASSIAN_API_TOKEN": "dummy",
  "POSTGRES_CONNECTION_STRING": "postgresql://127.0.0.1:1/x", "CLOUDFLARE_API_TOKEN": "dummy", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIADUMMY", "AWS_SECRET_ACCESS_KEY": "dummy",
  "EVERART_API_KEY": "dummy", "REDIS_URL": "redis://127.0.0.1:1", "CONTEXT7_API_KEY": "dummy", "EMAIL_ADDRESS": "a@example.com", "EMAIL_PASSWORD": "dummy",
  "HOME": "/tmp/harvest-home", "PUPPETEER_SKIP_DOWNLOAD": "1", "DSN": "sqlite:///tmp/x.db"}
OVR = {
 "@modelcontextprotocol/server-filesystem": {"args": ["/tmp/fsroot"]},
 "@modelcontextprotocol/server-postgres": {"args": ["postgresql://127.0.0.1:1/x"]},
 "@modelcontextprotocol/server-redis": {"args": ["redis://127.0.0.1:1"]},
 "@stripe/mcp": {"args": ["--tools=all", "--api-key=sk_test_dummy"]},
 "@sentry/mcp-server": {"args": ["--access-token=dummy"]},
 "@supabase/mcp-server-supabase": {"args": ["--access-token=sbp_dummy"]},
 "@bytebase/dbhub": {"args": ["--transport", "stdio", "--dsn", "sqlite:///tmp/x.db"]},
 "@larksuiteoapi/lark-mcp": {"args": ["mcp", "-a", "cli_dummy", "-s", "dummy"]},
 "figma-developer-mcp": {"args": ["--stdio", "--figma-api-key=dummy"]},
 "@notionhq/notion-mcp-server": {"args": []},
 "@azure-devops/mcp": {"args": ["dummyorg"]},
 "@drawio/mcp": {"args": []},
}
def find_bin(pkg):
    d = os.path.join(BASE, pkg.replace('/', '_').replace('@', '_'))
    pj = os.path.join(d, 'node_modules', pkg, 'package.json')
    meta = json.load(open(pj))
    b = meta.get('bin')
    if isinstance(b, str): path = b
    elif isinstance(b, dict):
        keys = list(b)
        path = b[keys[0]]
    else: path = meta.get('main', 'index.js')
    return d, os.path.join(d, 'node_modules', pkg, path), meta
def run(pkg):
    d, binp, meta = find_bin(pkg)
    o = OVR.get(pkg, {})
    cmd = ["node", binp] + o.get("args", [])
    os.makedirs('/tmp/harvest-home', exist_ok=True)
    res = rpc_session(cmd, env=DUMMY, cwd='/tmp/fsroot', timeout=o.get('timeout', 45))
    res['package'] = pkg; res['version'] = meta.get('version'); res['repository'] = meta.get('repository'); res['registry'] = 'npm'
    json.dump(res, open(os.path.join(OUT, 'npm__' + pkg.replace('/', '__') + '.json'), 'w'), ensure_ascii=False, indent=1)
    return len(res['tools'])
if __name__ == '__main__':
    for pkg in sys.argv[1:]:
        if os.path.exists(os.path.join(OUT, 'npm__' + pkg.replace('/', '__') + '.json')): continue
        try: print(pkg, run(pkg), flush=True)
        except Exception as e: print(pkg, 'FAIL', str(e)[:300], flush=True)
