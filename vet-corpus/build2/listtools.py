#!/usr/bin/env python3
"""Minimal stdio MCP client: initialize + tools/list (all pages).
usage: listtools.py OUT.json TIMEOUT CMD...   writes {"serverInfo", "protocolVersion", "tools"} to OUT.json"""
import json, os, select, signal, subprocess, sys, time

def main():
    out = sys.argv[1]; timeout = float(sys.argv[2]); cmd = sys.argv[3:]
    errf = open(out + ".stderr", "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf, start_new_session=True)
    buf = b""
    def send(o):
        p.stdin.write((json.dumps(o) + "\n").encode()); p.stdin.flush()
    def recv(want_id, deadline):
        nonlocal buf
        while time.time() < deadline:
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.strip()
                if not line: continue
                try: m = json.loads(line)
                except Exception: continue
                if not isinstance(m, dict): continue
                if m.get("id") == want_id and ("result" in m or "error" in m):
                    return m
                if "method" in m and "id" in m:
                    send({"jsonrpc": "2.0", "id": m["id"], "result": {"roots": []} if m["method"] == "roots/list" else {}})
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                chunk = os.read(p.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise RuntimeError("server closed stdout")
                buf += chunk
            elif p.poll() is not None:
                raise RuntimeError(f"server exited {p.returncode}")
        raise RuntimeError("timeout")
    rc = 0
    try:
        deadline = time.time() + timeout
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {"roots": {"listChanged": False}}, "clientInfo": {"name": "vet-corpus2-harvest", "version": "0.1"}}})
        init = recv(1, deadline)
        if "error" in init: raise RuntimeError("initialize error: " + json.dumps(init["error"]))
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        time.sleep(0.3)
        tools, cursor, i = [], None, 2
        while True:
            send({"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": ({"cursor": cursor} if cursor else {})})
            m = recv(i, deadline); i += 1
            if "error" in m: raise RuntimeError("tools/list error: " + json.dumps(m["error"]))
            tools += m["result"].get("tools", [])
            cursor = m["result"].get("nextCursor")
            if not cursor or i > 50: break
        json.dump({"serverInfo": init["result"].get("serverInfo"), "protocolVersion": init["result"].get("protocolVersion"), "tools": tools}, open(out, "w"), ensure_ascii=False)
        print(f"{out}: {len(tools)} tools")
    except Exception as e:
        print(f"{out}: FAILED {e}"); rc = 1
    finally:
        try: os.killpg(p.pid, signal.SIGTERM)
        except Exception: pass
        try: p.wait(5)
        except Exception:
            try: os.killpg(p.pid, signal.SIGKILL)
            except Exception: pass
    return rc

if __name__ == "__main__":
    sys.exit(main())
