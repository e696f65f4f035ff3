/*
 * hostile_server.c — a live server gone bad, for the client side of the socket
 * (faults_test.py runs `ctxtrace tail` against it).
 *
 *     hostile_server SOCKET MODE [N]
 *
 * Listens on SOCKET, accepts one client, sends a valid HELLO, then:
 *   sites    distinct SITE frames, each with the longest strings the wire allows,
 *            until the client goes away (or N frames, by default 400,000: ~3 GB if
 *            all were kept),
 *            then BYE
 *   garbage  bytes that are no frame at all
 * and exits 0 when the client has gone (or the frames are sent).
 */
#include <ctxtrace/core/wire.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: hostile_server SOCKET sites|garbage [N]\n");
        return 2;
    }
    unsigned long long frames = argc == 4 ? strtoull(argv[3], NULL, 10) : 400000;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1) != 0) {
        perror(argv[1]);
        return 2;
    }
    printf("listening\n");
    fflush(stdout);
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
        return 2;
    static uint8_t frame[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = {CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION,
                                                       (uint32_t)getpid(), 1, "hostile"}};
    if (!send_all(fd, frame, ct_wire_encode(&m, frame, sizeof frame)))
        return 0;
    if (strcmp(argv[2], "garbage") == 0) {
        memset(frame, 0xA5, sizeof frame);
        send_all(fd, frame, sizeof frame);
    } else {
        /* Strings of the longest allowed length, made distinct by their first bytes. */
        static char function[CT_WIRE_MAX_STRING], file[CT_WIRE_MAX_STRING];
        memset(function, 'f', sizeof function - 1);
        memset(file, 'g', sizeof file - 1);
        for (uint64_t i = 1; i <= frames; i++) {
            snprintf(function, 17, "%016llx", (unsigned long long)i);
            function[16] = 'f';
            m = (struct ct_wire_msg){CT_WIRE_SITE, .u.site = {i, 1, "hostile.so", function, file}};
            if (!send_all(fd, frame, ct_wire_encode(&m, frame, sizeof frame)))
                break;
        }
        m = (struct ct_wire_msg){CT_WIRE_BYE, .u.bye = {CT_WIRE_BYE_EXIT, "flood over"}};
        send_all(fd, frame, ct_wire_encode(&m, frame, sizeof frame));
    }
    close(fd);
    unlink(argv[1]);
    return 0;
}
