/*
 * ct-app.h — the ctxtrace-inspector command: its arguments, the application, and the
 * --screenshot mode.
 *
 *   ctxtrace-inspector [FILE.db] [--view tree|timeline|counts|findings] [--select ID]
 *                      [--screenshot OUT.png [--after MS]]
 *
 * --screenshot renders the main window to OUT.png once the trace is shown and its
 * analysis done (and MS milliseconds more), then exits: 0 written, 1 failed.
 * Bad arguments or an unreadable trace: a one-line error and exit 2.
 */
#ifndef CT_APP_H
#define CT_APP_H

/* Run the application; returns the exit status. */
int ct_app_run(int argc, char **argv);

#endif /* CT_APP_H */
