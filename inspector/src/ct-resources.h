/*
 * ct-resources.h — the inspector's GResource bundle (the .ui templates, the style sheet).
 *
 * The bundle is compiled into the static library; a constructor there would be
 * dropped by the linker (nothing references it), so every class with a template
 * registers the bundle explicitly, once, from its class_init.
 */
#ifndef CT_RESOURCES_H
#define CT_RESOURCES_H

void ct_resources_ensure(void);
/* Add the inspector's style sheet (inspector.css: the state colours) and its icon to
 * the default display, once; needs a display (call from a widget's init, not
 * class_init). */
void ct_resources_ensure_style(void);

#endif /* CT_RESOURCES_H */
