/*
 * event.h — what the shim records on application threads: compact fixed-layout
 * events, written into the recording thread's ring (ring.h) and turned into rows by
 * the writer thread (batch.c).
 *
 * Every event is an `struct ev` header, possibly followed by a payload (a cancel
 * reason, or a stack's instruction pointers), padded to 8 bytes.
 */
#ifndef CT_EVENT_H
#define CT_EVENT_H

#include <stdint.h>

enum ev_type {
    EV_PAD = 0,          /* filler up to the end of the ring: skip */
    EV_CREATE,           /* id; a=parent id, b=kind, c=requested deadline, d=deadline;
                          * payload=the context's address (8 bytes) */
    EV_CANCEL,           /* id; a=why, b=err, c=cause, d=origin ts (0: unknown); stack if
                            explicit; payload (size > sizeof(struct ev)) = reason */
    EV_TIMER,            /* id; a=enum ctx_timer_event */
    EV_UNOWNED,          /* id; a=live; stack */
    EV_FREE,             /* id; a=the context's address */
    EV_WAIT_BLOCKED,     /* id=context; a=wait id; stack */
    EV_WAIT_WOKEN,       /* id=context; a=wait id, b=result */
    EV_FD,               /* id=context; a=wait id; stack */
    EV_THREAD_START,     /* a=tid, b=parent thread, c=words of payload; stack=where it was
                          * created; payload=its pthread_create argument, then the words
                          * it points at (context addresses are looked for there) */
    EV_THREAD_EXIT,      /* (thread in header) */
    EV_STACK,            /* id=stack hash; a=depth; payload=depth instruction pointers */
    EV_VALUE,            /* id; a=contexts examined, b=found */
    EV_EXIT_THREAD,      /* the exit check saw thread tid a: b=/proc state letter,
                          * c=system call (-1: user space), d=1 stopped / 0 unstoppable;
                          * stack=its current stack (0: unknown) */
    EV_EXIT_REACH,       /* the exit check's verdict on live context id: a=enum scan_reach */
};

/* Most words an EV_THREAD_START carries: the argument, and 16 words it points at. */
enum { EV_HANDED_WORDS = 17 };

struct ev {
    uint16_t type;
    uint16_t size;       /* whole event in bytes, payload and padding included */
    uint32_t thread;     /* recording thread (threads.id) */
    int64_t ts;          /* ctx_now() */
    uint64_t id;
    uint64_t stack;      /* 0: none */
    int64_t a, b, c, d;
};

#endif /* CT_EVENT_H */
