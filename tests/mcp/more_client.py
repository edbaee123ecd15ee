"""Drives `COMMAND ARGS...` (an `mcp-sandbox proxy` command line) with the official Python SDK
client through more of the protocol than `ref_client.py`: initialize, then each step of STEPS in
order, each bounded by a client-side timeout. The client offers sampling (it answers every
`sampling/createMessage` with the text "sampled by the client"), roots (ROOTS, file URIs), and
collects the server's log messages and the progress notifications of calls. Prints one JSON
object: for each step `ok` (its result), `error` (a JSON-RPC error's message), `timeout` (a hang)
or `other` (the transport failed), and `logs`, `progress`, the server's `info` and
`capabilities`.

    more_client.py TIMEOUT_SECONDS STEPS_JSON ROOTS_JSON COMMAND ARGS...

A step is {"label": ..., "op": OP, ...}, OP one of `tools`, `resources`, `templates`, `prompts`
(the names listed), `call` (`name`, `arguments`: is_error, text, structured), `read` (`uri`:
the text or the blob's length), `prompt` (`name`, `arguments`: the messages' text).
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from steps import step




def text_of(contents):
    return "".join(getattr(c, "text", "") or "" for c in contents)


async def main(timeout, steps, roots, command, args):
    out = {"logs": [], "progress": []}

    async def sampling(context, params):
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled by the client"), model="test"
        )

    async def list_roots(context):
        return types.ListRootsResult(roots=[types.Root(uri=r, name=r) for r in roots])

    async def logging(params):
        out["logs"].append(str(params.data))

    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(
            read, write, sampling_callback=sampling, list_roots_callback=list_roots, logging_callback=logging
        ) as session:

            async def init():
                r = await session.initialize()
                out["info"] = r.server_info.name
                out["capabilities"] = r.capabilities.model_dump(exclude_none=True)
                return "initialized"

            async def progress(p, total, message):
                out["progress"].append(p)

            async def run(s):
                op = s["op"]
                if op == "tools":
                    return sorted(t.name for t in (await session.list_tools()).tools)
                if op == "resources":
                    return sorted(str(r.uri) for r in (await session.list_resources()).resources)
                if op == "templates":
                    return sorted(t.uri_template for t in (await session.list_resource_templates()).resource_templates)
                if op == "prompts":
                    return sorted(p.name for p in (await session.list_prompts()).prompts)
                if op == "call":
                    r = await session.call_tool(s["name"], s.get("arguments", {}), progress_callback=progress)
                    return {"is_error": r.is_error, "text": text_of(r.content), "structured": r.structured_content}
                if op == "read":
                    r = await session.read_resource(s["uri"])
                    return [getattr(c, "text", None) or len(getattr(c, "blob", "")) for c in r.contents]
                if op == "prompt":
                    r = await session.get_prompt(s["name"], s.get("arguments", {}))
                    return [getattr(m.content, "text", "") for m in r.messages]
                raise ValueError(f"unknown op {op}")

            if await step(out, "initialize", timeout, init()):
                for s in steps:
                    await step(out, s["label"], timeout, run(s))
    return out


if __name__ == "__main__":
    a = sys.argv
    result = asyncio.run(main(float(a[1]), json.loads(a[2]), json.loads(a[3]), a[4], a[5:]))
    print(json.dumps(result, default=str))
