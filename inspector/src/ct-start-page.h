/*
 * ct-start-page.h — what the window shows with no trace open: an Open button
 * (win.open) and the recent trace files (GtkRecentManager). Signal "open-file"
 * (const char *path): the user picked a recent file.
 */
#ifndef CT_START_PAGE_H
#define CT_START_PAGE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CT_TYPE_START_PAGE (ct_start_page_get_type())
G_DECLARE_FINAL_TYPE(CtStartPage, ct_start_page, CT, START_PAGE, GtkBox)

/* Re-read the recent files (trace files only: *.db). */
void ct_start_page_refresh(CtStartPage *self);

G_END_DECLS

#endif /* CT_START_PAGE_H */
