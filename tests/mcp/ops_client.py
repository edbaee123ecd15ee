"""One tools/call over streamable HTTP with the official Python SDK, for tests/serve_ops.rs.

    ops_client.py URL TOKEN TOOL ARGS_JSON [GATE]

With GATE, the session is opened first, GATE.ready is created, and the call waits until GATE
exists (so a test can act between the two). Prints one JSON object: {"is_error": ..., "text": ...}, or {"error": ...} if the call failed.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url, token, tool, args, gate):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out = {}
    try:
        async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()
                    if gate:
                        open(gate + ".ready", "w").close()
                        while not os.path.exists(gate):
                            await asyncio.sleep(0.02)
                    r = await session.call_tool(tool, args)
                    text = "".join(getattr(c, "text", "") for c in r.content)
                    out = {"is_error": r.is_error, "text": text}
    except BaseException as e:  # the session's task group wraps what went wrong
        # Closing the session may fail once the server has gone; the result is what counts.
        if not out:
            out = {"error": repr(e)}
    return out


if __name__ == "__main__":
    url, token, tool, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    gate = sys.argv[5] if len(sys.argv) > 5 else None
    print(json.dumps(asyncio.run(main(url, token, tool, args, gate))), flush=True)
