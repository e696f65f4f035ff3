/*
 * kitchen.c — the kitchen sink: every part of <ctxtrace/ctx.h>, used correctly
 * (sample_kitchen_sink).
 *
 * Scenario: one evening of a restaurant kitchen. Each part of the evening exercises a
 * part of the API the way a correct program uses it, and checks that the library did
 * what ctx.h promises:
 *
 *   oven        timeouts that really fire while their owner holds them (ctx_wait,
 *               poll(ctx_fd)), then released (CTX_AUTO) or, being done already, merely
 *               unreferenced; ctx_with_deadline in the past (born done); ctx_deadline.
 *   course      a fan-out: four dishes derived from one course, one of them with its
 *               own 10 s timer; ctx_cancel_cause() of the course stops them all (a
 *               thread in ctx_wait, a thread in poll(ctx_fd), a ctx_is_done check, the
 *               timer). The dishes, cancelled by their parent, are then merely
 *               ctx_unref'd: there is nothing left to cancel. A dish ordered after the
 *               cancel is born done.
 *   tab         ctx_after_func: a receipt printed when the tab is closed, a coupon
 *               callback stopped in time (ctx_after_stop), a callback registered after
 *               the close runs at once.
 *   dishwasher  fire-and-forget work: ctx_without_cancel() of the order keeps its
 *               values but not its cancellation, with its own ctx_with_timeout budget;
 *               it runs on after the order is released, and releases its own context.
 *   pass        ctx_group (errgroup): the first failing station cancels its siblings
 *               with its error as the cause; a second group where every station
 *               succeeds.
 *   cooks       one root per worker thread: each cook derives its shift once from
 *               ctx_background() and its tickets from the shift (CTX_AUTO).
 *   values      ctx_with_value with destructors, looked up across threads and through
 *               ctx_without_cancel; every destructor runs once the last context using
 *               the value is freed.
 *   closing     ctx_cancel_cause() of the service: an ctx_after_func registered at
 *               opening turns the lights off.
 *
 * Under `ctxtrace run` this program has no findings at all (tests/findings): every
 * cancellable context is cancelled by its owner or by an ancestor before its last
 * reference goes, every timer is either fired or stopped, every wait ends, the only
 * derivations from a root are the service and one per cook.
 *
 * Exit status: 0 when every check held (each failed check is printed); 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ctxtrace/ctx.h>

#include "err_text.h"

static atomic_int failures;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            atomic_fetch_add(&failures, 1);                                               \
            fprintf(stderr, "kitchen: check failed at %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                               \
        }                                                                                 \
    } while (0)

#define BAKE_TIME (30 * CTX_MILLISECOND)
#define PROOF_TIME (20 * CTX_MILLISECOND)
#define DISH_TIMER (10 * CTX_SECOND)
#define WASH_BUDGET (2 * CTX_SECOND)
#define WASH_STEP (1 * CTX_MILLISECOND)
#define WASH_STEPS 10
#define STATION_FAILS_AFTER (10 * CTX_MILLISECOND)
#define SHIFT_LENGTH (10 * CTX_SECOND)
#define TICKET_TIME (1 * CTX_SECOND)
#define PREP_TIME (2 * CTX_MILLISECOND)
#define NCOOKS 4
#define TICKETS_PER_COOK 5
#define TABLE_LEFT "table 7 walked out"
#define CLOSING "closing time"

/* Value keys: compared by address. */
static const char kitchen_key, order_key, cook_key;

/* ---- one-shot events between threads ---------------------------------------------- */

struct event {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
};
#define EVENT_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

