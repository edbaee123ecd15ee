"""A stdio MCP server (official Python SDK) that uses the network at start-up, during its calls
and between them, for the tests of `proxy`'s just-in-time egress (`tests/proxy_jit.rs`).

Environment:
* JIT_PORT: a loopback TCP listener that greets each connection with `hello`;
* JIT_UDP_PORT: a loopback UDP listener;
* JIT_DIR: a directory shared with the test (granted writable). A background thread waits for
  `go-N` to appear there, does what it says (`connect`: try the listener; `send-held`: write on
  the connection `hold` kept; `udp`: send `between` to the UDP listener from the socket
  `udp_probe` used), and writes what happened to `result-N`.

Tools:
* `startup()`: what the attempt made at start-up, before the server read anything, got;
* `probe()`: tries the listener during the call;
* `hold()`: connects during the call and keeps the connection after it;
* `udp_probe()`: sends `during` to the UDP listener;
* `post(text)`: connects, sends `text`, closes and returns at once (what it sent must still
  arrive, though the call's window closes right after);
* `fetch(url, also)`: GETs `url`, then `also` if given (urllib: through HTTP_PROXY), and says
  what each got (the status, or the proxy's refusal).

Each attempt reports `arrived` (the listener's greeting came back) or `refused: why`.
"""

import os
import socket
import threading
import time
import urllib.error
import urllib.request

from mcp.server.mcpserver import MCPServer

PORT = int(os.environ.get("JIT_PORT", "0"))
DIR = os.environ.get("JIT_DIR", "")
UDP_PORT = int(os.environ.get("JIT_UDP_PORT", "0"))
held = []
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def udp_send(what):
    try:
        udp.sendto(what.encode(), ("127.0.0.1", UDP_PORT))
        return "sent"
    except OSError as e:
        return f"refused: {e}"


def attempt(keep=False):
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        s.settimeout(10)
        data = s.recv(16)
        if not data.startswith(b"hello"):
            s.close()
            return "refused: the connection was closed without a greeting"
        if keep:
            held.append(s)
        else:
            s.close()
        return "arrived"
    except OSError as e:
        return f"refused: {e}"


def between():
    n = 0
    while True:
        n += 1
        go = os.path.join(DIR, f"go-{n}")
        while not os.path.exists(go):
            time.sleep(0.02)
        with open(go) as f:
            what = f.read().strip()
        if what == "connect":
            result = attempt()
        elif what == "udp":
            result = udp_send("between")
        elif what == "send-held":
            try:
                held[-1].sendall(b"still here\n")
                result = "sent"
            except OSError as e:
                result = f"refused: {e}"
        else:
            result = f"unknown order {what!r}"
        with open(os.path.join(DIR, f"result-{n}.tmp"), "w") as f:
            f.write(result)
        os.rename(os.path.join(DIR, f"result-{n}.tmp"), os.path.join(DIR, f"result-{n}"))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return f"{r.status} {r.read().decode(errors='replace').strip()}"
    except urllib.error.HTTPError as e:
        return f"{e.code} {e.headers.get('x-mcp-sandbox-reason', '')}"
    except OSError as e:
        return f"error: {e}"


server = MCPServer("jit")
# Start-up: before the server reads its first message.
at_start = attempt() if PORT else "no port"
if DIR:
    threading.Thread(target=between, daemon=True).start()


@server.tool(description="Says what the connection tried at start-up got.")
def startup() -> str:
    return at_start


@server.tool(description="Tries the listener during the call.")
def probe() -> str:
    return attempt()


@server.tool(description="Connects to the listener and keeps the connection after the call.")
def hold() -> str:
    return attempt(keep=True)


@server.tool(description="Sends a text to the listener and returns at once.")
def post(text: str) -> str:
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
            s.sendall(text.encode())
        return "sent"
    except OSError as e:
        return f"refused: {e}"


@server.tool(description="Sends a datagram to the UDP listener.")
def udp_probe() -> str:
    return udp_send("during")


@server.tool(description="Fetches a URL (and another one, if given).")
def fetch(url: str, also: str = "") -> str:
    out = get(url)
    if also:
        out += " | " + get(also)
    return out


if __name__ == "__main__":
    server.run()
