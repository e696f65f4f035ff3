/*
 * cancel.c — the cancellation tree: attaching children, propagating cancellation,
 * detaching.
 *
 * Go's cancelCtx keeps a set of children and cancels them recursively while holding
 * the parent's lock. Here each cancellable context keeps an intrusive doubly linked
 * list of the cancellable contexts below it (its "children": the nearest cancellable
 * descendants, seen through value contexts), and cancellation is iterative: the
 * canceller unhooks a node's whole children list under that node's lock (one pointer
 * move: the list is not walked) and walks the taken lists through their own sibling
 * links, depth first. No recursion, no second lock held, any depth or width.
 *
 * A linked child holds a reference (the list's): this is what keeps an uncancelled
 * child alive after its owners unref it — Go's lost-cancel leak, made visible.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futex.h"
#include "internal.h"

/* The cancellable context whose list `c` (cancellable) belongs in, or NULL when nothing
 * above can ever cancel it (derived from a root or a without_cancel). Immutable. */
static inline ctx_t *attach_target(ctx_t *c)
{
    return ctx_done_src(c->parent);
}

static void notify_canceled(ctx_t *c, enum ctx_cancel_why why, int err, int cause,
                            const char *reason)
{
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->canceled)
        t->canceled(c, why, err, cause, reason);
}

/* This thread's lane: fixed at its first attach, round-robin over the threads. */
static int my_lane(void)
{
    static _Atomic unsigned next_lane;
    static _Thread_local int lane = -1;
    if (__builtin_expect(lane < 0, 0))
        lane = (int)(atomic_fetch_add_explicit(&next_lane, 1, memory_order_relaxed) %
                     CTX_LANES);
    return lane;
}

static void list_push(ctx_t **head, ctx_t *c, uint8_t where)
{
    CC(c)->prev = NULL;
    CC(c)->next = *head;
    if (*head != NULL)
        CC(*head)->prev = c;
    *head = c;
    atomic_store_explicit(&c->linked, where, memory_order_relaxed);
}

static void list_unlink(ctx_t **head, ctx_t *c)
{
    if (CC(c)->prev != NULL)
        CC(CC(c)->prev)->next = CC(c)->next;
    else
        *head = CC(c)->next;
    if (CC(c)->next != NULL)
        CC(CC(c)->next)->prev = CC(c)->prev;
    atomic_store_explicit(&c->linked, LINK_NONE, memory_order_relaxed);
}

/* The last node of a list (NULL for an empty one). */
static ctx_t *list_tail(ctx_t *list)
{
    ctx_t *tail = NULL;
    for (ctx_t *k = list; k != NULL; k = CC(k)->next)
        tail = k;
    return tail;
}

/* Start loading a node the canceller is about to lock: the bytes its cancellation
 * touches (internal.h: from the header's counts to its after-funcs, one or two cache
 * lines), so the load overlaps the current node's work instead of stalling the next
 * lock. A big tree's walk waits on these loads (measured: without the prefetch the
 * tree cancel took 17-22 % longer). */
static inline void prefetch_node(const ctx_t *n)
{
    __builtin_prefetch((const char *)n + offsetof(struct ctx, owners), 1, 3);
    __builtin_prefetch((const char *)&CC_const(n)->afters + sizeof(ctx_after_t *) - 1, 1, 3);
}

/* Born under a done parent: done at once, with the parent's error and cause. The
 * parent's reason outlives us (we hold a reference on our ancestors). `pstate` was
 * read with acquire (or under the parent's lock). */
static void born_done(ctx_t *c, ctx_t *p, uint32_t pstate)
{
    ctx__cancel(c, ctx_state_err(pstate), CC(p)->cause, ctx_reason(p, pstate), false,
                CTX_WHY_PARENT);
}

/* Under p's lock, p live and without lanes (*pstate: its state word, which we write):
 * give it lanes, the embedded list moving to lane `home` (its children keep their
 * references on p->refs). False if out of memory: p then keeps its one list, which is
 * correct, only slower. */
