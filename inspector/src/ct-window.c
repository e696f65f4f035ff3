/*
 * ct-window.c — the main window (see ct-window.h).
 */
#include "ct-window.h"

#include "ct-format.h"
#include "ct-live-source.h"
#include "ct-resources.h"
#include "ct-start-page.h"
#include "ct-trace-source.h"

struct _CtWindow {
    GtkApplicationWindow parent_instance;
    GtkStack *pages, *views;
    GtkWidget *switcher; /* shown once a trace is */
    GtkMenuButton *menu_button;
    gboolean forget_files; /* opened files stay out of the recent files */
    GtkLabel *subtitle, *status;
    CtStartPage *start_page;
    CtTreeView *tree;
    CtTimelineView *timeline;
    CtCountsView *counts;
    CtFindingsView *findings;
    CtSitesView *sites;
    CtDetailsView *details;

    CtTraceSource *source;
    CtLiveSource *live; /* when following a process */
    CtTraceModel *model;
    GCancellable *cancel;
    gboolean analysed;     /* findings and lifespans both arrived */
    gboolean have_findings, have_spans;
    gboolean view_chosen;  /* a view was asked for: findings arriving do not switch */
    gboolean switching;    /* the window itself is switching views */
    char *analysis_note;
    guint analysis_tick, analysis_timeout; /* the deferred start of the analysis */
    int frames_before_analysis;
};

G_DEFINE_FINAL_TYPE(CtWindow, ct_window, GTK_TYPE_APPLICATION_WINDOW)

