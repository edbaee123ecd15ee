#!/bin/bash
source /tmp/h2/env.sh
export ALLOW_COMMANDS=ls,cat,pwd,echo ALLOWED_COMMANDS=ls,cat,pwd,echo ALLOWED_DIR=/tmp/h2/vault ALLOWED_PATHS=/tmp/h2/vault PIP_CACHE_DIR=/tmp/h2/pipcache
export CLICKHOUSE_HOST=127.0.0.1 CLICKHOUSE_USER=default CLICKHOUSE_PASSWORD=dummy CLICKHOUSE_PORT=5 MCP_EMAIL_SERVER_CONFIG_PATH=/tmp/h2/home/email.toml
export GOOGLE_OAUTH_CLIENT_ID=dummy.apps.googleusercontent.com GOOGLE_OAUTH_CLIENT_SECRET=dummy USER_GOOGLE_EMAIL=dummy@example.com
unset EMBEDDING_MODEL; export ALLOW_WRITE=true MEMORY_STORAGE=/tmp/h2/home WOLFRAM_API_KEY=dummy
IFS='|' read -r pkg ver ep args <<< "$1"
v=/tmp/h2/v/$pkg
out=/tmp/h2/out/pypi_${pkg}@${ver}.json
[ -s "$out" ] && { echo "$out exists"; exit 0; }
python3 -m venv $v
timeout 500 $v/bin/pip install -q "$pkg==$ver" > /tmp/h2/logs/py_$pkg.install 2>&1 || echo "$pkg install failed"
if [ -z "$ep" ]; then
  ep=$($v/bin/python - "$pkg" <<'PY'
import sys, importlib.metadata as m
d = m.distribution(sys.argv[1])
eps = [e.name for e in d.entry_points if e.group == "console_scripts"]
norm = sys.argv[1].replace("_","-")
best = sorted(eps, key=lambda n: (n.replace("_","-") != norm, "mcp" not in n, len(n)))
print(best[0] if best else "")
PY
)
fi
echo "$pkg -> $ep $($v/bin/pip show $pkg 2>/dev/null | grep ^Version)" >> /tmp/h2/logs/py_eps.txt
cd /tmp/h2/vault
timeout 120 python3 /tmp/h2/listtools.py $out 60 $v/bin/$ep $args
rm -rf $v
