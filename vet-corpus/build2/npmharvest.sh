#!/bin/bash
# usage: npmharvest.sh LINE   (pkg|version|bin|args)
source /tmp/h2/env.sh
IFS='|' read -r pkg ver bin args <<< "$1"
slug=$(echo "$pkg" | tr '/@' '__')
d=/tmp/h2/n/$slug; mkdir -p $d
out=/tmp/h2/out/npm_${slug}@${ver}.json
[ -s "$out" ] && { echo "$out exists"; exit 0; }
HOME=/root timeout 400 npm install --prefix $d "$pkg@$ver" --no-audit --no-fund --loglevel=error > /tmp/h2/logs/$slug.install 2>&1 || { echo "$pkg install failed"; }
pj=$d/node_modules/$pkg/package.json
if [ -z "$bin" ]; then
  bin=$(node -e "const p=require('$pj'); const b=p.bin; if(typeof b==='string'){console.log(p.name.split('/').pop())} else if(b){console.log(Object.keys(b)[0])}")
fi
binpath=$d/node_modules/.bin/$bin
cd /tmp/h2/vault
timeout 120 python3 /tmp/h2/listtools.py $out 60 $binpath $args
rm -rf $d
