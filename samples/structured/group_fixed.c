/*
 * group_fixed.c — structured concurrency with ctx_group, done right (sample_group).
 *
 * Scenario: Go's errgroup "first error cancels the rest" search (see search.c for the
 * story and main()). This file decides where the progress ticker runs.
 *
 * What to look at: the ticker is one more member of the group, running on the group's
 * context. When the video backend fails the group is cancelled, the ticker's ctx_wait()
 * returns at once, and ctx_group_wait() joins it with everyone else: nothing the search
 * started outlives it. Compare group_leaky.c. Under `ctxtrace run` this variant has no
 * findings.
 */
#include "search.h"

int start_progress_ticker(ctx_group_t *g, struct ticker *t)
{
    return ctx_group_go(g, progress_ticker, t);
}
