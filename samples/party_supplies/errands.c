/*
 * errands.c — the "party supplies" fan-out from the Go context literature, host side.
 *
 * The story (told in Go tutorials on context cancellation, e.g. "Go's context: one
 * goroutine cancels, all goroutines stop"): the family splits up to fetch supplies for a
 * party, each from a different shop. Then the party is called off. One cancel() on the
 * shared parent context reaches everyone; nobody has to be told individually, and every
 * errand stops at once instead of waiting for a slow shop.
 *
 * Here: main() derives `party` from ctx_background(), starts one thread per supply, waits
 * until every errand is out on the road, calls ctx_cancel(party) once, joins the threads
 * and checks that every errand on the road stopped with "context canceled". Each errand
 * derives its own order context from the party (ctx_with_timeout) in run_errand(), which
 * is the part that differs between party_fixed.c and party_leaky.c.
 *
 * What to look at: the single ctx_cancel() in main(), and the two ways the errands wait
 * for slow I/O in wait_for_delivery() — blocking in ctx_wait(), or poll() on ctx_fd()
 * together with another fd, the way an event loop would.
 *
 * Exit status: 0 when every errand ended as intended, 1 otherwise.
 */
#define _GNU_SOURCE
#include "errands.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "err_text.h"

/* Nothing arrives before the party is called off: deliveries take far longer. */
static const struct supply supplies[] = {
    {.name = "balloons", .shops = 3, .delivery = 60 * CTX_SECOND},
    {.name = "cake", .shops = 2, .event_loop = true, .delivery = 90 * CTX_SECOND},
    {.name = "music", .shops = 1, .delivery = 45 * CTX_SECOND},
    {.name = "snacks", .shops = 3, .event_loop = true, .delivery = 75 * CTX_SECOND},
    {.name = "napkins", .in_cupboard = true},
};
#define NSUPPLIES (sizeof supplies / sizeof supplies[0])

/* main() waits here until every errand is on the road (or already finished), so the
 * party is called off at the same point of every run. */
static pthread_barrier_t everyone_out;

static void errand_settled(struct errand *e)
{
    if (!e->settled) {
        e->settled = true;
        pthread_barrier_wait(&everyone_out);
    }
}

int ask_for_quote(ctx_t *call)
{
    /* A blocking call that takes QUOTE_LATENCY unless `call` is done first. */
    return ctx_wait(call, QUOTE_LATENCY) == ETIMEDOUT ? 0 : ctx_err(call);
}

/* The delivery van, as an fd: a timerfd that becomes readable when the goods arrive. */
static int delivery_van(int64_t delivery)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd < 0)
        return -1;
    struct itimerspec when = {
        .it_value = {.tv_sec = delivery / CTX_SECOND, .tv_nsec = delivery % CTX_SECOND},
    };
    if (timerfd_settime(fd, 0, &when, NULL) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Go's
 *     select {
 *     case <-van:        return nil
 *     case <-ctx.Done(): return ctx.Err()
 *     }
 * with poll(): ctx_fd() is readable once the context is done. */
static int poll_for_delivery(ctx_t *order, int64_t delivery)
{
    int done_fd = ctx_fd(order);
    int van_fd = delivery_van(delivery);
    if (done_fd < 0 || van_fd < 0) {
        int err = errno;
        if (van_fd >= 0)
            close(van_fd);
        return err;
    }
    struct pollfd fds[2] = {{.fd = van_fd, .events = POLLIN}, {.fd = done_fd, .events = POLLIN}};
    int n;
    do {
        n = poll(fds, 2, -1);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(van_fd); /* ours; done_fd belongs to the context and is never closed */
    if (err != 0)
        return err;
    /* Both ready: the order ending wins, as it would for a careful Go select. */
    return (fds[1].revents & POLLIN) ? ctx_err(order) : 0;
}

int wait_for_delivery(struct errand *e, ctx_t *order)
{
    errand_settled(e);
    int err;
    if (e->supply->event_loop)
        err = poll_for_delivery(order, e->supply->delivery);
    else /* ctx_wait() gives ETIMEDOUT when `delivery` passed first: the goods arrived */
        err = ctx_wait(order, e->supply->delivery) == ETIMEDOUT ? 0 : ctx_err(order);
    e->stopped_ns = ctx_now();
    return err;
}

static void *errand_thread(void *arg)
{
    struct errand *e = arg;
    run_errand(e);
    errand_settled(e); /* errands that never went out (or failed) still check in */
    return NULL;
}

int main(void)
{
    struct errand errands[NSUPPLIES];
    pthread_t threads[NSUPPLIES];

    ctx_t *party = ctx_with_cancel(ctx_background());
    if (party == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }
    pthread_barrier_init(&everyone_out, NULL, NSUPPLIES + 1);

    for (size_t i = 0; i < NSUPPLIES; i++) {
        errands[i] = (struct errand){.party = party, .supply = &supplies[i]};
        int rc = pthread_create(&threads[i], NULL, errand_thread, &errands[i]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }

    pthread_barrier_wait(&everyone_out);
    printf("party: %zu errands sent out; the party is off, cancelling\n", NSUPPLIES);
    int64_t cancelled_ns = ctx_now();
    ctx_cancel(party); /* the one cancel: every order derived from the party is now done */

    for (size_t i = 0; i < NSUPPLIES; i++)
        pthread_join(threads[i], NULL);

    int on_the_road = 0, stopped = 0;
    bool ok = true;
    for (size_t i = 0; i < NSUPPLIES; i++) {
        const struct errand *e = &errands[i];
        if (e->found_at_home) {
            printf("  %-8s already in the cupboard\n", e->supply->name);
            continue;
        }
        on_the_road++;
        printf("  %-8s %d quote%s, then stopped %.3f ms after the cancel: %s (cause: %s)\n",
               e->supply->name, e->quotes, e->quotes == 1 ? "" : "s",
               (double)(e->stopped_ns - cancelled_ns) / CTX_MILLISECOND, err_text(e->err),
               err_text(e->cause));
        if (e->err == CTX_CANCELED && e->cause == CTX_CANCELED)
            stopped++;
        else
            ok = false;
    }
    pthread_barrier_destroy(&everyone_out);
    ctx_release(party);

    if (!ok) {
        printf("party: only %d of %d errands on the road stopped with \"context canceled\"\n",
               stopped, on_the_road);
        return 1;
    }
    printf("party: all %d errands on the road stopped with \"context canceled\"\n", stopped);
    return 0;
}
