/*
 * ct-screenshot.h — render a widget (the main window) to a PNG file, through the
 * widget's own renderer: what `ctxtrace-inspector --screenshot` and the GUI tests use.
 */
#ifndef CT_SCREENSHOT_H
#define CT_SCREENSHOT_H

#include <gtk/gtk.h>

/* The widget must be realized (shown in a window). FALSE with error on failure. */
gboolean ct_screenshot_save(GtkWidget *widget, const char *path, GError **error);

#endif /* CT_SCREENSHOT_H */
