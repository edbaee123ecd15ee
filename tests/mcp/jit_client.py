"""Drives `mcp-sandbox proxy ARGS...` around `jit_server.py` with the official Python SDK client,
and real loopback listeners, for the tests of just-in-time egress (`tests/proxy_jit.rs`). Prints
one JSON object: what each step got and what each listener saw. Each step is bounded.

    jit_client.py window BIN ARGS...    start-up, during a call, between calls, a held connection
    jit_client.py bind BIN ARGS...      `fetch` with bound origins
    jit_client.py session N THINK LATENCY BIN ARGS...
                                        N `fetch` calls, THINK seconds apart, to an origin that
                                        answers after LATENCY seconds (a realistic session)

In ARGS, {PORT} is the raw listener's port, {UPORT} the UDP listener's, {DIR} the shared
directory, {A} {B} {C} the ports of three HTTP listeners (A and B on 127.0.0.1, C on 127.0.0.2).
"""

import asyncio
import http.server
import json
import os
import socket
import sys
import tempfile
import threading
import time

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

TIMEOUT = 30


class Listener:
    """A raw TCP listener: greets each connection with `hello`, then records what it reads and
    whether the connection ended (EOF or reset)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.sock.accept()
            rec = {"data": "", "ended": None}
            with self.lock:
                self.conns.append(rec)
            threading.Thread(target=self.read, args=(c, rec), daemon=True).start()

    def read(self, c, rec):
        try:
            c.sendall(b"hello\n")
            while True:
                d = c.recv(1024)
                if not d:
                    rec["ended"] = "eof"
                    return
                rec["data"] += d.decode(errors="replace")
        except OSError as e:
            rec["ended"] = f"error: {e}"

    def count(self):
        with self.lock:
            return len(self.conns)

    def snapshot(self):
        with self.lock:
            return [dict(c) for c in self.conns]

    async def wait_for(self, pred, what):
        """Waits (bounded) until `pred(conns)` holds: a positive signal, never a fixed sleep."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if pred(self.snapshot()):
                return True
            await asyncio.sleep(0.02)
        return f"timeout waiting for {what}"


class Datagrams:
    """A UDP listener that records what it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            d, _ = self.sock.recvfrom(2048)
            self.got.append(d.decode(errors="replace"))


async def wait_until(pred, what):
    """Waits (bounded) until `pred()` holds: a positive signal, never a fixed sleep."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(0.02)
    return f"timeout waiting for {what}"


def audit_has(path, pred):
    try:
        with open(path) as f:
            return any(pred(json.loads(line)) for line in f if line.strip())
    except OSError:
        return False


