"""A stdio MCP server (official Python SDK) that dies, for the tests of `proxy` reporting a
server that ended.

* With CRASH_AT_START set, it writes that it cannot open its configuration and exits with
  status 2 before reading anything.
* Otherwise `add` adds two numbers, the first time; the second call makes it write a line on
  stderr and exit with status 3 without answering (a crash in the middle of a session).
"""

import os
import sys

from mcp.server.mcpserver import MCPServer

if os.environ.get("CRASH_AT_START"):
    print("crash_server: cannot open /etc/crash-server/config.toml: [Errno 2] No such file or directory", file=sys.stderr, flush=True)
    sys.exit(2)

server = MCPServer("crash")
calls = 0


@server.tool(description="Adds two numbers.")
def add(a: int, b: int) -> int:
    global calls
    calls += 1
    if calls > 1:
        print("crash_server: giving up in the middle of a call", file=sys.stderr, flush=True)
        os._exit(3)
    return a + b


if __name__ == "__main__":
    server.run()