static bool lanes_create(ctx_t *p, uint32_t *pstate, int home)
{
    struct ctx_lanes *ls = aligned_alloc(64, sizeof *ls);
    if (ls == NULL)
        return false;
    for (int l = 0; l < CTX_LANES; l++) {
        atomic_init(&ls->lane[l].lock, 0);
        ls->lane[l].children = NULL;
        atomic_init(&ls->lane[l].refs, 0);
    }
    ls->reason = NULL;
    ctx_t *list = CC(p)->children;
    ls->lane[home].children = list;
    CC(p)->lanes = ls;
    /* Release: whoever sees STATE_LANES sees the lanes (and the moved children). Our
     * lock stays held: the bit is published now, the unlock keeps it. */
    *pstate |= STATE_LANES;
    atomic_store_explicit(&p->state, *pstate | STATE_LOCKED, memory_order_release);
    /* Then the moved children's tags, with release too: a detacher reading a lane tag
     * (acquire) sees the lanes. One still reading LINK_MAIN waits for our lock, then
     * finds the tag changed and retries; one that read the new tag waits for the lane's
     * lock, held here (p's, then its lane's: nothing takes them the other way round)
     * until the walk is over. */
    ctx_lock(&ls->lane[home].lock);
    for (ctx_t *k = list; k != NULL; k = CC(k)->next)
        atomic_store_explicit(&k->linked, (uint8_t)(LINK_LANE0 + home), memory_order_release);
    ctx_unlock(&ls->lane[home].lock);
    return true;
}