class Origin(http.server.ThreadingHTTPServer):
    """An HTTP listener that records each request's path (after LATENCY seconds, answers)."""

    def __init__(self, host, latency=0.0):
        self.paths = []
        self.latency = latency
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                origin.paths.append(self.path)
                time.sleep(origin.latency)
                body = f"hello from {host}".encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        super().__init__((host, 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


def jit_off():
    return "--jit" in sys.argv and sys.argv[sys.argv.index("--jit") + 1] == "off"


async def step(out, name, coro, timeout=TIMEOUT):
    start = time.monotonic()
    try:
        out[name] = {"ok": await asyncio.wait_for(coro, timeout)}
    except asyncio.TimeoutError:
        out[name] = {"timeout": True}
    except Exception as e:
        out[name] = {"other": f"{type(e).__name__}: {e}"}
    out[name]["seconds"] = round(time.monotonic() - start, 3)
    return out[name].get("ok")


async def call(session, tool, args=None):
    r = await session.call_tool(tool, args or {})
    text = "".join(getattr(c, "text", "") for c in r.content)
    return {"error": text} if r.is_error else text


async def order(shared, n, what):
    """Tells the server's background thread to do `what` now; waits (bounded) for its result."""
    # Written aside and renamed: the server's thread polls for the name and must never read
    # it empty.
    with open(os.path.join(shared, f"go-{n}.tmp"), "w") as f:
        f.write(what)
    os.rename(os.path.join(shared, f"go-{n}.tmp"), os.path.join(shared, f"go-{n}"))
    path = os.path.join(shared, f"result-{n}")
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return "timeout"
        await asyncio.sleep(0.02)
    with open(path) as f:
        return f.read()


async def window(session, out, listener, shared, datagrams, audit):
    out["startup"] = await call(session, "startup")
    out["after_startup"] = listener.count()
    out["probe"] = await call(session, "probe")
    out["after_probe"] = listener.count()
    # Between calls: the reply above was relayed, so the window is closed now.
    out["between"] = await order(shared, 1, "connect")
    out["after_between"] = listener.count()
    out["hold"] = await call(session, "hold")
    held = listener.count() - 1
    out["held_index"] = held
    # With --jit on the held connection is cut when the call's window closes: the listener sees
    # its end. With --jit off it stays, and what the server sends on it arrives.
    if jit_off():
        out["send_held"] = await order(shared, 2, "send-held")
        out["held_wait"] = await listener.wait_for(lambda c: "still here" in c[held]["data"], "the held data")
    else:
        out["held_wait"] = await listener.wait_for(lambda c: c[held]["ended"] is not None, "the held end")
        out["send_held"] = await order(shared, 2, "send-held")
    out["listener"] = listener.snapshot()
    # Fire and forget: each call sends and returns at once; what it sent arrives all the same.
    texts = [f"post {i};" for i in range(5)]
    out["posts"] = [await call(session, "post", {"text": t}) for t in texts]
    out["posts_wait"] = await listener.wait_for(
        lambda c: all(any(t in x["data"] for x in c) for t in texts), "every posted text"
    )
    # UDP: a flow opened during a call, then the same socket between calls.
    out["udp_probe"] = await call(session, "udp_probe")
    out["udp_during"] = await wait_until(lambda: "during" in datagrams.got, "the datagram sent during the call")
    out["udp_between"] = await order(shared, 3, "udp")
    if jit_off():
        out["udp_between_wait"] = await wait_until(lambda: "between" in datagrams.got, "the datagram sent between calls")
    else:
        port = f"udp://127.0.0.1:{datagrams.port}"
        refused = lambda r: r.get("event") == "deny" and r.get("target") == port and "no tools/call" in r.get("reason", "")
        out["udp_between_wait"] = await wait_until(lambda: audit_has(audit, refused), "the refusal's audit record")
    out["datagrams"] = list(datagrams.got)


async def bind(session, out, origins):
    a, b, c = origins
    out["a"] = await call(session, "fetch", {"url": f"http://127.0.0.1:{a.port}/one"})
    out["a_and_b"] = await call(
        session, "fetch", {"url": f"http://127.0.0.1:{a.port}/two", "also": f"http://127.0.0.1:{b.port}/two"}
    )
    out["b"] = await call(session, "fetch", {"url": f"http://127.0.0.1:{b.port}/three"})
    out["c"] = await call(session, "fetch", {"url": f"http://127.0.0.2:{c.port}/four"})
    out["paths"] = {"a": a.paths, "b": b.paths, "c": c.paths}


async def session_run(session, out, origin, n, think):
    results = []
    for i in range(n):
        await asyncio.sleep(think)
        results.append(await call(session, "fetch", {"url": f"http://127.0.0.1:{origin.port}/page-{i}"}))
    out["results"] = results
    out["paths"] = origin.paths


async def main(mode, rest):
    out = {}
    listener = Listener()
    datagrams = Datagrams()
    shared = tempfile.mkdtemp(prefix="jit-")
    os.chmod(shared, 0o777)
    latency = 0.0
    if mode == "session":
        n, think, latency = int(rest[0]), float(rest[1]), float(rest[2])
        rest = rest[3:]
    origins = [Origin("127.0.0.1", latency), Origin("127.0.0.1"), Origin("127.0.0.2")]
    subs = {"{PORT}": listener.port, "{UPORT}": datagrams.port, "{DIR}": shared, "{A}": origins[0].port, "{B}": origins[1].port, "{C}": origins[2].port}
    args = []
    for a in rest[1:]:
        for k, v in subs.items():
            a = a.replace(k, str(v))
        args.append(a)
    params = StdioServerParameters(command=rest[0], args=["proxy", *args])
    start = time.monotonic()
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            if not await step(out, "initialize", session.initialize()):
                return out
            await step(out, "list", session.list_tools())
            out.pop("list", None)
            if mode == "window":
                audit = args[args.index("--audit") + 1] if "--audit" in args else ""
                await step(out, "scenario", window(session, out, listener, shared, datagrams, audit), 5 * TIMEOUT)
            elif mode == "bind":
                await step(out, "scenario", bind(session, out, origins), 5 * TIMEOUT)
            else:
                TIMEOUT_ALL = n * (think + latency + 10)
                try:
                    await asyncio.wait_for(session_run(session, out, origins[0], n, think), TIMEOUT_ALL)
                    out["scenario"] = {"ok": True}
                except asyncio.TimeoutError:
                    out["scenario"] = {"timeout": True}
    out["wall"] = round(time.monotonic() - start, 3)
    out.pop("initialize", None) if out.get("initialize", {}).get("ok") else None
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2:]))
    print(json.dumps(result, default=str))
