/*
 * ct-details-view.c — the selected context in full (see ct-details-view.h).
 */
#include "ct-details-view.h"

#include <ctxtrace/tracer.h>
#include <errno.h>
#include <string.h>

#include "ct-format.h"
#include "ct-resources.h"

struct _CtDetailsView {
    GtkBox parent_instance;
    GtkLabel *title, *facts;
    GtkWidget *create_heading, *cancel_heading, *release_heading;
    GtkListBox *create_stack, *cancel_stack, *release_stack;

    CtTraceModel *model;
    CtContextItem *item;
    gulong changed_id;
    char *source_root; /* the program's source tree ("/…/project/"), once known */
};

G_DEFINE_FINAL_TYPE(CtDetailsView, ct_details_view, GTK_TYPE_BOX)

/* The program's source tree, from a stack's frames: the common directory of its
 * absolute source paths, widened to the enclosing checkout (a directory with .git) when
 * there is one — so paths read "samples/x/y.c", as in the repository, whichever
 * stack was shown first. NULL if the stack has no absolute paths. */
static char *source_root_of(const struct ct_stack *st)
{
    char *common = NULL;
    for (int i = 0; i < st->depth; i++) {
        const char *file = st->frames[i].file;
        if (file == NULL || file[0] != '/')
            continue;
        g_autofree char *dir = g_path_get_dirname(file);
        if (common == NULL) {
            common = g_steal_pointer(&dir);
            continue;
        }
        while (strcmp(common, "/") != 0 && !(g_str_has_prefix(dir, common) &&
                                             (dir[strlen(common)] == '/' || dir[strlen(common)] == '\0'))) {
            char *up = g_path_get_dirname(common);
            g_free(common);
            common = up;
        }
    }
    if (common == NULL)
        return NULL;
    for (g_autofree char *dir = g_strdup(common); strcmp(dir, "/") != 0;) {
        g_autofree char *git = g_build_filename(dir, ".git", NULL);
        if (g_file_test(git, G_FILE_TEST_EXISTS)) {
            g_free(common);
            return g_strconcat(dir, "/", NULL);
        }
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
    char *root = strcmp(common, "/") == 0 ? NULL : g_strconcat(common, "/", NULL);
    g_free(common);
    return root;
}

/* A frame row: its text (the path relative to `root`), and the absolute file:line it
 * copies (object data "ct-location"). */
static GtkWidget *frame_row(const struct ct_frame *f, const char *root)
{
    g_autofree char *location = f->file ? g_strdup_printf("%s:%d", f->file, f->line) : NULL;
    g_autofree char *rel = ct_format_path(f->file, root);
    g_autofree char *shown = f->file ? g_strdup_printf("%s:%d", rel, f->line) : NULL;
    g_autofree char *text = g_markup_printf_escaped(
        "<b>%s</b>\n<small>%s</small>", f->function ? f->function : "??",
        shown ? shown : (f->module ? f->module : "?"));
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_markup(GTK_LABEL(label), text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_START);
    gtk_widget_set_margin_start(label, 8);
    gtk_widget_set_margin_end(label, 8);
    gtk_widget_set_margin_top(label, 4);
    gtk_widget_set_margin_bottom(label, 4);
    GtkWidget *row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
    if (location != NULL) {
        g_autofree char *tip = g_strdup_printf("%s\nActivate to copy file:line", location);
        gtk_widget_set_tooltip_text(row, tip);
        g_object_set_data_full(G_OBJECT(row), "ct-location", g_strdup(location), g_free);
    }
    g_autofree char *plain = g_strdup_printf("%s %s", f->function ? f->function : "??",
                                             shown ? shown : (f->module ? f->module : "?"));
    g_object_set_data_full(G_OBJECT(row), "ct-text", g_steal_pointer(&plain), g_free);
    return row;
}

static void frame_activated_cb(GtkListBox *box, GtkListBoxRow *row, CtDetailsView *self)
{
    (void)box;
    (void)self;
    const char *location = g_object_get_data(G_OBJECT(row), "ct-location");
    if (location != NULL)
        gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(row)), location);
}

static void clear_box(GtkListBox *box)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(box))) != NULL)
        gtk_list_box_remove(box, child);
}