/* The child's reference on p, counted in lane l unless the lanes collapsed. */
static void lane_ref(ctx_t *p, struct ctx_lane *ln, ctx_t *c, int l)
{
    uint64_t w = atomic_load_explicit(&ln->refs, memory_order_relaxed);
    while (!(w & 1))
        if (atomic_compare_exchange_weak_explicit(&ln->refs, &w, w + 2, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            ctx_flags_set(c, (uint8_t)((l + 1) << CTX_F_REFLANE_SHIFT));
            return;
        }
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

/* The list's reference on a child being attached. No read-modify-write: the child is
 * new, and no other thread can reach it (nor its count) before the list's lock is
 * released. */
static inline void list_ref(ctx_t *c)
{
    uint32_t r = atomic_load_explicit(&c->refs, memory_order_relaxed);
    atomic_store_explicit(&c->refs, r + 1, memory_order_relaxed);
}

void ctx__attach(ctx_t *c)
{
    ctx_t *p = attach_target(c);
    if (p == NULL)
        return;
    bool ref_here = p == c->parent; /* see ctx_alloc: the child's reference on p */
    int me = my_lane();
    uint32_t pstate = atomic_load_explicit(&p->state, memory_order_acquire);
    if (!(pstate & STATE_LANES)) {
        pstate = ctx_state_lock(p);
        if (!(pstate & STATE_LANES)) {
            int home = (ctx_flags(p) >> CTX_F_HOME_SHIFT) & 7;
            if (home == 0) {
                home = me + 1;
                ctx_flags_set(p, (uint8_t)(home << CTX_F_HOME_SHIFT));
            }
            if (ref_here)
                atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
            if (ctx_state_err(pstate) != 0) {
                ctx_state_unlock(p, pstate);
                born_done(c, p, pstate);
                return;
            }
            if (home == me + 1 || !lanes_create(p, &pstate, home - 1)) {
                list_push(&CC(p)->children, c, LINK_MAIN);
                list_ref(c);
                ctx_state_unlock(p, pstate);
                return;
            }
            ref_here = false; /* taken above, on p->refs */
        }
        ctx_state_unlock(p, pstate);
    }

    struct ctx_lane *ln = &CC(p)->lanes->lane[me];
    ctx_lock(&ln->lock);
    pstate = atomic_load_explicit(&p->state, memory_order_acquire);
    if (ref_here)
        lane_ref(p, ln, c, me);
    if (ctx_state_err(pstate) == 0) {
        list_push(&ln->children, c, (uint8_t)(LINK_LANE0 + me));
        list_ref(c);
        ctx_unlock(&ln->lock);
        return;
    }
    ctx_unlock(&ln->lock);
    born_done(c, p, pstate);
}

/* Make one node done. Returns false if it already was. On success *kids receives the
 * node's former children (every lane's), now owned by the caller: once the node is done
 * no detacher touches them (detach checks the node's state under the list's lock), so
 * their sibling links are the caller's, and each list's reference passes to the caller,
 * who clears the child's `linked` before dropping it. A node with children is left with
 * STATE_SUBTREE set: the caller clears it (subtree_done) once they are all done. */
static void subtree_done(ctx_t *n);

/* `alone` (ctx__release_alone): the caller holds the only reference to n and has
 * stopped its timer itself (`stopped`): no other thread can reach n, so its lock is not
 * taken (the final store publishes all the same) and the timer's reference is left to
 * the caller.
 *
 * `gone` (not NULL: n was taken from a children list, whose reference the caller holds):
 * if n wins and is a plain leaf — no children, waiters, fd, timer or after-funcs, so
 * nothing here touches it after the unlock — the list's reference is given up inside
 * n's critical section (STATE_LISTGONE, or n is freed if STATE_ORPHAN says that
 * reference was its last), with no atomic of its own, and *gone is set: the caller must
 * not touch n again. */
static inline __attribute__((always_inline)) bool
cancel_one_as(ctx_t *n, int err, int cause, const char *reason, bool reason_owned,
              enum ctx_cancel_why why, ctx_t **kids, bool alone, bool stopped, bool *gone)
{
    uint32_t s = alone ? atomic_load_explicit(&n->state, memory_order_relaxed)
                       : ctx_state_lock(n);
    if (ctx_state_err(s) != 0) {
        if (!alone)
            ctx_state_unlock(n, s);
        return false;
    }
    bool laned = s & STATE_LANES;
    ctx_t *list = NULL;
    if (laned) {
        CC(n)->lanes->reason = reason;
    } else {
        list = CC(n)->children;
        if (list != NULL)
            prefetch_node(list); /* the caller's next node */
        CC(n)->reason = reason; /* the children slot turns into the reason slot */
    }
    CC(n)->cause = cause;
    n->reason_owned = reason_owned;
    bool had_timer = alone ? stopped : (ctx_flags(n) & CTX_F_TIMER) && ctx__timer_disarm(n);
    int fd = CC(n)->fd;
    ctx_after_t *afters = CC(n)->afters;
    /* The tracer hears of it before anything can observe it (waiters, pollers,
     * callbacks), so a trace never shows an effect before its cause. */
    notify_canceled(n, why, err, cause, reason);
    bool leaf = gone != NULL && !laned && list == NULL && !(s & STATE_WAITERS) && fd < 0 &&
                !had_timer && afters == NULL;
    if (leaf) {
        /* Release: ctx__ref_put_listed, seeing n unlinked, then sees the lock held or
         * this unlock's word. */
        atomic_store_explicit(&n->linked, LINK_NONE, memory_order_release);
        ctx_state_unlock(n, (uint32_t)err | (s & STATE_ORPHAN ? 0 : STATE_LISTGONE));
        if (s & STATE_ORPHAN)
            ctx__free_chain(n);
        *gone = true;
        *kids = NULL;
        return true;
    }
    /* Publish and unlock in one release store (the lock is a bit of the word): the
     * release pairs with the acquire in every reader of the state word, so cause and
     * reason are visible to anyone who sees the error. `s` is still what the word
     * holds (only the lock's holder writes it; waiters too set STATE_WAITERS under it).
     * Lanes are emptied after this: a child attaching to a lane from now on sees the
     * parent done. */
    ctx_state_unlock(n, (uint32_t)err | (s & (STATE_LANES | STATE_ORPHAN)) |
                            (laned || list != NULL ? STATE_SUBTREE : 0));

    if (laned) {
        ctx_t *tail = NULL;
        for (int l = 0; l < CTX_LANES; l++) {
            struct ctx_lane *ln = &CC(n)->lanes->lane[l];
            ctx_lock(&ln->lock);
            ctx_t *part = ln->children;
            ln->children = NULL;
            ctx_unlock(&ln->lock);
            ctx_t *part_tail = list_tail(part); /* ours now: no lock needed */
            if (part == NULL)
                continue;
            if (tail == NULL)
                list = part;
            else
                CC(tail)->next = part;
            tail = part_tail;
        }
        if (list == NULL)
            subtree_done(n);
    }

    if (s & STATE_WAITERS)
        ctx_futex_wake(&n->state, INT32_MAX);
    if (fd >= 0) {
        uint64_t one = 1;
        /* An eventfd write of 1 cannot block or fail short here: the counter is 0 or 1. */
        if (write(fd, &one, sizeof one) != sizeof one)
            abort();
    }
    if (had_timer) {
        const struct ctx_tracer *t = ctx_tracer();
        if (__builtin_expect(t != NULL, 0) && t->timer)
            t->timer(n, CTX_TIMER_STOPPED, CC(n)->deadline);
        /* The heap's reference; the caller still holds one of its own. */
        if (!alone)
            atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel);
    }
    if (afters != NULL)
        ctx__after_fire(afters);
    *kids = list;
    return true;
}

static bool cancel_one(ctx_t *n, int err, int cause, const char *reason,
                       bool reason_owned, enum ctx_cancel_why why, ctx_t **kids)
{
    return cancel_one_as(n, err, cause, reason, reason_owned, why, kids, false, false, NULL);
}

void ctx__cancel_alone(ctx_t *c, bool stopped)
{
    ctx_t *kids = NULL;
    cancel_one_as(c, CTX_CANCELED, CTX_CANCELED, NULL, false, CTX_WHY_EXPLICIT, &kids, true,
                  stopped, NULL);
    assert(kids == NULL); /* a child would hold a reference on c */
}

/* Every descendant of `n` is done: let anyone waiting for that go. (The state word
 * changes only under n's lock; this runs once per node with children.) */
static void subtree_done(ctx_t *n)
{
    uint32_t s = ctx_state_lock(n);
    ctx_state_unlock(n, s & ~(STATE_SUBTREE | STATE_WAITERS));
    if (s & STATE_WAITERS)
        ctx_futex_wake(&n->state, INT32_MAX);
}

/* `n` was made done by another canceller: wait until its descendants are done too.
 * Waits only ever point down the tree (at a node inside the subtree being cancelled),
 * so two cancellers can never wait for each other. */
static void wait_subtree(ctx_t *n)
{
    while (atomic_load_explicit(&n->state, memory_order_acquire) & STATE_SUBTREE) {
        uint32_t s = ctx_state_lock(n);
        if (s & STATE_SUBTREE)
            s |= STATE_WAITERS;
        ctx_state_unlock(n, s);
        if (s & STATE_SUBTREE)
            ctx_futex_wait(&n->state, s, NULL);
    }
}

/* Remove `c` from its attach target's lists, if it is still in one, and drop the list's
 * reference. Whoever clears `linked` (under the lock of the list it is in) owns that
 * reference. `linked` only ever changes under that lock, to LINK_NONE or (when lanes
 * are made) from LINK_MAIN to a lane: read it, take that list's lock, check again. Once
 * the target is done its lists belong to its canceller (who clears `linked` when it is
 * through with the child): seen under the list's lock, a done target means "not mine".
 * (Its error is set under its lock, before its lanes are emptied under theirs.) */
static void detach(ctx_t *c)
{
    ctx_t *p = attach_target(c);
    if (p == NULL)
        return;
    for (;;) {
        /* Acquire: a lane tag is stored (release) after the lanes were published. */
        uint8_t where = atomic_load_explicit(&c->linked, memory_order_acquire);
        if (where == LINK_NONE)
            return;
        bool p_done, mine;
        if (where == LINK_MAIN) {
            uint32_t ps = ctx_state_lock(p);
            p_done = ctx_state_err(ps) != 0;
            mine = !p_done && atomic_load_explicit(&c->linked, memory_order_relaxed) == where;
            if (mine)
                list_unlink(&CC(p)->children, c);
            ctx_state_unlock(p, ps);
        } else {
            struct ctx_lane *ln = &CC(p)->lanes->lane[where - LINK_LANE0];
            ctx_lock(&ln->lock);
            p_done = ctx_state_err(atomic_load_explicit(&p->state, memory_order_acquire)) != 0;
            mine = !p_done && atomic_load_explicit(&c->linked, memory_order_relaxed) == where;
            if (mine)
                list_unlink(&ln->children, c);
            ctx_unlock(&ln->lock);
        }
        if (mine)
            ctx__ref_drop(c);
        if (mine || p_done)
            return; /* p_done: the canceller's */
    }
}

/* A node taken from a children list is done with (its subtree too): it is no longer in
 * any list, and the list's reference, the canceller's until now, goes. `linked` is
 * cleared under n's lock: a holder deciding under it that the list's reference is n's
 * last (ctx__ref_put_listed) has then finished with n before that reference is
 * dropped. */
static void release_taken(ctx_t *n)
{
    uint32_t s = ctx_state_lock(n);
    atomic_store_explicit(&n->linked, LINK_NONE, memory_order_relaxed);
    ctx_state_unlock(n, s);
    ctx__ref_drop(n);
}

void ctx__cancel(ctx_t *c, int err, int cause, const char *reason, bool reason_owned,
                 enum ctx_cancel_why why)
{
    ctx_t *kids;
    /* Only the first cancellation wins; a loser's copied reason is ours to free. It
     * still waits for the winner to finish the subtree (so that when ctx_cancel
     * returns every descendant is done), and detaches: the winner may have been a
     * parent that took it already. */
    if (!cancel_one(c, err, cause, reason, reason_owned, why, &kids)) {
        if (reason_owned)
            free((char *)reason);
        wait_subtree(c);
        detach(c);
        return;
    }

    /* Depth first, through the taken lists' own sibling links (the canceller's now):
     * down into a node's children, on to its next sibling, and up to the list's owner
     * (the sibling's attach target) when a list ends — that owner's subtree is then done
     * (its post-visit). Each node is held by the reference of the list it was taken
     * from until it is finished; `c` itself is not in a taken list (its links are its
     * parent's), and its post-visit is the walk's end. The next node's cache lines are
     * requested while this one is being locked and published. */
    if (kids == NULL) {
        detach(c); /* no STATE_SUBTREE to clear */
        return;
    }
    ctx_t *n = kids;
    ctx_t *up = c; /* the owner of n's list: its attach target */
    while (n != NULL) {
        ctx_t *next = CC(n)->next;
        if (next != NULL)
            prefetch_node(next);
        bool gone = false;
        bool won = cancel_one_as(n, err, cause, reason, false, CTX_WHY_PARENT, &kids, false,
                                 false, &gone);
        if (won && kids != NULL) {
            up = n; /* n's post-visit comes when this list ends */
            n = kids;
            continue;
        }
        if (!won)
            wait_subtree(n); /* its canceller is on its subtree */
        /* n is finished; so is every list that ends with it. */
        while (next == NULL) {
            if (!gone)
                release_taken(n);
            if (up == c) {
                n = NULL;
                break;
            }
            subtree_done(up);
            n = up;
            gone = false;
            next = CC(n)->next;
            up = attach_target(n);
        }
        if (n == NULL)
            break;
        if (!gone)
            release_taken(n);
        n = next;
    }
    subtree_done(c);
    detach(c);
}

CTX_API void ctx_cancel(ctx_t *c)
{
    if (c != NULL && ctx_is_cancellable(c))
        ctx__cancel(c, CTX_CANCELED, CTX_CANCELED, NULL, false, CTX_WHY_EXPLICIT);
}

CTX_API void ctx_cancel_cause(ctx_t *c, int cause, const char *reason)
{
    if (c == NULL || !ctx_is_cancellable(c))
        return;
    char *copy = NULL;
    if (reason != NULL && (copy = strdup(reason)) == NULL)
        reason = NULL; /* out of memory: keep the cause, lose only the text */
    ctx__cancel(c, CTX_CANCELED, cause != 0 ? cause : CTX_CANCELED, copy, copy != NULL,
                CTX_WHY_EXPLICIT);
}
