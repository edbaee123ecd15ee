"""Drives `mcp-sandbox proxy ARGS...` with the official Python SDK client, each step bounded by
a client-side timeout, and prints what each step got: `ok` (with a value), `error` (the
JSON-RPC error's message and data) or `timeout` (the failure this client exists to catch).

    crash_client.py TIMEOUT_SECONDS BIN ARGS...
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from steps import step




async def main(timeout, bin_path, args):
    out = {}
    params = StdioServerParameters(command=bin_path, args=["proxy", *args])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:

            async def init():
                await session.initialize()
                return "initialized"

            async def tools():
                return sorted(t.name for t in (await session.list_tools()).tools)

            async def call():
                r = await session.call_tool("add", {"a": 2, "b": 3})
                return "".join(getattr(c, "text", "") for c in r.content)

            if await step(out, "initialize", timeout, init()):
                await step(out, "list", timeout, tools())
                await step(out, "call1", timeout, call())
                await step(out, "call2", timeout, call())
                await step(out, "call3", timeout, call())
    return out


if __name__ == "__main__":
    result = asyncio.run(main(float(sys.argv[1]), sys.argv[2], sys.argv[3:]))
    print(json.dumps(result))
