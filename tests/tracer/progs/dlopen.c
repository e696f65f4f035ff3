/*
 * dlopen.c — a program that is not linked against libctxtrace but loads it at run
 * time with dlopen (tracer_dlopen LIBCTXTRACE global|local). The shim's dlopen
 * interposer must pick the runtime up and trace its contexts.
 *
 * Creates 1 cancel context and 2 cancel children, releases them; prints a line; exits 0.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <ctxtrace/ctx.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int mode = RTLD_NOW | (strcmp(argv[2], "global") == 0 ? RTLD_GLOBAL : RTLD_LOCAL);
    void *h = dlopen(argv[1], mode);
    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    ctx_t *(*background)(void);
    ctx_t *(*with_cancel)(ctx_t *);
    void (*release)(ctx_t *);
    *(void **)&background = dlsym(h, "ctx_background");
    *(void **)&with_cancel = dlsym(h, "ctx_with_cancel");
    *(void **)&release = dlsym(h, "ctx_release");
    if (background == NULL || with_cancel == NULL || release == NULL)
        return 1;
    ctx_t *root = with_cancel(background()); /* @site:dlopen-root */
    for (int i = 0; i < 2; i++) {
        ctx_t *c = with_cancel(root); /* @site:dlopen-child */
        release(c);
    }
    release(root);
    printf("dlopen (%s): 3 contexts\n", argv[2]);
    return 0;
}
