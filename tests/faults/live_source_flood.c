/*
 * live_source_flood.c — the inspector's live source (inspector/src/ct-live-source.c)
 * against a server flooding distinct sites (hostile_server SOCKET sites N): it keeps
 * following to the server's BYE, keeps at most the live budget
 * (ctxtrace/core/live_budget.h) and its state text says the budget ran out.
 *
 *     live_source_flood SOCKET FRAMES
 *
 * Exit 0 when all holds; 1 with one line per broken promise. No display is needed:
 * the source and its model are GObjects, not widgets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ct-live-source.h"

static gboolean give_up(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: live_source_flood SOCKET FRAMES\n");
        return 2;
    }
    guint64 want = g_ascii_strtoull(argv[2], NULL, 10);
    GError *error = NULL;
    CtLiveSource *src = ct_live_source_connect(argv[1], &error);
    if (src == NULL) {
        fprintf(stderr, "live_source_flood: %s\n", error->message);
        return 2;
    }
    CtTraceModel *model = ct_live_source_start(src);
    gboolean timed_out = FALSE;
    g_timeout_add_seconds(60, give_up, &timed_out);
    while (!ct_live_source_has_ended(src) && !timed_out)
        g_main_context_iteration(NULL, TRUE);

    int failures = 0;
    const char *state = ct_live_source_get_state_text(src);
    guint64 frames = ct_live_source_get_frames(src);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024;
    printf("inspector live source vs hostile server: %" G_GUINT64_FORMAT " frames, peak RSS "
           "%.1f MB, state: %s\n", frames, rss_mb, state);
    if (timed_out || frames < want + 2) { /* HELLO, the sites, BYE */
        printf("FAIL: it stopped following: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
               " frames\n", frames, want + 2);
        failures++;
    }
    if (strstr(state, "distinct sites") == NULL) {
        printf("FAIL: the state text does not say the budget ran out\n");
        failures++;
    }
    if (rss_mb > 200) {
        printf("FAIL: it kept %.0f MB from a hostile server\n", rss_mb);
        failures++;
    }
    g_object_unref(model);
    return failures == 0 ? 0 : 1;
}