enum { SIGNAL_ANALYSIS_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void update_status(CtWindow *self)
{
    if (self->model == NULL)
        return;
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    g_autofree char *n = ct_format_count(MAX(m->contexts, 0));
    g_autofree char *span = ct_format_duration(m->now_ns - m->start_ns);
    g_autofree char *text = NULL;
    if (self->live != NULL) {
        /* Live: where it comes from, and whether it still does (an ended stream keeps
         * its last state, and this says why it ended). */
        text = g_strdup_printf("live — pid %" G_GINT64_FORMAT " — %s contexts seen over %s — %s", m->pid,
                               n, span, ct_live_source_get_state_text(self->live));
    } else {
        const char *origin = self->source ? ct_trace_source_get_path(self->source) : "live";
        gboolean indexed = self->source == NULL || ct_trace_source_has_indexes(self->source);
        g_autofree char *folded = m->summarized > 0 ? ct_format_count(m->summarized) : NULL;
        g_autofree char *contexts = folded ? g_strdup_printf("%s contexts (and %s folded into per-site "
                                                             "summaries)", n, folded)
                                           : g_strdup_printf("%s contexts", n);
        text = g_strdup_printf(
            "%s — pid %" G_GINT64_FORMAT " — %s over %s — %s%s — %s", origin, m->pid, contexts, span,
            m->complete ? "the process exited cleanly" : "incomplete trace (still running or killed)",
            indexed ? "" : ", no indexes: tree mapped in memory",
            self->analysis_note ? self->analysis_note : "analysing…");
    }
    gtk_label_set_text(self->status, text);
}

/* "analysis-done" once both background reads arrived (findings and lifespans). */
static void background_done(CtWindow *self)
{
    if (!self->have_findings || !self->have_spans)
        return;
    ct_trace_model_flush(self->model);
    self->analysed = TRUE;
    g_signal_emit(self, signals[SIGNAL_ANALYSIS_DONE], 0);
}

static void analysis_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    struct ct_findings *f = ct_trace_source_analyze_finish(CT_TRACE_SOURCE(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* the window went away, or another file was opened */
    CtWindow *self = data;
    g_free(self->analysis_note);
    if (f == NULL) {
        self->analysis_note = g_strdup_printf("analysis failed: %s", error->message);
        ct_findings_view_set_error(self->findings, error->message);
    } else {
        self->analysis_note = f->len == 0 ? g_strdup("no findings")
                                          : g_strdup_printf("%zu finding%s", f->len, f->len == 1 ? "" : "s");
        ct_trace_model_set_findings(self->model, f);
        /* Findings are why one opens a trace: show them, the first one selected (its
         * context in the tree, the timeline and the details) — unless a view was
         * asked for meanwhile. */
        if (f->len > 0 && !self->view_chosen) {
            self->switching = TRUE;
            gtk_stack_set_visible_child_name(self->views, "findings");
            self->switching = FALSE;
            ct_findings_view_select(self->findings, 1); /* row 0 is its rule's group */
        }
    }
    self->have_findings = TRUE;
    update_status(self);
    background_done(self);
}

static void spans_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CtSpans) spans = ct_trace_source_load_spans_finish(CT_TRACE_SOURCE(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    CtWindow *self = data;
    if (spans != NULL)
        ct_trace_model_set_spans(self->model, spans);
    else
        g_warning("the timeline could not read the trace: %s", error->message);
    self->have_spans = TRUE;
    background_done(self);
}

static void context_selected_cb(GtkWidget *view, gint64 id, CtWindow *self)
{
    if (view != GTK_WIDGET(self->tree))
        ct_tree_view_reveal(self->tree, id);
    if (view != GTK_WIDGET(self->timeline))
        ct_timeline_view_select(self->timeline, id);
    ct_details_view_show(self->details, id);
}

/* A site selected in the Sites view: the tree lists its contexts (a search by its
 * site), the timeline shows its lane only; none: both show everything again. */
static void site_selected_cb(CtSitesView *view, const char *site, CtWindow *self)
{
    (void)view;
    ct_tree_view_set_filter(self->tree, site, -1, -1, FALSE);
    ct_timeline_view_set_site(self->timeline, site);
}

void ct_window_select_context(CtWindow *self, gint64 id)
{
    ct_tree_view_reveal(self->tree, id);
    ct_timeline_view_select(self->timeline, id);
    ct_details_view_show(self->details, id);
}

/* A finding: its first example context, revealed in the tree (which shows its site
 * and, in the details, its stacks). */
static void finding_selected_cb(CtFindingsView *view, gpointer finding, CtWindow *self)
{
    (void)view;
    const struct ct_finding *f = finding;
    if (f->nexamples > 0)
        ct_window_select_context(self, f->examples[0]);
}

/* The analysis of a large trace takes a core and the memory bus for seconds: start it
 * once the first screen is painted (the second frame), not while it is being drawn —
 * or after a short while if the window is not painting at all (hidden). */
static void unschedule_analysis(CtWindow *self);

static void start_analysis(CtWindow *self)
{
    unschedule_analysis(self);
    ct_trace_source_load_spans_async(self->source, self->cancel, spans_done_cb, self);
    ct_trace_source_analyze_async(self->source, self->cancel, analysis_done_cb, self);
}

static gboolean analysis_tick_cb(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
    (void)clock;
    (void)data;
    CtWindow *self = CT_WINDOW(widget);
    if (++self->frames_before_analysis < 2)
        return G_SOURCE_CONTINUE;
    self->analysis_tick = 0; /* removed by returning G_SOURCE_REMOVE */
    start_analysis(self);
    return G_SOURCE_REMOVE;
}

static gboolean analysis_timeout_cb(gpointer data)
{
    CtWindow *self = data;
    self->analysis_timeout = 0;
    start_analysis(self);
    return G_SOURCE_REMOVE;
}

static void schedule_analysis(CtWindow *self)
{
    self->frames_before_analysis = 0;
    self->analysis_tick = gtk_widget_add_tick_callback(GTK_WIDGET(self), analysis_tick_cb, NULL, NULL);
    self->analysis_timeout = g_timeout_add(1000, analysis_timeout_cb, self);
}

static void unschedule_analysis(CtWindow *self)
{
    if (self->analysis_tick != 0)
        gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->analysis_tick);
    if (self->analysis_timeout != 0)
        g_source_remove(self->analysis_timeout);
    self->analysis_tick = self->analysis_timeout = 0;
}

static void bind_views(CtWindow *self)
{
    ct_tree_view_set_model(self->tree, self->model);
    ct_timeline_view_set_model(self->timeline, self->model);
    ct_counts_view_set_model(self->counts, self->model);
    ct_findings_view_set_model(self->findings, self->model);
    ct_sites_view_set_model(self->sites, self->model);
    ct_details_view_set_model(self->details, self->model);
}

/* Show `model` in every view (dropping what was shown). */
static void show_model(CtWindow *self, CtTraceModel *model, CtTraceSource *source)
{
    unschedule_analysis(self);
    if (self->cancel != NULL)
        g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    g_clear_object(&self->source);
    g_clear_object(&self->live);
    g_set_object(&self->model, model);
    g_clear_pointer(&self->analysis_note, g_free);
    self->analysed = self->have_findings = self->have_spans = FALSE;
    self->source = source;

    bind_views(self);

    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    g_autofree char *program = m->program ? g_path_get_basename(m->program) : g_strdup("?");
    gtk_label_set_text(self->subtitle, program);
    g_autofree char *title = g_strdup_printf("%s — ctxtrace inspector", program);
    gtk_window_set_title(GTK_WINDOW(self), title);
    gtk_stack_set_visible_child_name(self->pages, "trace");
    gtk_widget_set_visible(self->switcher, TRUE);
    update_status(self);
}

void ct_window_show_model(CtWindow *self, CtTraceModel *model)
{
    show_model(self, model, NULL);
    self->analysis_note = g_strdup("no analysis yet");
    g_signal_connect_object(model, "meta-changed", G_CALLBACK(update_status), self, G_CONNECT_SWAPPED);
}

/* The header's subtitle: the program, and whether it is still running. */
static void update_subtitle(CtWindow *self)
{
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    g_autofree char *program = m->program ? g_path_get_basename(m->program) : g_strdup("?");
    g_autofree char *text = g_strdup_printf("%s — %s", program,
                                            ct_live_source_has_ended(self->live) ? "process exited"
                                                                                 : "live");
    gtk_label_set_text(self->subtitle, text);
    g_autofree char *title = g_strdup_printf("%s — ctxtrace inspector", program);
    gtk_window_set_title(GTK_WINDOW(self), title);
}

static void live_meta_changed_cb(CtWindow *self)
{
    update_subtitle(self);
    update_status(self);
}

/* The tree opens its first levels when it is given a model (the program's top
 * context under background); live, they arrive with the snapshot: open them then. */
static void live_snapshot_done_cb(CtWindow *self)
{
    ct_tree_view_set_model(self->tree, self->model);
}

/* The live source replaced its model (its history grew past its bound): show the new
 * one, which holds the live tree as of the last resync. */
static void live_model_replaced_cb(CtWindow *self)
{
    CtTraceModel *model = ct_live_source_get_model(self->live);
    g_set_object(&self->model, model);
    bind_views(self);
    g_signal_connect_object(model, "meta-changed", G_CALLBACK(live_meta_changed_cb), self,
                            G_CONNECT_SWAPPED);
    live_meta_changed_cb(self);
}

void ct_window_follow(CtWindow *self, CtLiveSource *live)
{
    g_autoptr(CtTraceModel) model = ct_live_source_start(live);
    ct_window_show_model(self, model);
    g_clear_pointer(&self->analysis_note, g_free);
    self->live = g_object_ref(live);
    g_signal_connect_object(live, "model-replaced", G_CALLBACK(live_model_replaced_cb), self,
                            G_CONNECT_SWAPPED);
    g_signal_connect_object(model, "meta-changed", G_CALLBACK(live_meta_changed_cb), self,
                            G_CONNECT_SWAPPED);
    g_signal_connect_object(live, "ended", G_CALLBACK(live_meta_changed_cb), self, G_CONNECT_SWAPPED);
    g_signal_connect_object(live, "snapshot-done", G_CALLBACK(live_snapshot_done_cb), self,
                            G_CONNECT_SWAPPED);
    live_meta_changed_cb(self);
}

gboolean ct_window_connect(CtWindow *self, const char *target, GError **error)
{
    g_autoptr(CtLiveSource) live = ct_live_source_connect(target, error);
    if (live == NULL)
        return FALSE;
    ct_window_follow(self, live);
    return TRUE;
}

CtLiveSource *ct_window_get_live_source(CtWindow *self)
{
    return self->live;
}

gboolean ct_window_open(CtWindow *self, const char *path, GError **error)
{
    CtTraceSource *source = ct_trace_source_open(path, error);
    if (source == NULL)
        return FALSE;
    g_autoptr(CtTraceModel) model = ct_trace_model_new(CT_SOURCE(source));
    ct_trace_source_load(source, model);
    show_model(self, model, source);

    g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
    if (uri == NULL) {
        g_autofree char *abs = g_canonicalize_filename(path, NULL);
        uri = g_filename_to_uri(abs, NULL, NULL);
    }
    if (uri != NULL && !self->forget_files)
        gtk_recent_manager_add_item(gtk_recent_manager_get_default(), uri);

    self->cancel = g_cancellable_new();
    schedule_analysis(self);
    return TRUE;
}

/* GTK 4.10 replaced GtkMessageDialog and GtkFileChooserNative by GtkAlertDialog and
 * GtkFileDialog; Debian 12 has 4.8, where the older ones are current. */
static void show_error(CtWindow *self, const char *message)
{
#if GTK_CHECK_VERSION(4, 10, 0)
    GtkAlertDialog *dialog = gtk_alert_dialog_new("Cannot open the trace");
    gtk_alert_dialog_set_detail(dialog, message);
    gtk_alert_dialog_show(dialog, GTK_WINDOW(self));
    g_object_unref(dialog);
#else
    GtkWidget *dialog = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                               GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Cannot open the trace");
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", message);
    g_signal_connect(dialog, "response", G_CALLBACK(gtk_window_destroy), NULL);
    gtk_window_present(GTK_WINDOW(dialog));
#endif
}

static void open_path(CtWindow *self, const char *path)
{
    g_autoptr(GError) error = NULL;
    if (!ct_window_open(self, path, &error))
        show_error(self, error->message);
}

static void open_file_cb(CtStartPage *page, const char *path, CtWindow *self)
{
    (void)page;
    open_path(self, path);
}

static void connect_cb(CtStartPage *page, const char *socket, CtWindow *self)
{
    (void)page;
    g_autoptr(GError) error = NULL;
    if (!ct_window_connect(self, socket, &error))
        show_error(self, error->message);
}

static GtkFileFilter *trace_filter(void)
{
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, "ctxtrace trace files (*.db)");
    gtk_file_filter_add_pattern(filter, "*.db");
    return filter;
}

