/* A hostile tool for tests/redteam_unix.rs: races `connect` against the supervisor's look at
 * it. One thread calls connect(50, addr) with descriptor 50 a TCP socket and addr a loopback
 * address (what the supervisor may let through); another keeps putting a unix socket at 50
 * (dup2) and the unix socket path argv[1] in addr, and back. If the kernel ever connects the
 * unix socket to argv[1], "RACED" is written to it. argv[2]: attempts (default 20000).
 * Prints "WON at N" or "lost". With argv[2] "direct", it connects a unix socket to argv[1] and
 * writes "RACED" without racing (the positive control: unconfined, that reaches the daemon). */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static union {
    struct sockaddr_in in;
    struct sockaddr_un un;
    char raw[sizeof(struct sockaddr_un)];
} addr;
static const char *path;
static volatile int stop;
static int usock = -1, isock = -1;

static void set_inet(void) {
    struct sockaddr_in i = {.sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(0x7f000001)};
    memset(&addr, 0, sizeof addr);
    memcpy(&addr, &i, sizeof i);
}

static void *flip(void *unused) {
    (void)unused;
    while (!stop) {
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        strncpy(u.sun_path, path, sizeof u.sun_path - 1);
        memcpy(&addr, &u, sizeof u);
        dup2(usock, 50);
        /* Both unix for a while: the moment a look-then-proceed supervisor lets through. */
        for (volatile int i = 0; i < 2000; i++) {
        }
        set_inet();
        dup2(isock, 50);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    path = argv[1];
    if (argc > 2 && strcmp(argv[2], "direct") == 0) {
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        strncpy(u.sun_path, path, sizeof u.sun_path - 1);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&u, sizeof u) == 0 && write(s, "RACED\n", 6) == 6) {
            printf("WON directly\n");
            return 0;
        }
        printf("lost\n");
        return 1;
    }
    int attempts = argc > 2 ? atoi(argv[2]) : 20000;
    for (int k = 0; k < attempts; k++) {
        usock = socket(AF_UNIX, SOCK_STREAM, 0);
        isock = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in i = {.sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(0x7f000001)};
        memcpy(&addr, &i, sizeof i);
        dup2(isock, 50);
        stop = 0;
        pthread_t t;
        pthread_create(&t, NULL, flip, NULL);
        int r = connect(50, (struct sockaddr *)&addr, sizeof addr);
        stop = 1;
        pthread_join(t, NULL);
        if (r == 0 || write(usock, "RACED\n", 6) == 6) {
            if (write(usock, "RACED\n", 6) == 6) {
                printf("WON at %d\n", k);
                return 0;
            }
        }
        close(usock);
        close(isock);
    }
    printf("lost\n");
    return 1;
}
