/*
 * ct-start-page.h — what the window shows with no trace open: an Open button
 * (win.open), the running traced processes of this user (as `ctxtrace ps` lists them)
 * and the recent trace files (GtkRecentManager). Signals "open-file" (const char
 * *path): the user picked a recent file; "connect" (const char *socket): the user
 * picked a running process.
 */
#ifndef CT_START_PAGE_H
#define CT_START_PAGE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CT_TYPE_START_PAGE (ct_start_page_get_type())
G_DECLARE_FINAL_TYPE(CtStartPage, ct_start_page, CT, START_PAGE, GtkBox)

/* Re-read the recent files (trace files only: *.db) and, in the background, the
 * running processes. */
void ct_start_page_refresh(CtStartPage *self);
/* The running processes' list (rows carry their socket path): for tests. */
GtkListBox *ct_start_page_get_processes(CtStartPage *self);

G_END_DECLS

#endif /* CT_START_PAGE_H */
