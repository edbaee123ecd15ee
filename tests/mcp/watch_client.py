"""Drives an MCP server command (`mcp-sandbox proxy …` or `mcp-sandbox serve …`) with the
official Python SDK client through a list of steps, for the tests of behaviour profiles and
quarantine (`tests/proxy_learn.rs`, `tests/quarantine_sdk.rs`). Prints one JSON array: per
step, what the client saw and how many `anomaly` events the audit log held right after.

    watch_client.py AUDIT STEPS BIN ARGS...

STEPS is a JSON array of steps:
* ["call", TOOL, ARGS]: call_tool; {"error": bool, "text": str}
* ["list"]: list_tools; the names listed
* ["run", [CMD...]]: runs a command (`mcp-sandbox pins approve …`); its exit status
"""

import asyncio
import json
import os
import subprocess
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

TIMEOUT = 60


def anomalies(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if line.strip() and json.loads(line).get("event") == "anomaly")
    except OSError:
        return 0


async def step(session, s):
    if s[0] == "call":
        r = await session.call_tool(s[1], s[2])
        return {"error": bool(r.is_error), "text": "".join(getattr(c, "text", "") for c in r.content)}
    if s[0] == "list":
        return sorted(t.name for t in (await session.list_tools()).tools)
    if s[0] == "run":
        return subprocess.run(s[1], capture_output=True, timeout=TIMEOUT).returncode
    raise ValueError(f"unknown step {s!r}")


async def main():
    audit, steps, command = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    out = []
    async with stdio_client(params) as (r, w), ClientSession(r, w) as session:
        await asyncio.wait_for(session.initialize(), TIMEOUT)
        for s in steps:
            try:
                got = {"ok": await asyncio.wait_for(step(session, s), TIMEOUT)}
            except Exception as e:  # what the client saw, for the test to judge
                got = {"exception": f"{type(e).__name__}: {e}"}
            got["anomalies"] = anomalies(audit)
            out.append(got)
    print(json.dumps(out))


asyncio.run(main())
