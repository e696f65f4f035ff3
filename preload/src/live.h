/*
 * live.h — the live socket, on the writer thread: the model of the live tree that
 * every new client's snapshot is taken from (live.c), and the socket with its clients
 * (server.c).
 *
 * Data flows one way, as for the trace file: the writer drains the rings, hands each
 * event to live_collect, then calls live_publish, which puts the drained events in
 * time order, applies them to the model and sends them to every client as wire frames
 * (libctxtrace/core/wire.h) — a context's free and what follows it one drain late, once
 * every ring has been drained past it. A client that connects is given HELLO, the snapshot and
 * SNAPSHOT_END between two drains, so the snapshot plus the events that follow it is
 * exactly the live tree. Application threads never touch any of this.
 */
#ifndef CT_LIVE_H
#define CT_LIVE_H

#include <ctxtrace/core/store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "symbolize.h"

/* ---- live.c: the model ------------------------------------------------------------- */

/* Start the model; sites are symbolized with `sym` (the writer's). */
void live_model_init(struct symbolizer *sym);
/* One drained event (any order across threads; a stack's EV_STACK comes before the
 * events of the same thread that use it). */
void live_collect(const struct ev *e);
/* Apply the collected events in time order and send them to the clients — those from
 * the first free collected since the last publish on are held for the next publish
 * (live.c "Order"), unless `last` (the end of this image: everything goes). */
void live_publish(bool last);
/* Send a periodic sample to the clients, and the counts of the sites that changed since
 * the last (SITE_COUNTS). */
void live_sample(const struct ct_sample_row *row);
/* The snapshot for a new client: HELLO, every site, every live context, every site's
 * counts (SITE_COUNTS), SNAPSHOT_END; each frame handed to put. For a resync (after the
 * server's RESYNC frame) the same without HELLO. Returns the number of bytes produced. */
size_t live_snapshot(void (*put)(void *arg, const uint8_t *frame, size_t len), void *arg,
                     bool resync);
/* At the end of the process (exit, SIGINT/SIGTERM), after the last publish: send the
 * exit check's EXIT_CHECK frame (its EXIT_THREAD and EXIT_REACH frames were drained and
 * published before), if a check ran. */
void live_exit_check(void);
/* fork(): the child's model starts empty (its trace starts empty too). */
void live_model_forget_in_child(void);

/* ---- server.c: the socket ------------------------------------------------------------ */

/* A new client's snapshot, or a resync's (live_snapshot's contract): each frame handed
 * to put. */
typedef size_t (*live_snapshot_fn)(void (*put)(void *arg, const uint8_t *frame, size_t len),
                                   void *arg, bool resync);

/* Bind and listen at CTXTRACE_SOCKET or the default path (ctxtrace/core/livepath.h);
 * each new client is first given `snapshot` (the model's, passed in so that the server
 * depends on nothing but its caller: live.c -> server.c, one way). CTXTRACE_SOCKET=off
 * serves nothing. A failure is reported on stderr and leaves the process untouched, just
 * not served. */
void live_server_start(live_snapshot_fn snapshot);
/* Is there a socket (so the model is worth keeping)? */
bool live_server_serving(void);
bool live_server_has_clients(void);
/* Queue bytes (whole frames) for every client; a client that has fallen too far
 * behind skips them and is resynced instead (server.c). */
void live_server_broadcast(const uint8_t *frames, size_t len);
/* Accept new clients (with their snapshot), send what is queued, drop dead clients.
 * Bounded work per call: the writer must get back to draining. */
void live_server_poll(void);
/* Send BYE (enum ct_wire_bye, with `text`) to every client, close everything and
 * remove the socket. Idempotent. */
void live_server_stop(int reason, const char *text);
/* fork(): close the parent's descriptors in the child, without removing its socket. */
void live_server_forget_in_child(void);

#endif /* CT_LIVE_H */