static void event_add(struct event *e)
{
    pthread_mutex_lock(&e->mu);
    e->count++;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static int event_count(struct event *e)
{
    pthread_mutex_lock(&e->mu);
    int n = e->count;
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* Wait until e->count >= n, for at most 2 s (a safety net: every event awaited here
 * is certain to happen). Returns whether it did. */
static bool event_wait(struct event *e, int n)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 2;
    pthread_mutex_lock(&e->mu);
    int rc = 0;
    while (e->count < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&e->cv, &e->mu, &limit);
    bool ok = e->count >= n;
    pthread_mutex_unlock(&e->mu);
    return ok;
}

/* ---- values with destructors ------------------------------------------------------- */

/* The labels: the kitchen's name, the order's id, one name per cook. */
#define LABELS (2 + NCOOKS)
static struct event labels_freed = EVENT_INIT;

static char *new_label(const char *text)
{
    char *label = strdup(text);
    CHECK(label != NULL);
    return label;
}

static void free_label(void *label)
{
    free(label);
    event_add(&labels_freed);
}

static int64_t ms(int64_t ns)
{
    return ns / CTX_MILLISECOND;
}

static int poll_ready(struct pollfd *fds, nfds_t n)
{
    int rc;
    do
        rc = poll(fds, n, 5000);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* ---- oven: timeouts that fire ------------------------------------------------------ */

static void oven(ctx_t *kitchen)
{
    int64_t start = ctx_now();
    CTX_AUTO ctx_t *bake = ctx_with_timeout(kitchen, BAKE_TIME);
    int64_t deadline = 0;
    CHECK(ctx_deadline(bake, &deadline) && deadline >= start + BAKE_TIME);
    CHECK(!ctx_deadline(kitchen, NULL)); /* the service has no deadline */
    CHECK(ctx_wait(bake, -1) == 0);      /* blocks until the timer fires */
    int64_t baked = ctx_now() - start;
    CHECK(ctx_err(bake) == CTX_DEADLINE_EXCEEDED && baked >= BAKE_TIME);
    printf("oven: the bake timer fired after %lld ms: %s\n", (long long)ms(baked),
           err_text(ctx_err(bake)));
    /* The timer fired while we held `bake`: CTX_AUTO releasing it now is no leak. */

    ctx_t *proof = ctx_with_deadline(kitchen, ctx_now() + PROOF_TIME);
    struct pollfd p = {.fd = ctx_fd(proof), .events = POLLIN};
    CHECK(p.fd >= 0);
    CHECK(poll_ready(&p, 1) == 1 && (p.revents & POLLIN));
    CHECK(ctx_is_done(proof) && ctx_err(proof) == CTX_DEADLINE_EXCEEDED);
    printf("oven: the proofing deadline woke poll(ctx_fd): %s\n", err_text(ctx_err(proof)));
    /* Done by its own deadline while we held it: nothing is left to cancel, so merely
     * dropping the reference is enough (and no orphaned timer: it already fired). */
    ctx_unref(proof);

    /* A ticket already past its deadline is done at birth (no timer). */
    CTX_AUTO ctx_t *late = ctx_with_deadline(kitchen, ctx_now() - CTX_MILLISECOND);
    CHECK(ctx_is_done(late) && ctx_err(late) == CTX_DEADLINE_EXCEEDED);
    CHECK(ctx_wait(late, 0) == 0);
    printf("oven: a ticket already past its deadline was done at birth: %s\n",
           err_text(ctx_err(late)));
}

/* ---- course: a fan-out cancelled at its root ---------------------------------------- */

struct runner {
    ctx_t *dish; /* a reference of the runner's own (ctx_ref), dropped when it returns */
    bool use_fd;
    int err, cause;
    struct event *ready;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    event_add(r->ready);
    if (r->use_fd) {
        /* Wait for the dish or for a message on a pipe nobody writes to: a poller's
         * usual shape. */
        int pipefd[2];
        CHECK(pipe(pipefd) == 0);
        struct pollfd fds[2] = {{.fd = ctx_fd(r->dish), .events = POLLIN},
                                {.fd = pipefd[0], .events = POLLIN}};
        CHECK(fds[0].fd >= 0);
        CHECK(poll_ready(fds, 2) == 1 && (fds[0].revents & POLLIN));
        close(pipefd[0]);
        close(pipefd[1]);
    } else {
        CHECK(ctx_wait(r->dish, -1) == 0);
    }
    r->err = ctx_err(r->dish);
    r->cause = ctx_cause(r->dish, NULL);
    ctx_unref(r->dish); /* the owner (main) still holds the dish */
    return NULL;
}

static void course(ctx_t *kitchen)
{
    ctx_t *course = ctx_with_cancel(kitchen);
    ctx_t *dishes[4];
    for (int i = 0; i < 3; i++)
        dishes[i] = ctx_with_cancel(course);
    dishes[3] = ctx_with_timeout(course, DISH_TIMER); /* its timer: stopped by the cancel */

    struct event ready = EVENT_INIT;
    struct runner runners[2] = {{.dish = ctx_ref(dishes[0]), .ready = &ready},
                                {.dish = ctx_ref(dishes[1]), .use_fd = true, .ready = &ready}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&threads[i], NULL, runner_main, &runners[i]) == 0);
    CHECK(event_wait(&ready, 2));
    CHECK(!ctx_is_done(dishes[2]) && ctx_err(dishes[3]) == 0);

    ctx_cancel_cause(course, ECONNRESET, TABLE_LEFT);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    int stopped = 0;
    for (int i = 0; i < 2; i++)
        stopped += runners[i].err == CTX_CANCELED && runners[i].cause == ECONNRESET;
    const char *reason = NULL;
    for (int i = 2; i < 4; i++) {
        stopped += ctx_is_done(dishes[i]) && ctx_err(dishes[i]) == CTX_CANCELED &&
                   ctx_cause(dishes[i], &reason) == ECONNRESET && reason != NULL &&
                   strcmp(reason, TABLE_LEFT) == 0;
    }
    CHECK(stopped == 4);
    printf("course: %s: %d dishes stopped (ctx_wait, poll, ctx_is_done, timer): %s (cause: "
           "%s, \"%s\")\n",
           TABLE_LEFT, stopped, err_text(ctx_err(dishes[3])),
           err_text(ctx_cause(dishes[3], NULL)), reason ? reason : "?");

    /* Ordered after the table left: born done, with the course's cause. */
    ctx_t *dessert = ctx_with_cancel(course);
    CHECK(ctx_is_done(dessert) && ctx_cause(dessert, NULL) == ECONNRESET);
    printf("course: a dish ordered afterwards was born done: %s\n",
           err_text(ctx_cause(dessert, NULL)));

    /* Every dish was cancelled by its parent: dropping the references is all that is
     * left to do — ctx_unref, not a lost cancel. */
    for (int i = 0; i < 4; i++)
        ctx_unref(dishes[i]);
    ctx_unref(dessert);
    ctx_unref(course); /* cancelled above: ctx_cancel_cause + ctx_unref is a release */
}

/* ---- tab: callbacks after done ------------------------------------------------------ */

static struct event receipts = EVENT_INIT, coupons = EVENT_INIT, late_calls = EVENT_INIT;

static void print_receipt(void *arg)
{
    event_add(arg);
}

static void tab(ctx_t *kitchen)
{
    ctx_t *tab = ctx_with_cancel(kitchen);
    ctx_after_t *receipt = ctx_after_func(tab, print_receipt, &receipts);
    ctx_after_t *coupon = ctx_after_func(tab, print_receipt, &coupons);
    CHECK(receipt != NULL && coupon != NULL);
    CHECK(ctx_after_stop(coupon));  /* changed our mind: it never runs */
    CHECK(!ctx_after_stop(coupon)); /* already stopped */
    ctx_cancel(tab);
    CHECK(event_wait(&receipts, 1));
    CHECK(!ctx_after_stop(receipt)); /* it already ran */
    CHECK(ctx_after_func(tab, print_receipt, &late_calls) != NULL); /* runs at once */
    CHECK(event_wait(&late_calls, 1));
    CHECK(event_count(&coupons) == 0);
    printf("tab: receipt printed after the close, coupon stopped before it, a late "
           "callback ran at once\n");
    ctx_releasep(&tab);
    CHECK(tab == NULL);
}

/* ---- dishwasher: work that outlives its request ------------------------------------- */

struct washer {
    ctx_t *job; /* owned by the washer, released when it is done */
    struct event request_over;
    pthread_t thread;
    int steps, err;
    bool saw_order;
};

static void *washer_main(void *arg)
{
    struct washer *w = arg;
    CHECK(event_wait(&w->request_over, 1));
    const char *order = ctx_value(w->job, &order_key); /* values survive without_cancel */
    w->saw_order = order != NULL && strcmp(order, "order-42") == 0;
    int64_t budget;
    CHECK(ctx_deadline(w->job, &budget) && budget > ctx_now());
    while (w->steps < WASH_STEPS && ctx_wait(w->job, WASH_STEP) == ETIMEDOUT)
        w->steps++;
    w->err = ctx_err(w->job);
    ctx_release(w->job);
    return NULL;
}

static void dishwasher_start(ctx_t *kitchen, struct washer *w)
{
    ctx_t *order = ctx_with_cancel(kitchen);
    ctx_t *tagged = ctx_with_value(order, &order_key, new_label("order-42"), free_label);
    /* Fire and forget: keep the order's values, not its cancellation; give the work a
     * budget of its own. */
    ctx_t *detached = ctx_without_cancel(tagged);
    CHECK(ctx_fd(detached) == -1 && errno == EINVAL); /* can never be done */
    CHECK(!ctx_deadline(detached, NULL));
    w->job = ctx_with_timeout(detached, WASH_BUDGET);
    ctx_unref(detached); /* the job holds its parent */
    CHECK(pthread_create(&w->thread, NULL, washer_main, w) == 0);

    /* The request is over. */
    ctx_unref(tagged);
    ctx_release(order);
    event_add(&w->request_over);
}

static void dishwasher_join(struct washer *w)
{
    pthread_join(w->thread, NULL);
    CHECK(w->steps == WASH_STEPS && w->err == 0 && w->saw_order);
    printf("dishwasher: order-42 washed in %d steps after its request ended: %s\n", w->steps,
           err_text(w->err));
}

/* ---- pass: ctx_group ---------------------------------------------------------------- */

enum station_kind { FAILS, WAITS, POLLS, SUCCEEDS };

struct station {
    enum station_kind kind;
    int err, cause;
};

static int station_main(ctx_t *ctx, void *arg)
{
    struct station *s = arg;
    switch (s->kind) {
    case FAILS:
        if (ctx_wait(ctx, STATION_FAILS_AFTER) == ETIMEDOUT)
            return ENODATA; /* out of fish */
        break;
    case WAITS:
        CHECK(ctx_wait(ctx, -1) == 0);
        break;
    case POLLS: {
        struct pollfd p = {.fd = ctx_fd(ctx), .events = POLLIN};
        CHECK(p.fd >= 0 && poll_ready(&p, 1) == 1);
        break;
    }
    case SUCCEEDS:
        return 0;
    }
    s->err = ctx_err(ctx);
    s->cause = ctx_cause(ctx, NULL);
    return s->err;
}

static void pass(ctx_t *kitchen)
{
    struct station fish = {FAILS, 0, 0}, salad = {WAITS, 0, 0}, dessert = {POLLS, 0, 0};
    ctx_group_t *g = ctx_group_new(kitchen);
    CHECK(g != NULL);
    /* Keep the group's context past ctx_group_wait to ask it why (ctx_ref). */
    ctx_t *gctx = ctx_ref(ctx_group_ctx(g));
    CHECK(ctx_group_go(g, station_main, &salad) == 0);
    CHECK(ctx_group_go(g, station_main, &dessert) == 0);
    CHECK(ctx_group_go(g, station_main, &fish) == 0);
    int rc = ctx_group_wait(g);
    CHECK(rc == ENODATA && ctx_cause(gctx, NULL) == ENODATA);
    CHECK(salad.err == CTX_CANCELED && salad.cause == ENODATA);
    CHECK(dessert.err == CTX_CANCELED && dessert.cause == ENODATA);
    printf("pass: the fish station failed (%s); salad and dessert stopped: %s (cause: %s)\n",
           err_text(rc), err_text(salad.err), err_text(salad.cause));
    ctx_unref(gctx); /* cancelled by ctx_group_wait */

    struct station ok[2] = {{SUCCEEDS, 0, 0}, {SUCCEEDS, 0, 0}};
    g = ctx_group_new(kitchen);
    CHECK(g != NULL);
    for (int i = 0; i < 2; i++)
        CHECK(ctx_group_go(g, station_main, &ok[i]) == 0);
    rc = ctx_group_wait(g);
    CHECK(rc == 0);
    printf("pass: a second round where every station succeeded: ctx_group_wait returned %d\n",
           rc);
}

/* ---- cooks: one root per worker thread ---------------------------------------------- */

struct cook {
    char name[24]; /* "cook-" and any int: no truncation at any -O level */
    pthread_t thread;
    int cooked;
};

static void *cook_main(void *arg)
{
    struct cook *c = arg;
    /* A worker thread starts its own tree: one derivation from the root per thread. */
    CTX_AUTO ctx_t *shift = ctx_with_timeout(ctx_background(), SHIFT_LENGTH);
    CTX_AUTO ctx_t *me = ctx_with_value(shift, &cook_key, new_label(c->name), free_label);
    for (int i = 0; i < TICKETS_PER_COOK; i++) {
        int64_t now = ctx_now(), due = 0;
        CTX_AUTO ctx_t *ticket = ctx_with_timeout(me, TICKET_TIME);
        /* Its own deadline: earlier than the shift's. */
        CHECK(ctx_deadline(ticket, &due) && due >= now + TICKET_TIME &&
              due < now + SHIFT_LENGTH);
        const char *who = ctx_value(ticket, &cook_key);
        CHECK(who != NULL && strcmp(who, c->name) == 0);
        CHECK(ctx_value(ticket, &order_key) == NULL);
        CHECK(ctx_wait(ticket, PREP_TIME) == ETIMEDOUT); /* the prep */
        c->cooked++;
    }
    return NULL;
}

static void cooks(void)
{
    static struct cook crew[NCOOKS];
    for (int i = 0; i < NCOOKS; i++) {
        snprintf(crew[i].name, sizeof crew[i].name, "cook-%d", i + 1);
        crew[i].cooked = 0;
    }
    for (int i = 0; i < NCOOKS; i++)
        CHECK(pthread_create(&crew[i].thread, NULL, cook_main, &crew[i]) == 0);
    int cooked = 0;
    for (int i = 0; i < NCOOKS; i++) {
        pthread_join(crew[i].thread, NULL);
        cooked += crew[i].cooked;
    }
    CHECK(cooked == NCOOKS * TICKETS_PER_COOK);
    printf("cooks: %d cooks, one root each, %d tickets cooked\n", NCOOKS, cooked);
}

/* ---- the evening ---------------------------------------------------------------------- */

static struct event lights = EVENT_INIT;

static void lights_off(void *arg)
{
    (void)arg;
    event_add(&lights);
}

static void evening(void)
{
    /* The roots: never done, no deadline, no values; their ref/cancel are no-ops. */
    ctx_t *todo = ctx_todo();
    CHECK(!ctx_is_done(todo) && !ctx_deadline(todo, NULL) && ctx_err(todo) == 0);
    CHECK(ctx_fd(todo) == -1 && errno == EINVAL);
    CHECK(ctx_value(ctx_background(), &kitchen_key) == NULL);
    CHECK(ctx_ref(ctx_background()) == ctx_background());

    CTX_AUTO ctx_t *service = ctx_with_cancel(ctx_background());
    CTX_AUTO ctx_t *kitchen =
        ctx_with_value(service, &kitchen_key, new_label("The Kitchen Sink"), free_label);
    CHECK(ctx_after_func(kitchen, lights_off, NULL) != NULL);
    printf("kitchen: \"%s\" open\n", (const char *)ctx_value(kitchen, &kitchen_key));

    struct washer w = {.request_over = EVENT_INIT};
    dishwasher_start(kitchen, &w);
    oven(kitchen);
    course(kitchen);
    tab(kitchen);
    pass(kitchen);
    cooks();
    dishwasher_join(&w);

    ctx_cancel_cause(service, ESHUTDOWN, CLOSING);
    CHECK(event_wait(&lights, 1));
    const char *reason = NULL;
    int cause = ctx_cause(kitchen, &reason);
    CHECK(cause == ESHUTDOWN && reason != NULL && strcmp(reason, CLOSING) == 0);
    printf("kitchen: %s: lights off (%s)\n", reason ? reason : "?", err_text(ctx_err(kitchen)));
    /* CTX_AUTO releases kitchen and service. */
}

int main(void)
{
    evening();
    /* Every value's destructor runs once the last context using it is freed (a timer
     * or callback thread may drop the last reference a moment after its owner). */
    CHECK(event_wait(&labels_freed, LABELS));
    printf("kitchen: %d of %d labels freed by their destructors; closed\n",
           event_count(&labels_freed), LABELS);
    int failed = atomic_load(&failures);
    if (failed != 0)
        fprintf(stderr, "kitchen: %d checks failed\n", failed);
    return failed == 0 ? 0 : 1;
}
