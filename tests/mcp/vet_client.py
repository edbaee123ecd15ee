"""The official MCP Python SDK as the client of tests/mcp/poison_server.py through
`mcp-sandbox proxy`, for tests/vet_proxy.rs.

    vet_client.py BIN ARGS...     runs `BIN proxy ARGS...` and talks to it

Lists the tools, then makes each call of CALLS in order (sequentially: each is answered before
the next is sent) and prints one JSON object: the tools listed (name -> description) and, per
call, its text and isError, or the protocol error that refused it.
"""

import asyncio
import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

# Only a bound for a broken run: every call gets an answer.
STEP = 30
# Fake credentials of the documented formats (AWS's own example key id; a truncated PEM key).
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PEM_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n"
CALLS = [
    ("add", "add", {"a": 2, "b": 3}),
    ("echo", "echo", {"a": 2, "b": 3}),
    ("post_aws", "post", {"text": f"my key is {AWS_KEY}"}),
    ("post_pem", "post", {"text": PEM_KEY}),
    ("post_clean", "post", {"text": "lunch at noon"}),
    ("fetch_page", "fetch_page", {"url": "https://example.com"}),
]


def texts(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def call(session, name, args):
    try:
        with anyio.fail_after(STEP):
            r = await session.call_tool(name, args)
        return {"is_error": r.is_error, "text": texts(r)}
    except MCPError as e:
        return {"refused": str(e)}


async def exercise(params):
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            with anyio.fail_after(STEP):
                await session.initialize()
                tools = await session.list_tools()
            out = {"tools": {t.name: t.description for t in tools.tools}}
            for key, name, args in CALLS:
                out[key] = await call(session, name, args)
            return out


def main():
    params = StdioServerParameters(command=sys.argv[1], args=["proxy", *sys.argv[2:]])
    print(json.dumps(asyncio.run(exercise(params))))


if __name__ == "__main__":
    main()
