/*
 * live_ingest.c — the live mode's end-to-end benchmark: frames a second from a traced
 * process's real socket into the shown window. Starts live_prog under the shim with
 * its socket in a temporary directory, follows it with ct_window_connect, tells it to
 * go once the window has painted: a burst of N create+release pairs as fast as it can
 * (each pair is four frames: create, cancel, release, free), then it idles 5 s before
 * it exits (at exit clients only get 200 ms to drain). Measures the time from "go"
 * until the window's model holds all N contexts, and until the tree has a row for
 * each (rows are announced in slices; the stall is measured until then). The burst outruns any client and the
 * server buffers 8 MiB per client: well beyond ~50,000 pairs the window falls behind and
 * is resynced (docs/wire.md) — it then never holds all N, the run ends "ended first" when
 * the process exits, and the stall is measured over the whole burst; the state text in
 * the report says how often it was resynced. Reports the frames decoded, the rate
 * from "go" to the end of the stream, the time until the first of the burst reached
 * the window (the traced side's latency: nothing is there to paint before it), the
 * longest gap between two painted frames from then on, the longest the main loop was
 * unresponsive from then on (a 5 ms heartbeat at high priority: its worst lateness is
 * how long input and redraws would have waited — the freeze a person would feel — and
 * how much of it the main thread spent on the CPU rather than waiting for a core) and
 * how the stream ended.
 *
 *   inspector_live_ingest SHIM LIVE_PROG [PAIRS]     (default 20,000)
 *
 * Run it under Xvfb like the tests (docs/inspector.md). A benchmark, not a test.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_window.h"
#include "ct-tree-view.h"

static const char *shim, *prog;
static long pairs = 20000;
static CtWindow *window;
static GPid pid;
static int prog_in = -1;
static char *dir;
static gint64 t_go, t_all, t_shown, t_first_data, last_frame, worst_gap;
static gint64 contexts_at_go;
static gint64 last_beat, worst_stall, last_beat_cpu, worst_stall_cpu;
#define STALL_LOG_US 20000 /* stalls longer than this are listed on stderr */

/* The main loop's heartbeat while the burst is being followed. */
static gboolean heartbeat(gpointer data)
{
    (void)data;
    gint64 now = g_get_monotonic_time();
    /* The main thread's own CPU time over the same interval: a stall it spent running is
     * the window's work; one it spent waiting for a core is the machine's load. */
    struct timespec cpu_ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_ts);
    gint64 cpu = cpu_ts.tv_sec * G_USEC_PER_SEC + cpu_ts.tv_nsec / 1000;
    /* From the first painted data on: the frame that first shows rows builds the row
     * widgets and glyph caches once, which is start-up, not following the stream. */
    if (t_first_data != 0 && now > t_first_data && t_shown == 0 && last_beat != 0 &&
        now - last_beat > worst_stall) {
        worst_stall = now - last_beat;
        worst_stall_cpu = cpu - last_beat_cpu;
    }
    /* Each long one from "go" on, in CLOCK_MONOTONIC µs: `perf record -k mono` samples
     * of the same window say where the time went (perf report --time). */
    if (t_go != 0 && t_shown == 0 && last_beat != 0 && now - last_beat > STALL_LOG_US)
        fprintf(stderr, "stall %.1f ms (%.1f ms on the CPU)%s: %" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT
                " .. %" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT "\n", (now - last_beat) / 1000.0,
                (cpu - last_beat_cpu) / 1000.0,
                t_first_data == 0 || now <= t_first_data ? " (before the first data was painted)" : "",
                last_beat / G_USEC_PER_SEC, last_beat % G_USEC_PER_SEC, now / G_USEC_PER_SEC,
                now % G_USEC_PER_SEC);
    last_beat = now;
    last_beat_cpu = cpu;
    return G_SOURCE_CONTINUE;
}
static guint64 frames_at_all;
static guint frames_painted;
static int status = 1;

static void go(void)
{
    t_go = g_get_monotonic_time();
    if (write(prog_in, "go\n", 3) != 3)
        exit(1);
}

static void check_shown(gint64 now);

static void after_paint(void)
{
    gint64 now = g_get_monotonic_time();
    /* Go once the window is up (its first frames cost GTK's start-up, not ingestion). */
    if (t_go == 0 && frames_painted == 2) {
        contexts_at_go = ct_trace_model_get_meta(ct_window_get_model(window))->contexts;
        go();
    }
    CtLiveSource *live = window ? ct_window_get_live_source(window) : NULL;
    /* Gaps count once the burst flows into the window: before that nothing changed. */
    if (t_first_data != 0 && live != NULL && !ct_live_source_has_ended(live))
        worst_gap = MAX(worst_gap, now - last_frame);
    if (t_go != 0 && t_first_data == 0 &&
        ct_trace_model_get_meta(ct_window_get_model(window))->contexts > contexts_at_go)
        t_first_data = now;
    last_frame = now;
    frames_painted++;
    check_shown(now);
}