#if GTK_CHECK_VERSION(4, 10, 0)
static void file_chosen_cb(GObject *dialog, GAsyncResult *result, gpointer data)
{
    g_autoptr(GFile) file = gtk_file_dialog_open_finish(GTK_FILE_DIALOG(dialog), result, NULL);
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    if (path != NULL)
        open_path(CT_WINDOW(data), path);
}

static void open_action(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    GtkFileDialog *dialog = gtk_file_dialog_new();
    gtk_file_dialog_set_title(dialog, "Open Trace File");
    g_autoptr(GtkFileFilter) filter = trace_filter();
    gtk_file_dialog_set_default_filter(dialog, filter);
    gtk_file_dialog_open(dialog, GTK_WINDOW(widget), NULL, file_chosen_cb, widget);
    g_object_unref(dialog);
}
#else
static void chooser_response_cb(GtkNativeDialog *dialog, int response, CtWindow *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
        if (path != NULL)
            open_path(self, path);
    }
    g_object_unref(dialog);
}

static void open_action(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
        "Open Trace File", GTK_WINDOW(widget), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
    GtkFileFilter *filter = trace_filter();
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), filter);
    g_object_unref(filter);
    g_signal_connect(chooser, "response", G_CALLBACK(chooser_response_cb), widget);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}
