/*
 * ct-format.c — durations and counts as people read them (see ct-format.h).
 */
#include "ct-format.h"

#include <string.h>

char *ct_format_duration(gint64 ns)
{
    const char *sign = ns < 0 ? "-" : "";
    double v = ns < 0 ? -(double)ns : (double)ns;
    if (v < 1e3)
        return g_strdup_printf("%s%.0f ns", sign, v);
    if (v < 1e6)
        return g_strdup_printf("%s%.*f µs", sign, v < 1e4 ? 2 : 1, v / 1e3);
    if (v < 1e9)
        return g_strdup_printf("%s%.*f ms", sign, v < 1e7 ? 2 : 1, v / 1e6);
    if (v < 60e9)
        return g_strdup_printf("%s%.2f s", sign, v / 1e9);
    gint64 s = (gint64)(v / 1e9);
    return g_strdup_printf("%s%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s", sign, s / 60,
                           s % 60);
}

char *ct_format_count(gint64 n)
{
    char digits[32];
    g_snprintf(digits, sizeof digits, "%" G_GINT64_FORMAT, n < 0 ? -n : n);
    GString *out = g_string_new(n < 0 ? "-" : "");
    size_t len = strlen(digits);
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, digits[i]);
    }
    return g_string_free(out, FALSE);
}

const char *ct_format_site(const char *function, const char *file, int line, const char *module)
{
    g_autofree char *text = NULL;
    /* The file's base name: the site column and lane labels are narrow; the details
     * show the path. */
    if (file != NULL)
        text = g_strdup_printf("%s %s:%d", function ? function : "??",
                               strrchr(file, '/') ? strrchr(file, '/') + 1 : file, line);
    else
        text = g_strdup_printf("%s (%s)", function ? function : "??", module ? module : "?");
    return g_intern_string(text);
}

char *ct_format_path(const char *path, const char *root)
{
    if (path != NULL && root != NULL && g_str_has_prefix(path, root) && path[strlen(root)] != '\0')
        return g_strdup(path + strlen(root));
    return g_strdup(path);
}
