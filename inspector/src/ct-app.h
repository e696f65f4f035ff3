/*
 * ct-app.h — the ctxtrace-inspector command: its arguments, the application, and the
 * --screenshot mode.
 *
 *   ctxtrace-inspector [FILE.db | --connect PID|SOCKET] [--view tree|timeline|counts|findings|sites]
 *                      [--select ID] [--screenshot OUT.png [--after MS]] | --version
 *
 * --screenshot renders the main window to OUT.png once the trace is shown and its
 * analysis done (and MS milliseconds more), then exits: 0 written, 1 failed; the file
 * is not added to the recent files.
 * Bad arguments or an unreadable trace: a one-line error and exit 2.
 */
#ifndef CT_APP_H
#define CT_APP_H

#include <gtk/gtk.h>

/* The application id: the .desktop file, the AppStream id and the icon name. */
#define CT_APP_ID "org.ctxtrace.Inspector"

/* Run the application; returns the exit status. */
int ct_app_run(int argc, char **argv);
/* The About dialog (the primary menu's "About"). */
void ct_app_show_about(GtkWindow *parent);

#endif /* CT_APP_H */
