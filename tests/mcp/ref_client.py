"""Drives `COMMAND ARGS...` (an `mcp-sandbox proxy` command line) with the official Python SDK
client: initialize, tools/list, then each call of CALLS in order, each step bounded by a
client-side timeout. Prints one JSON object: for each step `ok` (the tool names, or a call's
`is_error` and text), `error` (a JSON-RPC error's message and data), `timeout` (a hang) or
`other` (the transport failed), with the seconds it took.

    ref_client.py TIMEOUT_SECONDS CALLS_JSON COMMAND ARGS...

CALLS_JSON is a list of {"label": ..., "name": ..., "arguments": {...}}. The proxy gets this
process's whole environment (the SDK would pass only HOME, PATH and a few others).
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from steps import step




async def main(timeout, calls, command, args):
    out = {}
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:

            async def init():
                await session.initialize()
                return "initialized"

            async def tools():
                return sorted(t.name for t in (await session.list_tools()).tools)

            async def call(name, arguments):
                r = await session.call_tool(name, arguments)
                text = "".join(getattr(c, "text", "") for c in r.content)
                return {"is_error": r.is_error, "text": text}

            if await step(out, "initialize", timeout, init()):
                await step(out, "list", timeout, tools())
                for c in calls:
                    await step(out, c["label"], timeout, call(c["name"], c["arguments"]))
    return out


if __name__ == "__main__":
    result = asyncio.run(main(float(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4:]))
    print(json.dumps(result))
