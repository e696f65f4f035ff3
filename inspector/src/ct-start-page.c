/*
 * ct-start-page.c — Open, a running process, or a recent trace file (see
 * ct-start-page.h).
 */
#include "ct-start-page.h"

#include <ctxtrace/core/livepath.h>

#include "ct-resources.h"

#define MAX_RECENT 8
/* How long a socket may take to say HELLO before ct_live_list skips it (a stopped or
 * hung process must not hold the list up for long). */
#define HELLO_TIMEOUT_MS 300

struct _CtStartPage {
    GtkBox parent_instance;
    GtkWidget *recent_label, *processes_label;
    GtkListBox *recent, *processes;
    GCancellable *listing; /* the running processes being listed */
};

G_DEFINE_FINAL_TYPE(CtStartPage, ct_start_page, GTK_TYPE_BOX)

enum { SIGNAL_OPEN_FILE, SIGNAL_CONNECT, N_SIGNALS };
static guint signals[N_SIGNALS];

static void recent_activated_cb(GtkListBox *box, GtkListBoxRow *row, CtStartPage *self)
{
    (void)box;
    const char *path = g_object_get_data(G_OBJECT(row), "ct-path");
    if (path != NULL)
        g_signal_emit(self, signals[SIGNAL_OPEN_FILE], 0, path);
}

static void process_activated_cb(GtkListBox *box, GtkListBoxRow *row, CtStartPage *self)
{
    (void)box;
    const char *socket = g_object_get_data(G_OBJECT(row), "ct-socket");
    if (socket != NULL)
        g_signal_emit(self, signals[SIGNAL_CONNECT], 0, socket);
}

static GtkWidget *row_label(const char *markup)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_markup(GTK_LABEL(label), markup);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_set_margin_start(label, 12);
    gtk_widget_set_margin_end(label, 12);
    gtk_widget_set_margin_top(label, 6);
    gtk_widget_set_margin_bottom(label, 6);
    return label;
}

/* ---- running processes: listed in a thread (each socket may take HELLO_TIMEOUT_MS) ---- */

typedef struct {
    struct ct_live_proc *procs;
    size_t n;
} Listing;

static void listing_free(gpointer p)
{
    Listing *l = p;
    free(l->procs);
    g_free(l);
}

static void list_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    (void)source;
    (void)data;
    (void)cancel;
    Listing *l = g_new0(Listing, 1);
    int rc = ct_live_list(HELLO_TIMEOUT_MS, &l->procs, &l->n);
    if (rc != 0) {
        listing_free(l);
        g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(rc), "%s", g_strerror(rc));
        return;
    }
    g_task_return_pointer(task, l, listing_free);
}

static void listed_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    (void)data;
    CtStartPage *self = CT_START_PAGE(source);
    Listing *l = g_task_propagate_pointer(G_TASK(result), NULL);
    if (g_task_get_cancellable(G_TASK(result)) != self->listing) {
        if (l != NULL)
            listing_free(l); /* superseded, or the page went away */
        return;
    }
    g_clear_object(&self->listing);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->processes))) != NULL)
        gtk_list_box_remove(self->processes, child);
    size_t n = l != NULL ? l->n : 0; /* an unusable socket directory: none to offer */
    for (size_t i = 0; i < n; i++) {
        const struct ct_live_proc *p = &l->procs[i];
        g_autofree char *base = g_path_get_basename(p->program);
        g_autofree char *markup = g_markup_printf_escaped("<b>%s</b>  pid %ld\n<small>%s</small>", base,
                                                          (long)p->pid, p->path);
        GtkWidget *row = gtk_list_box_row_new();
        gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), row_label(markup));
        g_object_set_data_full(G_OBJECT(row), "ct-socket", g_strdup(p->path), g_free);
        gtk_list_box_append(self->processes, row);
    }
    gtk_widget_set_visible(self->processes_label, n > 0);
    gtk_widget_set_visible(GTK_WIDGET(self->processes), n > 0);
    if (l != NULL)
        listing_free(l);
}

static void refresh_processes(CtStartPage *self)
{
    if (self->listing != NULL)
        g_cancellable_cancel(self->listing);
    g_clear_object(&self->listing);
    self->listing = g_cancellable_new();
    g_autoptr(GTask) task = g_task_new(self, self->listing, listed_cb, NULL);
    g_task_set_return_on_cancel(task, FALSE);
    g_task_run_in_thread(task, list_in_thread);
}

GtkListBox *ct_start_page_get_processes(CtStartPage *self)
{
    return self->processes;
}

static gint newest_first(gconstpointer a, gconstpointer b)
{
    GDateTime *x = gtk_recent_info_get_modified((GtkRecentInfo *)a);
    GDateTime *y = gtk_recent_info_get_modified((GtkRecentInfo *)b);
    return g_date_time_compare(y, x);
}

void ct_start_page_refresh(CtStartPage *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->recent))) != NULL)
        gtk_list_box_remove(self->recent, child);
    GList *items = gtk_recent_manager_get_items(gtk_recent_manager_get_default());
    items = g_list_sort(items, newest_first);
    int shown = 0;
    for (GList *l = items; l != NULL && shown < MAX_RECENT; l = l->next) {
        GtkRecentInfo *info = l->data;
        g_autofree char *path = g_filename_from_uri(gtk_recent_info_get_uri(info), NULL, NULL);
        if (path == NULL || !g_str_has_suffix(path, ".db") || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
            continue;
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *markup = g_markup_printf_escaped("<b>%s</b>\n<small>%s</small>", base, dir);
        GtkWidget *row = gtk_list_box_row_new();
        gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), row_label(markup));
        g_object_set_data_full(G_OBJECT(row), "ct-path", g_steal_pointer(&path), g_free);
        gtk_list_box_append(self->recent, row);
        shown++;
    }
    g_list_free_full(items, (GDestroyNotify)gtk_recent_info_unref);
    gtk_widget_set_visible(self->recent_label, shown > 0);
    gtk_widget_set_visible(GTK_WIDGET(self->recent), shown > 0);
    refresh_processes(self);
}

static void ct_start_page_dispose(GObject *object)
{
    CtStartPage *self = CT_START_PAGE(object);
    if (self->listing != NULL)
        g_cancellable_cancel(self->listing);
    g_clear_object(&self->listing);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_START_PAGE);
    G_OBJECT_CLASS(ct_start_page_parent_class)->dispose(object);
}

static void ct_start_page_class_init(CtStartPageClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_start_page_dispose;
    signals[SIGNAL_OPEN_FILE] = g_signal_new("open-file", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_CONNECT] = g_signal_new("connect", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                           NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-start-page.ui");
    gtk_widget_class_bind_template_child(widget_class, CtStartPage, recent_label);
    gtk_widget_class_bind_template_child(widget_class, CtStartPage, recent);
    gtk_widget_class_bind_template_child(widget_class, CtStartPage, processes_label);
    gtk_widget_class_bind_template_child(widget_class, CtStartPage, processes);
    gtk_widget_class_bind_template_callback(widget_class, process_activated_cb);
    gtk_widget_class_bind_template_callback(widget_class, recent_activated_cb);
}

static void ct_start_page_init(CtStartPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    ct_start_page_refresh(self);
}
