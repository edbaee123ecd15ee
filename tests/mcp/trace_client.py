"""An MCP client on the official Python SDK that propagates W3C trace context in
`params._meta`, for tests/traces.rs.

    trace_client.py stdio BIN TOOLS_DIR [SERVE_ARGS...]
    trace_client.py http URL

Makes four calls, each with its own `traceparent` (trace ids 0x..01 to ..04; parent span
ids 0x..a1 to ..a4): echo-json (succeeds, no denial), exfil (its connection is denied by
the sandbox as it runs), read-file of /etc/passwd (its argument is refused before it runs),
read-file with a number for its path (refused by the schema).
Prints one JSON object with what it saw.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


def meta(n):
    return {
        "traceparent": f"00-{n:032x}-{0xA0 + n:016x}-01",
        "tracestate": f"client=call{n}",
    }


async def exercise(session):
    await session.initialize()
    out = {}
    r = await session.call_tool("echo-json", {"message": "traced"}, meta=meta(1))
    out["echo"] = {"is_error": r.is_error}
    r = await session.call_tool("exfil", {}, meta=meta(2))
    out["exfil"] = {"is_error": r.is_error, "text": "".join(getattr(c, "text", "") for c in r.content)}
    r = await session.call_tool("read-file", {"path": "/etc/passwd"}, meta=meta(3))
    out["refused"] = {"is_error": r.is_error}
    try:
        await session.call_tool("read-file", {"path": 42}, meta=meta(4))
        out["invalid"] = None
    except MCPError as e:
        out["invalid"] = str(e)
    return out


async def over_stdio(bin_path, tools_dir, extra):
    params = StdioServerParameters(command=bin_path, args=["serve", "--tools", tools_dir, *extra])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            return await exercise(session)


async def over_http(url):
    import httpx2

    async with httpx2.AsyncClient(timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                return await exercise(session)


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        out = asyncio.run(over_stdio(sys.argv[2], sys.argv[3], sys.argv[4:]))
    else:
        out = asyncio.run(over_http(sys.argv[2]))
    print(json.dumps(out))
