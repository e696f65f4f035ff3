/*
 * ct-app.c — the command line and the application (see ct-app.h).
 *
 * Arguments are parsed before GTK sees them, so that bad input is a one-line error
 * and exit 2 like every ctxtrace command, and a trace that cannot be read is reported
 * before any window opens.
 */
#include "ct-app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/core/reader.h>
#include <ctxtrace/ctx.h> /* CTX_VERSION_STRING */

#include "ct-resources.h"
#include "ct-screenshot.h"
#include "ct-window.h"

typedef struct {
    const char *file;
    const char *connect;  /* --connect PID|SOCKET */
    CtLiveSource *live;   /* connected before any window exists */
    const char *view;
    gint64 select;
    const char *screenshot;
    guint after_ms;
    int status;
    CtWindow *window;
} Options;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ctxtrace-inspector: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (usage: ctxtrace-inspector [FILE.db | --connect PID|SOCKET] [--view tree|timeline|counts|findings|sites] "
                    "[--select ID] [--screenshot OUT.png [--after MS]])\n");
    return 2;
}

static gboolean parse_uint(const char *s, guint64 max, guint64 *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return FALSE;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (*end != '\0' || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

static int parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        guint64 v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: ctxtrace-inspector [FILE.db | --connect PID|SOCKET] [--view tree|timeline|counts|findings|sites] "
                   "[--select ID] [--screenshot OUT.png [--after MS]] | --version\n");
            exit(0);
        } else if (strcmp(a, "--version") == 0) {
            printf("ctxtrace-inspector %s\n", CTX_VERSION_STRING);
            exit(0);
        } else if (strcmp(a, "--connect") == 0) {
            if (next == NULL || *next == '\0')
                return usage_error("%s needs a PID or a socket path", a);
            o->connect = argv[++i];
        } else if (strcmp(a, "--screenshot") == 0) {
            if (next == NULL)
                return usage_error("%s needs an output file", a);
            o->screenshot = argv[++i];
        } else if (strcmp(a, "--after") == 0) {
            if (!parse_uint(next, 600000, &v))
                return usage_error("--after needs milliseconds (0..600000), not '%s'", next ? next : "");
            o->after_ms = (guint)v;
            i++;
        } else if (strcmp(a, "--view") == 0) {
            if (next == NULL || (strcmp(next, "tree") && strcmp(next, "timeline") &&
                                 strcmp(next, "counts") && strcmp(next, "findings") &&
                                 strcmp(next, "sites")))
                return usage_error("--view takes tree, timeline, counts, findings or sites, not '%s'",
                                   next ? next : "");
            o->view = argv[++i];
        } else if (strcmp(a, "--select") == 0) {
            if (!parse_uint(next, G_MAXINT64, &v) || v == 0)
                return usage_error("--select needs a context id, not '%s'", next ? next : "");
            o->select = (gint64)v;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (o->file != NULL) {
            return usage_error("one trace file at a time ('%s' is a second)", a);
        } else {
            o->file = a;
        }
    }
    if (o->file != NULL && o->connect != NULL)
        return usage_error("a trace file or --connect, not both ('%s')", o->file);
    if (o->after_ms != 0 && o->screenshot == NULL)
        return usage_error("%s only goes with --screenshot", "--after");
    return 0;
}

/* ---- --screenshot ------------------------------------------------------------------- */

static void take_screenshot(Options *o)
{
    g_autoptr(GError) error = NULL;
    if (ct_screenshot_save(GTK_WIDGET(o->window), o->screenshot, &error)) {
        o->status = 0;
    } else {
        fprintf(stderr, "ctxtrace-inspector: %s\n", error->message);
        o->status = 1;
    }
    gtk_window_destroy(GTK_WINDOW(o->window));
}

/* After a frame's layout and paint: every child has its allocation, so the picture is
 * what the window shows (taken in the frame's update phase, a page switched to during
 * the last events may not be laid out yet — a blank window). */
static void after_paint_cb(GdkFrameClock *clock, gpointer data)
{
    Options *o = data;
    g_signal_handlers_disconnect_by_func(clock, after_paint_cb, data);
    take_screenshot(o);
}

/* Wait for the window's first frame after the delay. */
static gboolean after_paint_tick(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
    /* On a loaded machine the first frames may come before the first allocation. */
    if (gtk_widget_get_width(w) <= 0 || gtk_widget_get_height(w) <= 0)
        return G_SOURCE_CONTINUE;
    g_signal_connect(clock, "after-paint", G_CALLBACK(after_paint_cb), data);
    return G_SOURCE_REMOVE;
}