#endif

/* Alt+1 … Alt+4 switch views (as in GNOME applications with a view switcher). */
static void view_action(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    ct_window_show_view(CT_WINDOW(widget), g_variant_get_string(param, NULL));
}

gboolean ct_window_show_view(CtWindow *self, const char *name)
{
    if (gtk_stack_get_child_by_name(self->views, name) == NULL)
        return FALSE;
    self->view_chosen = TRUE;
    gtk_stack_set_visible_child_name(self->views, name);
    return TRUE;
}

void ct_window_set_forget_files(CtWindow *self, gboolean forget)
{
    self->forget_files = forget;
}

GMenuModel *ct_window_get_primary_menu(CtWindow *self)
{
    return gtk_menu_button_get_menu_model(self->menu_button);
}

const char *ct_window_get_view(CtWindow *self)
{
    return gtk_stack_get_visible_child_name(self->views);
}

CtTraceModel *ct_window_get_model(CtWindow *self)
{
    return self->model;
}

gboolean ct_window_is_analysed(CtWindow *self)
{
    return self->analysed;
}

CtTreeView *ct_window_get_tree_view(CtWindow *self)
{
    return self->tree;
}

CtTimelineView *ct_window_get_timeline_view(CtWindow *self)
{
    return self->timeline;
}

