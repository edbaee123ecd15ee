#!/usr/bin/env python3
"""Writes deploy/seccomp.json: a container engine's default seccomp profile plus exactly the
calls mcp-sandbox's native sandbox needs, each entry carrying its reason in `comment`.

    deploy/seccomp.py [--base PROFILE] [--without NAME]... [--check] [-o OUT]

--base     the engine's default profile (default: containers-common's, as Debian's podman
           installs it at /usr/share/containers/seccomp.json; Docker's profiles/seccomp/default.json
           has the same format)
--without  leave this addition out (to see that the sandbox then fails: each one is needed)
--check    exit 1 if OUT differs from what would be written (CI: the file is not edited by hand)

The base is flattened for a container without capabilities (the image runs as uid 10001; the
Kubernetes manifests drop ALL): a rule an engine applies only when the container holds a
capability is dropped, a rule it applies only when it does not is kept unconditionally. The
result has no `includes`/`excludes`, so Docker, podman, CRI-O and containerd (which reads the
OCI runtime-spec form for Kubernetes' `Localhost` profiles) all read it the same way.
"""

import argparse
import json
import sys

# What the sandbox calls that an engine's default may refuse, with why (the init stages are
# runtime/src/native/init.rs; the root is built in runtime/src/native/mounts.rs).
NEEDED = [
    (["unshare"], "stage 1 makes the sandbox's user, mount, PID, network, IPC, UTS and cgroup "
     "namespaces (native/sys.rs unshare_all); Docker's default allows it only with CAP_SYS_ADMIN"),
    (["sethostname"], "PID 1 names its own UTS namespace `sandbox` (native/init.rs), so the "
     "tool never sees the host's name; engines allow it only with CAP_SYS_ADMIN"),
    (["mount", "umount2", "pivot_root"], "PID 1 builds the tool's root inside its own mount "
     "namespace: tmpfs, /proc, read-only remounts of the system view, then pivot_root and "
     "detaching the old root (native/mounts.rs)"),
    (["open_tree", "move_mount", "mount_setattr"], "granted paths are cloned from the descriptor "
     "their check opened (no second look-up by name), idmapped where possible, and attached "
     "(native/mounts.rs, native/identity.rs, policy/path.rs)"),
    (["landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"], "the Landlock "
     "layer: the probe for ABI 6 and the tool's filesystem, TCP and scope rules (native/landlock.rs)"),
    (["seccomp"], "the tool's own allowlist, installed with a user-notification listener that the "
     "supervisor audits refusals through (native/sys.rs install_filter_with_listener)"),
]

NO_CAPS = set()


def flatten(base):
    """The base's rules as they apply to a container holding no capabilities."""
    out = []
    for rule in base["syscalls"]:
        inc = rule.get("includes") or {}
        exc = rule.get("excludes") or {}
        if set(inc.get("caps", [])) - NO_CAPS:
            continue  # only for a container holding these capabilities
        if set(exc.get("caps", [])) & NO_CAPS:
            continue
        rule = {k: v for k, v in rule.items() if k not in ("includes", "excludes") and v not in ("", None, [], {})}
        if inc.get("arches"):
            # Names of other architectures' calls are ignored by runc and crun where unknown.
            rule["comment"] = (rule.get("comment", "") + " (only on " + ", ".join(inc["arches"]) + ")").strip()
        out.append(rule)
    return out


def unconditionally_allowed(rules, name):
    return any(
        name in r["names"] and r["action"] == "SCMP_ACT_ALLOW" and not r.get("args") for r in rules
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="/usr/share/containers/seccomp.json")
    ap.add_argument("--without", action="append", default=[])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("-o", "--out", default="deploy/seccomp.json")
    a = ap.parse_args()
    with open(a.base) as f:
        base = json.load(f)
    rules = flatten(base)
    added, present = [], []
    for names, reason in NEEDED:
        missing = [n for n in names if n not in a.without and not unconditionally_allowed(rules, n)]
        present += [n for n in names if n not in missing and n not in a.without]
        if missing:
            added.append({"names": missing, "action": "SCMP_ACT_ALLOW", "comment": "mcp-sandbox: " + reason})
    # A rule of the base refusing an added call (podman's EPERM for sethostname without
    # CAP_SYS_ADMIN) would conflict with the addition: the call leaves that rule.
    allowed = {n for r in added for n in r["names"]}
    for r in rules:
        if r["action"] != "SCMP_ACT_ALLOW" and allowed & set(r["names"]):
            r["names"] = [n for n in r["names"] if n not in allowed]
    rules = [r for r in rules if r["names"]]
    profile = {
        "comment": "mcp-sandbox: the engine's default profile (" + a.base + ", flattened for a "
        "container without capabilities) plus the calls the native sandbox needs, each with its "
        "reason; made by deploy/seccomp.py, not edited by hand. Already in the default: "
        + ", ".join(present) + ".",
        "defaultAction": base["defaultAction"],
        "defaultErrnoRet": base.get("defaultErrnoRet", 1),
        # Docker, podman and CRI-O take the host's entry of the map; containerd, which reads
        # the OCI form, ignores it and filters the host's native architecture only.
        **({"archMap": base["archMap"]} if base.get("archMap") else {"architectures": base.get("architectures", [])}),
        "syscalls": added + rules,
    }
    text = json.dumps(profile, indent=2) + "\n"
    if a.check:
        with open(a.out) as f:
            if f.read() != text:
                print(f"{a.out} is not what deploy/seccomp.py writes: run deploy/seccomp.py", file=sys.stderr)
                return 1
        return 0
    with open(a.out, "w") as f:
        f.write(text)
    print(f"{a.out}: added {', '.join(n for r in added for n in r['names']) or 'nothing'}; "
          f"already allowed: {', '.join(present)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