static gboolean delay_done(gpointer data)
{
    Options *o = data;
    gtk_widget_queue_draw(GTK_WIDGET(o->window));
    gtk_widget_add_tick_callback(GTK_WIDGET(o->window), after_paint_tick, o, NULL);
    return G_SOURCE_REMOVE;
}

static void ready_for_screenshot(Options *o)
{
    g_timeout_add(o->after_ms + 100, delay_done, o);
}

static void analysis_done_cb(CtWindow *window, Options *o)
{
    (void)window;
    if (o->select != 0)
        ct_window_select_context(o->window, o->select);
    if (o->screenshot != NULL)
        ready_for_screenshot(o);
}

/* ---- the application --------------------------------------------------------------------- */

void ct_app_show_about(GtkWindow *parent)
{
    static const char *const authors[] = {"The ctxtrace developers", NULL};
    gtk_show_about_dialog(parent, "program-name", "ctxtrace Inspector", "logo-icon-name",
                          CT_APP_ID, "version", CTX_VERSION_STRING, "comments",
                          "Find leaked contexts, orphaned timers and lost cancellations in "
                          "traced C programs.",
                          "authors", authors, NULL);
}

static void about_cb(GSimpleAction *action, GVariant *param, gpointer app)
{
    (void)action;
    (void)param;
    ct_app_show_about(gtk_application_get_active_window(app));
}

static void quit_cb(GSimpleAction *action, GVariant *param, gpointer app)
{
    (void)action;
    (void)param;
    g_application_quit(app);
}

static void startup_cb(GtkApplication *app)
{
    static const GActionEntry actions[] = {{.name = "about", .activate = about_cb},
                                           {.name = "quit", .activate = quit_cb}};
    g_action_map_add_action_entries(G_ACTION_MAP(app), actions, G_N_ELEMENTS(actions), app);
    static const char *const quit_accels[] = {"<Control>q", NULL};
    gtk_application_set_accels_for_action(app, "app.quit", quit_accels);
    gtk_window_set_default_icon_name(CT_APP_ID);
}

static void activate_cb(GtkApplication *app, Options *o)
{
    o->window = ct_window_new(app);
    /* A screenshot run is not the user opening a file. */
    ct_window_set_forget_files(o->window, o->screenshot != NULL);
    if (o->view != NULL)
        ct_window_show_view(o->window, o->view);
    g_signal_connect(o->window, "analysis-done", G_CALLBACK(analysis_done_cb), o);
    if (o->file != NULL) {
        g_autoptr(GError) error = NULL;
        if (!ct_window_open(o->window, o->file, &error)) {
            fprintf(stderr, "ctxtrace-inspector: %s\n", error->message);
            o->status = 2;
            gtk_window_destroy(GTK_WINDOW(o->window));
            return;
        }
        if (o->select != 0)
            ct_window_select_context(o->window, o->select);
    } else if (o->live != NULL) {
        ct_window_follow(o->window, o->live);
        if (o->select != 0)
            ct_window_select_context(o->window, o->select);
        /* Live: no analysis to wait for; --after lets events arrive first. */
        if (o->screenshot != NULL)
            ready_for_screenshot(o);
    } else if (o->screenshot != NULL) {
        ready_for_screenshot(o); /* the start page */
    }
    gtk_window_present(GTK_WINDOW(o->window));
}

int ct_app_run(int argc, char **argv)
{
    Options o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    /* Check the file before any window exists: a bad trace is a one-line error. */
    if (o.file != NULL) {
        char err[512];
        ct_reader *r = ct_reader_open(o.file, err, sizeof err);
        if (r == NULL) {
            fprintf(stderr, "ctxtrace-inspector: %s\n", err);
            return 2;
        }
        ct_reader_close(r);
    }
    /* Connect before any window exists too: no such process is a one-line error. */
    if (o.connect != NULL) {
        g_autoptr(GError) error = NULL;
        o.live = ct_live_source_connect(o.connect, &error);
        if (o.live == NULL) {
            fprintf(stderr, "ctxtrace-inspector: %s\n", error->message);
            return 2;
        }
    }
    /* NON_UNIQUE: each invocation is its own process with its own trace (and a
     * screenshot run must not hand its file to an instance already running). */
    GtkApplication *app = gtk_application_new(CT_APP_ID, G_APPLICATION_NON_UNIQUE);
    /* The bundle first: the application loads gtk/help-overlay.ui from it at startup. */
    ct_resources_ensure();
    g_signal_connect(app, "startup", G_CALLBACK(startup_cb), NULL);
    g_signal_connect(app, "activate", G_CALLBACK(activate_cb), &o);
    char *args[] = {argv[0], NULL};
    int status = g_application_run(G_APPLICATION(app), 1, args);
    g_object_unref(app);
    g_clear_object(&o.live);
    return o.status != 0 ? o.status : status;
}