/* Fill one stack section; hidden when the context has no such stack. */
static void show_stack(CtDetailsView *self, GtkWidget *heading, GtkListBox *box, gint64 stack_id)
{
    clear_box(box);
    struct ct_stack st = {0};
    CtSource *source = ct_trace_model_get_source(self->model);
    gboolean have = stack_id != 0 && source != NULL && ct_source_load_stack(source, stack_id, &st) &&
                    st.depth > 0;
    if (have && self->source_root == NULL)
        self->source_root = source_root_of(&st);
    for (int i = 0; have && i < st.depth; i++)
        gtk_list_box_append(box, frame_row(&st.frames[i], self->source_root));
    ct_stack_free(&st);
    gtk_widget_set_visible(heading, have);
    gtk_widget_set_visible(GTK_WIDGET(box), have);
}

static void append_time(GString *s, const char *what, gint64 ns, gint64 start)
{
    if (ns == 0)
        return;
    g_autofree char *t = ct_format_duration(ns - start);
    g_string_append_printf(s, "%s: <b>%s</b> into the trace\n", what, t);
}

static void refresh(CtDetailsView *self)
{
    CtContextItem *it = self->item;
    if (it == NULL) {
        gtk_label_set_text(self->title, "Select a context");
        gtk_label_set_text(self->facts, "");
        show_stack(self, self->create_heading, self->create_stack, 0);
        show_stack(self, self->cancel_heading, self->cancel_stack, 0);
        show_stack(self, self->release_heading, self->release_stack, 0);
        return;
    }
    const CtTraceMeta *meta = ct_trace_model_get_meta(self->model);
    CtState state = ct_trace_model_get_state(self->model, it);
    g_autofree char *title = g_strdup_printf("#%" G_GINT64_FORMAT " %s — %s",
                                             ct_context_item_get_id(it),
                                             ct_context_item_get_kind_name(it), ct_state_name(state));
    gtk_label_set_text(self->title, title);

    GString *s = g_string_new(NULL);
    gint64 parent = ct_context_item_get_parent_id(it);
    if (parent != 0)
        g_string_append_printf(s, "Parent: <b>#%" G_GINT64_FORMAT "</b>\n", parent);
    gint64 thread = ct_context_item_get(it, CT_CREATE_THREAD, 0);
    if (thread != 0)
        g_string_append_printf(s, "Thread: <b>%" G_GINT64_FORMAT "</b>%s\n", thread,
                               thread == 1 ? " (main)" : "");
    gint64 start = meta->start_ns;
    append_time(s, "Created", ct_context_item_get(it, CT_CREATED_NS, 0), start);
    gint64 deadline = ct_context_item_get(it, CT_DEADLINE_NS, 0);
    if (deadline != 0) {
        g_autofree char *in = ct_format_duration(deadline - ct_context_item_get(it, CT_CREATED_NS, deadline));
        g_string_append_printf(s, "Deadline: <b>%s</b> after creation\n", in);
    }
    if (ct_context_item_get(it, CT_TIMER_ARMED_NS, 0) != 0) {
        const char *timer = ct_context_item_get(it, CT_TIMER_FIRED_NS, 0)     ? "fired"
                            : ct_context_item_get(it, CT_TIMER_STOPPED_NS, 0) ? "stopped by cancellation"
                                                                              : "still armed";
        g_string_append_printf(s, "Timer: <b>%s</b>\n", timer);
    }
    gint64 canceled = ct_context_item_get(it, CT_CANCELED_NS, 0);
    if (canceled != 0) {
        static const char *const why[] = {"explicitly", "by its parent", "by its deadline"};
        gint64 w = ct_context_item_get(it, CT_CANCEL_WHY, -1);
        g_autofree char *t = ct_format_duration(canceled - start);
        int err = (int)ct_context_item_get(it, CT_CANCEL_ERR, 0);
        g_string_append_printf(s, "Done: <b>%s</b> %s, %s\n", w >= 0 && w < 3 ? why[w] : "",
                               t, err == ETIMEDOUT ? "deadline exceeded" : "context canceled");
        int cause = (int)ct_context_item_get(it, CT_CANCEL_CAUSE, 0);
        const char *reason = ct_context_item_get_reason(it);
        if ((cause != 0 && cause != err) || reason != NULL) {
            g_autofree char *r = g_markup_escape_text(reason ? reason : strerror(cause), -1);
            g_string_append_printf(s, "Cause: <b>%s</b>\n", r);
        }
    }
    gint64 released = ct_context_item_get(it, CT_RELEASED_NS, 0);
    if (released != 0) {
        g_autofree char *t = ct_format_duration(released - start);
        /* Which leak, by the core's verdict: released live is an orphaned timer when
         * its own timer was armed, and no leak at all when a cancellation was already
         * on its way down to it. */
        struct ct_verdict v = ct_trace_model_verdict(self->model, ct_context_item_get_row(it));
        const char *leak = v.leak == CT_LEAK_ORPHANED_TIMER ? " — <b>while still live</b> (orphaned timer)"
                           : v.leak == CT_LEAK_LOST_CANCEL  ? " — <b>while still live</b> (lost cancel)"
                           : ct_context_item_get(it, CT_RELEASED_LIVE, 0) == 1
                               ? " — while still live, its cancellation already on its way"
                               : "";
        g_string_append_printf(s, "Released: %s%s\n", t, leak);
    }
    append_time(s, "Freed", ct_context_item_get(it, CT_FREED_NS, 0), start);
    gint64 lookups = ct_context_item_get(it, CT_VALUE_LOOKUPS, 0);
    if (lookups != 0)
        g_string_append_printf(s, "Value lookups: <b>%" G_GINT64_FORMAT "</b> (deepest %" G_GINT64_FORMAT
                                  ")\n", lookups, ct_context_item_get(it, CT_VALUE_DEPTH_MAX, 0));
    const struct ct_finding *f = ct_trace_model_get_finding_of(self->model, ct_context_item_get_id(it));
    if (f != NULL) {
        /* The finding by its rule and site, as the Findings view and the report say it. */
        g_autofree char *n = ct_format_count(f->count);
        g_autofree char *line = g_markup_printf_escaped(
            "Finding: <b>%s</b> at %s (%s context%s)", ct_rule_name(f->rule),
            ct_format_site(f->site.function, f->site.file, f->site.line, f->site.module), n,
            f->count == 1 ? "" : "s");
        g_string_append_printf(s, "<span foreground=\"#e01b24\">%s</span>\n", line);
    }
    if (s->len > 0 && s->str[s->len - 1] == '\n')
        g_string_truncate(s, s->len - 1);
    gtk_label_set_markup(self->facts, s->str);
    g_string_free(s, TRUE);

    show_stack(self, self->create_heading, self->create_stack, ct_context_item_get(it, CT_CREATE_STACK, 0));
    show_stack(self, self->cancel_heading, self->cancel_stack, ct_context_item_get(it, CT_CANCEL_STACK, 0));
    show_stack(self, self->release_heading, self->release_stack, ct_context_item_get(it, CT_RELEASE_STACK, 0));
}

