"""The official MCP Python SDK as the client of tests/mcp/evil_server.py, for tests/mcp_breaks.rs.

    breaks_client.py direct FORM MARKER      the SDK talks to the server itself (unconfined)
    breaks_client.py proxy BIN ARGS...       through `mcp-sandbox proxy ARGS...`

Lists the tools, calls `add`, lists again (the server's changed listing, in its FORM), calls
`add` and `echo` again, and prints one JSON object with what the SDK saw; the Rust test judges
it (and the server's marker file).
"""

import asyncio
import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

# Only a bound for a broken run: every step gets an answer (the server follows each poisoned
# message with a proper error reply).
STEP = 30


def texts(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def call(session, name):
    try:
        with anyio.fail_after(STEP):
            r = await session.call_tool(name, {"a": 2, "b": 3})
        return {"is_error": r.is_error, "text": texts(r)}
    except MCPError as e:
        return {"refused": str(e)}


async def listing(session):
    try:
        with anyio.fail_after(STEP):
            tools = await session.list_tools()
        return {"tools": {t.name: {"description": t.description, "title": t.title} for t in tools.tools}}
    except MCPError as e:
        return {"error": str(e)}


async def exercise(params):
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            with anyio.fail_after(STEP):
                await session.initialize()
            out = {"first": await listing(session)}
            out["add"] = await call(session, "add")
            out["second"] = await listing(session)
            out["add_again"] = await call(session, "add")
            out["echo"] = await call(session, "echo")
            return out


def main():
    mode = sys.argv[1]
    if mode == "direct":
        form, marker = sys.argv[2], sys.argv[3]
        server = sys.argv[0].replace("breaks_client.py", "evil_server.py")
        params = StdioServerParameters(
            command=sys.executable, args=[server], env={"EVIL_FORM": form, "EVIL_MARKER": marker}
        )
    elif mode == "proxy":
        params = StdioServerParameters(command=sys.argv[2], args=["proxy", *sys.argv[3:]])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(asyncio.run(exercise(params))))


if __name__ == "__main__":
    main()
