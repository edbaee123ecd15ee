"""One bounded step of an SDK client session, for the test clients in this directory.

`await step(out, name, timeout, coro)` records under `out[name]` what became of `coro`:
{"ok": value}, {"timeout": true}, {"error": message, "data": ...} for a JSON-RPC error, or
{"other": ...} for anything else (the transport closing is an answer too, but not the one we
want), with the seconds it took; returns whether it succeeded.
"""

import asyncio
import time

from mcp.shared.exceptions import MCPError


async def step(out, name, timeout, coro):
    start = time.monotonic()
    try:
        out[name] = {"ok": await asyncio.wait_for(coro, timeout)}
    except asyncio.TimeoutError:
        out[name] = {"timeout": True}
    except MCPError as e:
        out[name] = {"error": str(e), "data": e.data}
    except Exception as e:
        out[name] = {"other": f"{type(e).__name__}: {e}"}
    out[name]["seconds"] = round(time.monotonic() - start, 2)
    return "ok" in out[name]