static void report(const char *how)
{
    CtLiveSource *live = ct_window_get_live_source(window);
    const CtTraceMeta *m = ct_trace_model_get_meta(ct_window_get_model(window));
    gint64 end = t_all ? t_all : g_get_monotonic_time();
    guint64 n = t_all ? frames_at_all : ct_live_source_get_frames(live);
    double secs = (end - t_go) / 1e6;
    fflush(stdout);
    printf("%s: %" G_GUINT64_FORMAT " frames (%" G_GINT64_FORMAT " contexts) in %.3f s from go: "
           "%.0f frames/s; all rows in the tree after %.3f s; first data painted after %.1f ms; "
           "%u frames painted, longest gap between frames after that %.1f ms; main loop "
           "unresponsive at most %.1f ms (%.1f ms of it on the CPU); %s\n",
           how, n, m->contexts, secs, n / secs, t_shown ? (t_shown - t_go) / 1e6 : -1.0,
           t_first_data ? (t_first_data - t_go) / 1000.0 : -1.0, frames_painted,
           worst_gap / 1000.0, worst_stall / 1000.0, worst_stall_cpu / 1000.0,
           ct_live_source_get_state_text(live));
}

/* Once a frame (the model's coalesced signal): have all the burst's contexts arrived? */
static void meta_changed_cb(CtTraceModel *model, gpointer data)
{
    (void)data;
    if (t_go == 0 || t_all != 0 || ct_trace_model_get_meta(model)->contexts < pairs)
        return;
    t_all = g_get_monotonic_time();
    frames_at_all = ct_live_source_get_frames(ct_window_get_live_source(window));
}

/* After a frame: once all arrived, are they all rows of the tree (the window announces
 * rows in slices)? The stall is measured until then. */
static void check_shown(gint64 now)
{
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    if (t_all == 0 || t_shown != 0 || rows == NULL || g_list_model_get_n_items(rows) < (guint)pairs)
        return;
    t_shown = now;
    report("all arrived");
    status = 0;
    /* Not from inside the frame clock's signal emission: the window owns it. */
    g_idle_add_once((GSourceOnceFunc)gtk_window_destroy, window);
}

static void ended_cb(CtLiveSource *live, gpointer data)
{
    (void)live;
    (void)data;
    if (t_shown != 0)
        return;
    report("ended first");
    status = 0;
    g_idle_add_once((GSourceOnceFunc)gtk_window_destroy, window);
}

static void start(CtWindow *w)
{
    window = w;
    g_timeout_add_full(G_PRIORITY_HIGH, 5, heartbeat, NULL, NULL);
    dir = g_dir_make_tmp("ctxtrace-live-ingest-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "live.sock", NULL);
    g_autofree char *trace = g_build_filename(dir, "live.db", NULL);
    g_autofree char *burst = g_strdup_printf("%ld", pairs);
    const char *argv[] = {prog, "--wait-go", "--burst", burst, "1", "5000000", NULL};
    char **env = g_get_environ();
    env = g_environ_setenv(env, "LD_PRELOAD", shim, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_OUTPUT", trace, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_SOCKET", sock, TRUE);
    int out = -1;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_spawn_async_with_pipes(NULL, (char **)argv, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                           NULL, &pid, &prog_in, &out, NULL, &error);
    g_strfreev(env);
    char line[16] = {0};
    if (!ok || read(out, line, 6) != 6 || !ct_window_connect(window, sock, &error)) {
        fprintf(stderr, "inspector_live_ingest: %s\n", error ? error->message : "live_prog did not start");
        exit(1);
    }
    close(out);
    g_signal_connect(ct_window_get_live_source(window), "ended", G_CALLBACK(ended_cb), NULL);
    g_signal_connect(ct_window_get_model(window), "meta-changed", G_CALLBACK(meta_changed_cb), NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && (pairs = atol(argv[3])) <= 0)) {
        fprintf(stderr, "usage: inspector_live_ingest SHIM LIVE_PROG [PAIRS]\n");
        return 2;
    }
    shim = argv[1];
    prog = argv[2];
    bench_window_run("org.ctxtrace.InspectorLiveIngest", start, after_paint);
    if (prog_in >= 0)
        close(prog_in);
    kill(pid, SIGTERM); /* it idles 5 s: not needed any more */
    g_spawn_close_pid(pid);
    if (dir != NULL) {
        g_autofree char *sock = g_build_filename(dir, "live.sock", NULL);
        g_autofree char *trace = g_build_filename(dir, "live.db", NULL);
        g_unlink(sock);
        g_unlink(trace);
        g_rmdir(dir);
        g_free(dir);
    }
    return status;
}
