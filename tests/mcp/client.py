"""An MCP client built on the official Python SDK (`pip install mcp`), for the integration tests.

    client.py stdio BIN TOOLS_DIR DATA_FILE [SERVE_ARGS...]   serve over stdio
    client.py http URL DATA_FILE [TOKEN]        streamable HTTP
    client.py proxy BIN ARGS...                 `mcp-sandbox proxy ARGS...` over stdio

Prints one JSON object with what it saw; the Rust test judges it.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


def texts(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def exercise(session, data_file):
    await session.initialize()
    tools = await session.list_tools()
    out = {"tools": sorted(t.name for t in tools.tools)}
    r = await session.call_tool("echo-json", {"message": "from python"})
    out["echo"] = {"is_error": r.is_error, "structured": r.structured_content, "text": texts(r)}
    r = await session.call_tool("read-file", {"path": data_file})
    out["read"] = {"is_error": r.is_error, "text": texts(r)}
    r = await session.call_tool("read-file", {"path": "/etc/passwd"})
    out["read_outside"] = {"is_error": r.is_error, "text": texts(r)}
    try:
        await session.call_tool("read-file", {"path": 42})
        out["schema_error"] = None
    except MCPError as e:
        out["schema_error"] = str(e)
    return out


async def over_stdio(bin_path, tools_dir, data_file, extra):
    params = StdioServerParameters(command=bin_path, args=["serve", "--tools", tools_dir, *extra])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            return await exercise(session, data_file)


async def over_http(url, data_file, token):
    import httpx2

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                return await exercise(session, data_file)


async def through_proxy(bin_path, args):
    params = StdioServerParameters(command=bin_path, args=["proxy", *args])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            out = {"tools": {t.name: (t.annotations.model_dump(exclude_none=True) if t.annotations else {}) for t in tools.tools}}
            out["calls"] = {}
            for name in ["add", "beacon"]:
                try:
                    r = await session.call_tool(name, {"a": 2, "b": 3})
                    out["calls"][name] = {"is_error": r.is_error, "text": texts(r)}
                except MCPError as e:
                    out["calls"][name] = {"refused": str(e)}
            return out


def main():
    mode = sys.argv[1]
    if mode == "stdio":
        out = asyncio.run(over_stdio(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]))
    elif mode == "http":
        token = sys.argv[4] if len(sys.argv) > 4 else None
        out = asyncio.run(over_http(sys.argv[2], sys.argv[3], token))
    elif mode == "proxy":
        out = asyncio.run(through_proxy(sys.argv[2], sys.argv[3:]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
