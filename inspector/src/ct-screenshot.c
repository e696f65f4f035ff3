/*
 * ct-screenshot.c — widget -> render node -> texture -> PNG (see ct-screenshot.h).
 */
#include "ct-screenshot.h"

gboolean ct_screenshot_save(GtkWidget *widget, const char *path, GError **error)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    GtkNative *native = gtk_widget_get_native(widget);
    GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
    if (w <= 0 || h <= 0 || renderer == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: the window is not shown yet", path);
        return FALSE;
    }
    /* A GtkWidgetPaintable has no image of a toplevel until its next frame, so draw
     * what a frame draws ourselves: the widget's CSS background (the theme's, dark or
     * light), then the widget's own snapshot — all its children. */
    GtkSnapshot *snapshot = gtk_snapshot_new();
    gtk_snapshot_render_background(snapshot, gtk_widget_get_style_context(widget), 0, 0, w, h);
    GTK_WIDGET_GET_CLASS(widget)->snapshot(widget, snapshot);
    g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(snapshot);
    if (node == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: nothing to render", path);
        return FALSE;
    }
    g_autoptr(GdkTexture) texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    if (!gdk_texture_save_to_png(texture, path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write the PNG", path);
        return FALSE;
    }
    return TRUE;
}