CtFindingsView *ct_window_get_findings_view(CtWindow *self)
{
    return self->findings;
}

CtSitesView *ct_window_get_sites_view(CtWindow *self)
{
    return self->sites;
}

CtDetailsView *ct_window_get_details_view(CtWindow *self)
{
    return self->details;
}

CtWindow *ct_window_new(GtkApplication *app)
{
    return g_object_new(CT_TYPE_WINDOW, "application", app, NULL);
}

static void ct_window_dispose(GObject *object)
{
    CtWindow *self = CT_WINDOW(object);
    unschedule_analysis(self);
    if (self->cancel != NULL)
        g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    g_clear_object(&self->model);
    g_clear_object(&self->source);
    g_clear_object(&self->live);
    g_clear_pointer(&self->analysis_note, g_free);
    G_OBJECT_CLASS(ct_window_parent_class)->dispose(object);
}

static void ct_window_class_init(CtWindowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_window_dispose;
    signals[SIGNAL_ANALYSIS_DONE] = g_signal_new("analysis-done", G_TYPE_FROM_CLASS(klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 0);
    /* The template names these types: register them first. */
    g_type_ensure(CT_TYPE_START_PAGE);
    g_type_ensure(CT_TYPE_TREE_VIEW);
    g_type_ensure(CT_TYPE_TIMELINE_VIEW);
    g_type_ensure(CT_TYPE_COUNTS_VIEW);
    g_type_ensure(CT_TYPE_FINDINGS_VIEW);
    g_type_ensure(CT_TYPE_SITES_VIEW);
    g_type_ensure(CT_TYPE_DETAILS_VIEW);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class, "/org/ctxtrace/Inspector/ct-window.ui");
    gtk_widget_class_bind_template_child(widget_class, CtWindow, pages);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, views);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, switcher);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, menu_button);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, subtitle);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, status);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, start_page);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, tree);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, timeline);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, counts);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, findings);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, sites);
    gtk_widget_class_bind_template_child(widget_class, CtWindow, details);

    gtk_widget_class_install_action(widget_class, "win.open", NULL, open_action);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
    gtk_widget_class_install_action(widget_class, "win.view", "s", view_action);
    static const char *const names[] = {"tree", "timeline", "counts", "findings", "sites"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
        gtk_widget_class_add_binding_action(widget_class, GDK_KEY_1 + i, GDK_ALT_MASK, "win.view",
                                            "s", names[i]);
}

/* The user switched views (the switcher): findings arriving later leave it be. */
static void visible_view_cb(CtWindow *self)
{
    if (!self->switching && gtk_stack_get_visible_child_name(self->pages) != NULL &&
        g_strcmp0(gtk_stack_get_visible_child_name(self->pages), "trace") == 0)
        self->view_chosen = TRUE;
}

static void ct_window_init(CtWindow *self)
{
    ct_resources_ensure_style();
    gtk_widget_init_template(GTK_WIDGET(self));
    g_signal_connect_swapped(self->views, "notify::visible-child", G_CALLBACK(visible_view_cb), self);
    g_signal_connect(self->tree, "context-selected", G_CALLBACK(context_selected_cb), self);
    g_signal_connect(self->timeline, "context-selected", G_CALLBACK(context_selected_cb), self);
    g_signal_connect(self->findings, "finding-selected", G_CALLBACK(finding_selected_cb), self);
    g_signal_connect(self->sites, "site-selected", G_CALLBACK(site_selected_cb), self);
    g_signal_connect(self->start_page, "open-file", G_CALLBACK(open_file_cb), self);
    g_signal_connect(self->start_page, "connect", G_CALLBACK(connect_cb), self);
}
