"""Minimal stdlib MCP stdio client: initialize + tools/list (with pagination). Prints JSON {tools, serverInfo}."""
import json, subprocess, sys, os, select, time

def rpc_session(cmd, env=None, cwd=None, timeout=60):
    e = dict(os.environ); e.update(env or {})
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=cwd)
    buf = b""
    def send(obj):
        p.stdin.write((json.dumps(obj) + "\n").encode()); p.stdin.flush()
    def recv(want_id):
        nonlocal buf
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.strip()
                if not line: continue
                try: msg = json.loads(line)
                except Exception: continue
                if msg.get("id") == want_id: return msg
                if "method" in msg and "id" in msg:  # server request (e.g. roots/list)
                    if msg["method"] == "roots/list":
                        send({"jsonrpc": "2.0", "id": msg["id"], "result": {"roots": []}})
                    else:
                        send({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "nope"}})
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                chunk = os.read(p.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise RuntimeError("server closed stdout; stderr: " + p.stderr.read().decode(errors="replace")[-2000:])
                buf += chunk
        raise TimeoutError("no answer for id %s" % want_id)
    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "vet-corpus-harvest", "version": "0.1"}}})
        init = recv(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        tools = []; cursor = None; i = 2
        while True:
            params = {"cursor": cursor} if cursor else {}
            send({"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": params})
            r = recv(i); i += 1
            if "error" in r: raise RuntimeError(json.dumps(r["error"]))
            tools += r["result"].get("tools", [])
            cursor = r["result"].get("nextCursor")
            if not cursor: break
        return {"serverInfo": init.get("result", {}).get("serverInfo"), "protocolVersion": init.get("result", {}).get("protocolVersion"), "tools": tools}
    finally:
        try: p.kill()
        except Exception: pass

if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    out = rpc_session(spec["cmd"], spec.get("env"), spec.get("cwd"), spec.get("timeout", 60))
    print(json.dumps(out, ensure_ascii=False))