static void item_changed_cb(CtContextItem *item, CtDetailsView *self)
{
    (void)item;
    refresh(self);
}

static void drop_item(CtDetailsView *self)
{
    if (self->item != NULL && self->changed_id != 0)
        g_signal_handler_disconnect(self->item, self->changed_id);
    self->changed_id = 0;
    g_clear_object(&self->item);
}

void ct_details_view_set_model(CtDetailsView *self, CtTraceModel *model)
{
    drop_item(self);
    g_clear_pointer(&self->source_root, g_free);
    g_set_object(&self->model, model);
    refresh(self);
}

void ct_details_view_show(CtDetailsView *self, gint64 id)
{
    drop_item(self);
    CtContextItem *item = id != 0 && self->model ? ct_trace_model_lookup(self->model, id) : NULL;
    if (item != NULL) {
        self->item = g_object_ref(item);
        self->changed_id = g_signal_connect(item, "changed", G_CALLBACK(item_changed_cb), self);
    }
    refresh(self);
}

gint64 ct_details_view_get_shown(CtDetailsView *self)
{
    return self->item ? ct_context_item_get_id(self->item) : 0;
}

const char *ct_details_view_get_facts_text(CtDetailsView *self)
{
    return gtk_label_get_text(self->facts);
}

char *ct_details_view_get_create_stack_text(CtDetailsView *self)
{
    GString *s = g_string_new(NULL);
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->create_stack)); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        const char *text = g_object_get_data(G_OBJECT(row), "ct-text");
        if (text != NULL)
            g_string_append_printf(s, "%s\n", text);
    }
    return g_string_free(s, FALSE);
}

static void ct_details_view_dispose(GObject *object)
{
    CtDetailsView *self = CT_DETAILS_VIEW(object);
    drop_item(self);
    g_clear_object(&self->model);
    g_clear_pointer(&CT_DETAILS_VIEW(object)->source_root, g_free);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_DETAILS_VIEW);
    G_OBJECT_CLASS(ct_details_view_parent_class)->dispose(object);
}

static void ct_details_view_class_init(CtDetailsViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_details_view_dispose;
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-details-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, title);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, facts);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, create_heading);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, cancel_heading);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, release_heading);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, create_stack);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, cancel_stack);
    gtk_widget_class_bind_template_child(widget_class, CtDetailsView, release_stack);
    gtk_widget_class_bind_template_callback(widget_class, frame_activated_cb);
}

static void ct_details_view_init(CtDetailsView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
