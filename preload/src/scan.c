/*
 * scan.c — the conservative reachability scan of the exit check (see scan.h for what
 * counts as a root, an object and a reference).
 *
 * Objects are found by address: /proc/self/maps (read with the world stopped) gives the
 * mappings; a glibc heap — the main arena's [heap], or a 64 MiB-aligned arena heap — is
 * walked from its first chunk to its top, and only then trusted: a walk that does not land
 * exactly on the heap's end makes the mapping one object instead (more references found,
 * never fewer). Each flood marks what it visited with its generation, so the per-waiter
 * floods never redo what the first flood (everyone but the waiters) already reached.
 */
#include "scan.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "shim.h"

enum {
    BUF_WORDS = 8192,             /* 64 KiB read window */
    MAPS_BYTES = 8 << 20,         /* /proc/self/maps text */
    MAX_MAPS = 65536,
    MAX_STATICS = 4096,
    MAX_IGNORED = 4096,
    WORK_CAP = 1 << 22,           /* ranges waiting to be scanned */
    RED_ZONE = 128,               /* x86-64: leaf functions use 128 bytes below sp */
    TLS_BELOW = 16 << 10,         /* static TLS lies below the thread pointer (variant II) */
    TLS_ABOVE = 4 << 10,
    MAX_PARENT_WALK = 1 << 20,
};

static const uintptr_t ARENA_HEAP_ALIGN = 64u << 20; /* glibc HEAP_MAX_SIZE on 64-bit */

enum map_kind { MAP_IGNORE, MAP_OBJECT, MAP_HEAP, MAP_HUGE };

/* A writable anonymous mapping this large is an address-space reservation, not an
 * object: a sanitizer's shadow memory (ASan's is terabytes), a garbage collector's arena.
 * Scanning it as one object cannot finish in the check's bounded time. Under a
 * sanitizer runtime such mappings are the sanitizer's own metadata, which holds no
 * pointers of the program's: ignored. Otherwise a pointer reaching one makes the scan's
 * answer unknown (when in doubt, reachable: never a false alarm). */
static const uintptr_t HUGE_MAPPING = (uintptr_t)64 << 30;

/* Is a sanitizer runtime (which owns the shadow memory and the allocator) loaded? */
static bool sanitized(void)
{
    static const char *const inits[] = {"__asan_init", "__tsan_init", "__msan_init",
                                        "__hwasan_init"};
    for (size_t i = 0; i < sizeof inits / sizeof *inits; i++)
        if (dlsym(RTLD_DEFAULT, inits[i]) != NULL)
            return true;
    return false;
}

/* A live context's object: its bytes are the runtime's (links to parent, children,
 * lanes), never scanned; a pointer anywhere into it is a reference to the context. */
struct ctx_obj {
    uintptr_t lo, hi;
    size_t slot; /* in live_addr */
};

struct mapping {
    uintptr_t lo, hi;
    uintptr_t live_lo; /* a stack: below this (dead frames, the scanner's own) is garbage */
    uintptr_t tcb;     /* a stopped thread's stack: its thread control block from here up */
    int kind;
    size_t first, n;  /* MAP_HEAP: its chunks in s->chunks */
    uint32_t gen;     /* MAP_OBJECT: flood that visited it */
};

struct scan {
    const struct u64map *addr, *parent;
    uintptr_t ctx_lo, ctx_hi;   /* bounds of the live contexts' objects */
    struct ctx_obj *objs;       /* the live contexts' objects, by address */
    size_t nobjs;
    struct span *exclude;       /* sorted; the shim's memory */
    size_t nexclude;
    struct span statics[MAX_STATICS];
    size_t nstatics;
    struct span ignored[MAX_IGNORED]; /* excluded modules' data: never objects */
    size_t nignored;
    char *maps_text;
    struct mapping *maps;
    size_t nmaps;
    bool sanitized;             /* a sanitizer runtime is loaded: huge mappings are its */
    bool huge_reached;          /* a pointer reached a huge mapping: the answer is unknown */
    uintptr_t *chunks;          /* chunk address | 1 if in use, in address order */
    uint32_t *chunk_gen;
    size_t nchunks, capchunks;
    uint8_t *reach;             /* per live_addr slot: enum scan_reach */
    uint32_t *ctx_gen;
    struct span *work;
    size_t nwork;
    uint32_t gen;
    uint64_t waiting_on;        /* the current flood's waiter: the context it waits on */
    bool overflow;
    bool late;                  /* past the deadline: the scan gives up */
    int64_t deadline;
    uint64_t words, objects;
    pid_t pid;
    uint64_t buf[BUF_WORDS];
    uintptr_t win_lo;           /* heap walk: the window held in buf */
    size_t win_len;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *map_zero(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Read n bytes at a into dst; false if any of it is not mapped. */
static bool readmem(const struct scan *s, uintptr_t a, void *dst, size_t n)
{
    struct iovec local = {dst, n}, remote = {(void *)a, n};
    return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* ---- before stopping: modules ------------------------------------------------------- */

/* Modules whose data is not a root: the runtime's (its tree links do not count), the
 * shim's and the unwinding and symbolizing libraries only the shim uses (they cache
 * pointers into the threads' stacks), and the C library's (malloc's free lists would make
 * every stale pointer in a freed block count). */
static bool skipped_module(const char *name)
{
    static const char *const prefixes[] = {"libctxtrace.so", "libctxtrace_preload.so",
                                           "libc.so",        "linux-vdso",
                                           "libunwind",      "libdw.so",
                                           "libelf.so"};
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static int collect_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct scan *s = arg;
    bool skip = skipped_module(info->dlpi_name ? info->dlpi_name : "");
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        struct span sp = {info->dlpi_addr + ph->p_vaddr,
                          info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
        if (skip && s->nignored < MAX_IGNORED)
            s->ignored[s->nignored++] = sp;
        else if (!skip && s->nstatics < MAX_STATICS)
            s->statics[s->nstatics++] = sp;
    }
    return 0;
}

static int cmp_obj(const void *a, const void *b)
{
    const struct ctx_obj *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

struct scan *scan_prepare(const struct u64map *live_addr, const struct u64map *live_parent,
                          const struct span *exclude, size_t nexclude, char *why, size_t len)
{
    /* Under ASan or TSan the heap is the sanitizer's: its objects cannot be told apart,
     * and its shadow and metadata mappings are terabytes of address space. Say so at once
     * rather than scan them until the deadline. */
    if (dlsym(RTLD_DEFAULT, "__asan_init") != NULL || dlsym(RTLD_DEFAULT, "__tsan_init") != NULL) {
        snprintf(why, len, "the heap is a sanitizer's (its objects are not known)");
        return NULL;
    }
    struct scan *s = map_zero(sizeof *s);
    if (s == NULL) {
        snprintf(why, len, "no memory for the scan");
        return NULL;
    }
    s->addr = live_addr;
    s->parent = live_parent;
    s->pid = getpid();
    s->sanitized = sanitized(); /* dlsym takes locks: only before the world stops */
    s->objs = map_zero((live_addr->len + 1) * sizeof *s->objs);
    if (s->objs == NULL) {
        snprintf(why, len, "no memory for the scan");
        return NULL;
    }
    /* Context objects come from malloc (the runtime's ctx_alloc): their extent is the
     * allocator's usable size, read now, while the contexts cannot be freed (the writer
     * is held, and a free is recorded before the memory goes back). */
    for (size_t i = 0; i < live_addr->cap; i++) {
        uintptr_t k = (uintptr_t)live_addr->keys[i];
        if (k != 0)
            s->objs[s->nobjs++] = (struct ctx_obj){k, k + malloc_usable_size((void *)k), i};
    }
    qsort(s->objs, s->nobjs, sizeof *s->objs, cmp_obj);
    s->ctx_lo = s->nobjs > 0 ? s->objs[0].lo : UINTPTR_MAX;
    s->ctx_hi = s->nobjs > 0 ? s->objs[s->nobjs - 1].hi : 0;
    dl_iterate_phdr(collect_module, s);
    /* The chunk table is sized for the whole address space's writable anonymous memory
     * as it is now, with room to grow: virtual, touched only as far as it is used. */
    size_t anon = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (f != NULL) {
        char line[512];
        unsigned long lo, hi;
        char perms[8];
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w' &&
                hi - lo < HUGE_MAPPING)
                anon += hi - lo;
        fclose(f);
    }
    s->capchunks = (anon + (256u << 20)) / 32;
    size_t cap = live_addr->cap ? live_addr->cap : 1;
    s->exclude = map_zero((nexclude + 8) * sizeof *s->exclude); /* + the scan's own */
    s->maps_text = map_zero(MAPS_BYTES);
    s->maps = map_zero(MAX_MAPS * sizeof *s->maps);
    s->chunks = map_zero(s->capchunks * sizeof *s->chunks);
    s->chunk_gen = map_zero(s->capchunks * sizeof *s->chunk_gen);
    s->reach = map_zero(cap);
    s->ctx_gen = map_zero(cap * sizeof *s->ctx_gen);
    s->work = map_zero(WORK_CAP * sizeof *s->work);
    if (s->exclude == NULL || s->maps_text == NULL || s->maps == NULL || s->chunks == NULL ||
        s->chunk_gen == NULL || s->reach == NULL || s->ctx_gen == NULL || s->work == NULL) {
        snprintf(why, len, "no memory for the scan");
        return NULL; /* what was mapped stays mapped: the process is ending */
    }
    memcpy(s->exclude, exclude, nexclude * sizeof *exclude);
    s->nexclude = nexclude;
    /* The scan's own tables hold no context addresses but the chunk table could look
     * like pointers into the heap: never objects. */
    struct span own[] = {
        {(uintptr_t)s, (uintptr_t)s + sizeof *s},
        {(uintptr_t)s->chunks, (uintptr_t)s->chunks + s->capchunks * sizeof *s->chunks},
        {(uintptr_t)s->work, (uintptr_t)s->work + WORK_CAP * sizeof *s->work},
        {(uintptr_t)s->maps, (uintptr_t)s->maps + MAX_MAPS * sizeof *s->maps},
        {(uintptr_t)s->exclude, (uintptr_t)s->exclude + (nexclude + 8) * sizeof *s->exclude},
        {(uintptr_t)s->objs, (uintptr_t)s->objs + (live_addr->len + 1) * sizeof *s->objs},
    };
    memcpy(s->exclude + s->nexclude, own, sizeof own);
    s->nexclude += sizeof own / sizeof *own;
    qsort(s->exclude, s->nexclude, sizeof *s->exclude, cmp_span);
    return s;
}

/* ---- with the world stopped: objects -------------------------------------------------- */

static bool overlaps(const struct span *v, size_t n, uintptr_t lo, uintptr_t hi)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].lo < hi && lo < v[i].hi)
            return true;
    return false;
}

/* Sorted exclusions: does [lo, hi) overlap one? */
static bool excluded(const struct scan *s, uintptr_t lo, uintptr_t hi)
{
    size_t a = 0, b = s->nexclude;
    while (a < b) { /* first exclusion ending after lo */
        size_t m = (a + b) / 2;
        if (s->exclude[m].hi <= lo)
            a = m + 1;
        else
            b = m;
    }
    for (size_t i = a; i < s->nexclude && s->exclude[i].lo < hi; i++)
        if (s->exclude[i].hi > lo)
            return true;
    return false;
}

/* The 8-byte word at a, through a window in buf (heap walks read headers in order). */
static bool peek(struct scan *s, uintptr_t a, uint64_t *v)
{
    if (a < s->win_lo || a + 8 > s->win_lo + s->win_len) {
        size_t n = sizeof s->buf;
        if (!readmem(s, a, s->buf, n)) {
            n = 4096 - a % 4096; /* up to the end of the page: the rest may be unmapped */
            if (!readmem(s, a, s->buf, n))
                return false;
        }
        s->win_lo = a;
        s->win_len = n;
    }
    memcpy(v, (const char *)s->buf + (a - s->win_lo), 8);
    return true;
}

/* Walk glibc chunks from `first` to exactly `end`; on success they are appended to the
 * chunk table and true is returned, else the table is left as it was. */
static bool walk_chunks(struct scan *s, uintptr_t first, uintptr_t end)
{
    size_t start = s->nchunks;
    uintptr_t c = first;
    s->win_len = 0;
    while (c < end) {
        uint64_t size;
        if (!peek(s, c + 8, &size))
            break;
        uintptr_t sz = (uintptr_t)size & ~(uintptr_t)7;
        if (sz < 32 || sz % 16 != 0 || sz > end - c || s->nchunks == s->capchunks)
            break;
        /* This chunk's PREV_INUSE bit tells whether the previous chunk is in use. */
        if (s->nchunks > start)
            s->chunks[s->nchunks - 1] |= (uintptr_t)(size & 1);
        s->chunks[s->nchunks++] = c;
        c += sz;
    }
    if (c != end || s->nchunks == start) {
        s->nchunks = start;
        return false;
    }
    /* The last is the top chunk: free space, never an object (its bit stays 0). */
    return true;
}

/* An arena heap (not the main arena's): heap_info at its start, chunks after it — or, in
 * the arena's first heap, after the malloc_state that follows heap_info. glibc versions
 * differ in both sizes, so candidate starts are tried until a walk lands on the end. */
static bool walk_arena_heap(struct scan *s, struct mapping *m)
{
    uint64_t ar_ptr, size;
    if (!peek(s, m->lo, &ar_ptr) || !peek(s, m->lo + 16, &size) || size == 0 ||
        size > m->hi - m->lo)
        return false;
    uintptr_t end = m->lo + (uintptr_t)size;
    uintptr_t from = m->lo + 32, to = m->lo + 128;
    if (ar_ptr > m->lo && ar_ptr < m->lo + 256) { /* the arena's own heap */
        from = (uintptr_t)ar_ptr + 2048;
        to = (uintptr_t)ar_ptr + 2560;
    }
    for (uintptr_t c = from; c < to; c += 8) {
        m->first = s->nchunks;
        if (walk_chunks(s, c, end)) {
            m->n = s->nchunks - m->first;
            return true;
        }
    }
    return false;
}

/* An anonymous writable mapping, s->maps[s->nmaps] (lo and hi set): added as one object,
 * or split around the arena heaps inside it. The kernel shows adjacent anonymous mappings
 * with the same permissions as one line, so an arena heap (64 MiB-aligned, heap_info at
 * its start) can sit inside a line that starts lower, right above some other mapping: each
 * aligned address in the line is tried, and what lies around a heap found is an object of
 * its own. (Taken whole, such a line made the arena and its neighbour one object, and a
 * waiter's pointer into its own arena reached every stale word in the neighbour.) */
static void add_anonymous(struct scan *s)
{
    uintptr_t lo = s->maps[s->nmaps].lo, hi = s->maps[s->nmaps].hi;
    uintptr_t a = (lo + ARENA_HEAP_ALIGN - 1) & ~(ARENA_HEAP_ALIGN - 1);
    for (; a < hi && s->nmaps + 2 < MAX_MAPS; a += ARENA_HEAP_ALIGN) {
        struct mapping h = {.lo = a, .hi = hi, .live_lo = a, .kind = MAP_HEAP};
        uint64_t size;
        if (!walk_arena_heap(s, &h) || !peek(s, a + 16, &size))
            continue;
        h.hi = a + (uintptr_t)size; /* walk_arena_heap checked that it fits */
        if (a > lo)
            s->maps[s->nmaps++] = (struct mapping){.lo = lo, .hi = a, .live_lo = lo,
                                                   .kind = MAP_OBJECT};
        s->maps[s->nmaps++] = h;
        lo = h.hi;
    }
    if (lo < hi)
        s->maps[s->nmaps++] = (struct mapping){.lo = lo, .hi = hi, .live_lo = lo,
                                               .kind = MAP_OBJECT};
}

static uintptr_t hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v << 4 | (uintptr_t)d;
    }
}

static int read_maps(struct scan *s, char *why, size_t len)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "cannot read /proc/self/maps");
        return -1;
    }
    size_t n = 0;
    for (ssize_t r; n < MAPS_BYTES - 1 && (r = read(fd, s->maps_text + n, MAPS_BYTES - 1 - n)) > 0;)
        n += (size_t)r;
    close(fd);
    s->maps_text[n] = '\0';
    s->nmaps = 0;
    for (const char *p = s->maps_text; *p != '\0' && s->nmaps < MAX_MAPS;) {
        struct mapping *m = &s->maps[s->nmaps];
        memset(m, 0, sizeof *m);
        m->lo = hex(&p);
        p++; /* '-' */
        m->hi = hex(&p);
        m->live_lo = m->lo;
        p++;
        bool readable = p[0] == 'r', writable = p[1] == 'w';
        /* offset, device, inode, path */
        for (int field = 0; field < 3 && *p != '\n' && *p != '\0'; field++) {
            while (*p != ' ' && *p != '\n' && *p != '\0')
                p++;
            while (*p == ' ')
                p++;
        }
        bool anonymous = *p == '0' && (p[1] == ' ' || p[1] == '\n');
        while (*p != ' ' && *p != '\n' && *p != '\0')
            p++;
        while (*p == ' ')
            p++;
        const char *path = p;
        while (*p != '\n' && *p != '\0')
            p++;
        bool heap = strncmp(path, "[heap]", 6) == 0;
        if (*p == '\n')
            p++;
        if (!readable || !writable || !anonymous || excluded(s, m->lo, m->hi) ||
            overlaps(s->ignored, s->nignored, m->lo, m->hi) ||
            overlaps(s->statics, s->nstatics, m->lo, m->hi) ||
            strncmp(path, "[v", 2) == 0) {
            m->kind = MAP_IGNORE; /* a module's data is a root already, not an object */
        } else if (m->hi - m->lo >= HUGE_MAPPING) {
            m->kind = s->sanitized ? MAP_IGNORE : MAP_HUGE;
        } else if (heap) {
            m->first = s->nchunks;
            m->kind = walk_chunks(s, m->lo, m->hi) ? MAP_HEAP : MAP_OBJECT;
            m->n = s->nchunks - m->first;
        } else {
            add_anonymous(s);
            continue;
        }
        s->nmaps++;
    }
    if (s->nmaps == MAX_MAPS) {
        snprintf(why, len, "more than %d mappings", MAX_MAPS);
        return -1;
    }
    return 0;
}

static struct mapping *mapping_of(struct scan *s, uintptr_t v)
{
    size_t a = 0, b = s->nmaps;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (s->maps[m].hi <= v)
            a = m + 1;
        else
            b = m;
    }
    return a < s->nmaps && s->maps[a].lo <= v ? &s->maps[a] : NULL;
}

/* ---- with the world stopped: the flood ------------------------------------------------ */

static void push(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi)
        return;
    if (s->nwork == WORK_CAP) {
        s->overflow = true;
        return;
    }
    s->work[s->nwork++] = (struct span){lo, hi};
}

/* Is context `id` the waited-on context of this flood's waiter, or one of its ancestors
 * (the waiter is blocked below it, so cannot cancel it)? */
static bool waiter_below(const struct scan *s, uint64_t id)
{
    uint64_t c = s->waiting_on;
    for (int steps = 0; c != 0 && steps < MAX_PARENT_WALK; steps++) {
        if (c == id)
            return true;
        if (!u64map_get(s->parent, c, &c))
            return false;
    }
    return false;
}

/* The first context object ending after a (nobjs if none). */
static size_t first_obj_after(const struct scan *s, uintptr_t a)
{
    size_t lo = 0, hi = s->nobjs;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (s->objs[m].hi <= a)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* The context object containing a, or NULL. */
static const struct ctx_obj *obj_at(const struct scan *s, uintptr_t a)
{
    if (a < s->ctx_lo || a >= s->ctx_hi)
        return NULL;
    size_t i = first_obj_after(s, a);
    return i < s->nobjs && s->objs[i].lo <= a ? &s->objs[i] : NULL;
}

static void found_context(struct scan *s, size_t slot)
{
    if (s->ctx_gen[slot] == s->gen || s->reach[slot] == SCAN_REACHABLE)
        return;
    s->ctx_gen[slot] = s->gen;
    if (s->gen == 1 || !waiter_below(s, s->addr->vals[slot]))
        s->reach[slot] = SCAN_REACHABLE;
    else
        s->reach[slot] = SCAN_STUCK;
}

/* A word that may be a pointer: a context (counted, never scanned: its links are the
 * runtime's), or into an object not yet visited (queued). */
static void consider(struct scan *s, uintptr_t v)
{
    const struct ctx_obj *o = obj_at(s, v);
    if (o != NULL) {
        found_context(s, o->slot);
        return;
    }
    struct mapping *m = mapping_of(s, v);
    if (m == NULL || m->kind == MAP_IGNORE)
        return;
    if (m->kind == MAP_HUGE) {
        s->huge_reached = true;
        return;
    }
    if (m->kind == MAP_OBJECT) {
        /* A pointer to a thread's control block is a pthread_t: it gives no access to
         * the thread's frames. One into its frames (a struct shared from its stack) does. */
        if ((m->tcb != 0 && v >= m->tcb) || m->gen == 1 || m->gen == s->gen)
            return;
        m->gen = s->gen;
        s->objects++;
        push(s, m->live_lo, m->tcb != 0 ? m->tcb : m->hi);
        return;
    }
    /* The chunk containing v: the last chunk starting at or before it. */
    size_t a = m->first, b = m->first + m->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if ((s->chunks[mid] & ~(uintptr_t)1) <= v)
            a = mid + 1;
        else
            b = mid;
    }
    if (a == m->first)
        return;
    size_t i = a - 1;
    uintptr_t c = s->chunks[i] & ~(uintptr_t)1;
    if (!(s->chunks[i] & 1) || i + 1 >= m->first + m->n)
        return; /* free, or the top chunk */
    uintptr_t end = s->chunks[i + 1] & ~(uintptr_t)1;
    if (v < c + 16 || s->chunk_gen[i] == 1 || s->chunk_gen[i] == s->gen)
        return;
    s->chunk_gen[i] = s->gen;
    if (obj_at(s, c + 16) != NULL || excluded(s, c, end))
        return; /* a context object, or the shim's */
    s->objects++;
    push(s, c + 16, end);
}

static void scan_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    while (lo + 8 <= hi) {
        if (mono_ns() > s->deadline) { /* every 64 KiB: cheap beside reading them */
            s->late = true;
            return;
        }
        size_t n = hi - lo < sizeof s->buf ? (hi - lo) & ~(size_t)7 : sizeof s->buf;
        if (!readmem(s, lo, s->buf, n)) {
            /* Part of it is not mapped (a guard page): take it a page at a time. */
            n = 4096 - lo % 4096 < n ? 4096 - lo % 4096 : n;
            if (!readmem(s, lo, s->buf, n)) {
                lo += n;
                continue;
            }
        }
        s->words += n / 8;
        /* Context objects inside the range (a mapping scanned whole) are skipped. */
        size_t next = first_obj_after(s, lo);
        for (size_t k = 0; k < n / 8; k++) {
            uintptr_t at = lo + k * 8;
            while (next < s->nobjs && s->objs[next].hi <= at)
                next++;
            if (next < s->nobjs && s->objs[next].lo <= at)
                continue;
            consider(s, (uintptr_t)s->buf[k]);
        }
        lo += n;
    }
}

static void flood(struct scan *s)
{
    while (s->nwork > 0 && !s->late) {
        struct span sp = s->work[--s->nwork];
        scan_range(s, sp.lo, sp.hi);
    }
}

/* A stack's live part starts at sp (less the red zone), and a thread created with
 * pthread_create has its control block (with TLS below it) at the top of the same
 * mapping: a pointer into the stack from elsewhere makes only the frames an object. */
static void set_live_lo(struct scan *s, uintptr_t sp, uintptr_t tp)
{
    struct mapping *st = mapping_of(s, sp);
    if (st == NULL || st->kind != MAP_OBJECT)
        return;
    if (sp - RED_ZONE > st->live_lo)
        st->live_lo = sp - RED_ZONE;
    if (tp > sp && tp < st->hi)
        st->tcb = tp;
}

/* A thread's roots: registers, stack from sp (red zone included) to the end of its
 * mapping, and its static TLS if it is not in that mapping. */
/* Queue [lo, hi) less the shim's TLS bulk `skip` of that thread. */
static void push_skipping(struct scan *s, uintptr_t lo, uintptr_t hi, struct span skip)
{
    if (skip.lo < hi && lo < skip.hi) {
        push(s, lo, skip.lo > lo ? skip.lo : lo);
        push(s, skip.hi < hi ? skip.hi : hi, hi);
    } else {
        push(s, lo, hi);
    }
}

static void thread_roots(struct scan *s, const uintptr_t *regs, int nregs, uintptr_t sp,
                         uintptr_t tp, uintptr_t red_zone, struct span skip)
{
    for (int i = 0; i < nregs; i++)
        consider(s, regs[i]);
    struct mapping *st = mapping_of(s, sp);
    uintptr_t hi = st != NULL ? st->hi : sp;
    if (st != NULL && st->kind == MAP_OBJECT && st->gen != 1)
        st->gen = s->gen; /* scanned now: not again as an object of this flood */
    push_skipping(s, sp - red_zone, hi, skip);
    if (tp != 0 && (tp < sp || tp >= hi)) {
        struct mapping *t = mapping_of(s, tp);
        if (t != NULL) {
            uintptr_t lo = tp - TLS_BELOW > t->lo ? tp - TLS_BELOW : t->lo;
            uintptr_t up = tp + TLS_ABOVE < t->hi ? tp + TLS_ABOVE : t->hi;
            push_skipping(s, lo, up, skip);
        }
    }
}

/* A thread that blocks the check's signal: its stack from the sp /proc gives while it
 * sleeps in a system call. False if it is running (no sp to start from). */
static bool unstoppable_roots(struct scan *s, pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* gone */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    if (buf[0] < '0' || buf[0] > '9')
        return false; /* "running" */
    /* "nr a1 a2 a3 a4 a5 a6 sp pc": the 8th field. */
    const char *p = buf;
    for (int field = 0; field < 7 && *p; field++) {
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    if (p[0] != '0' || p[1] != 'x')
        return false;
    p += 2;
    uintptr_t sp = hex(&p);
    thread_roots(s, NULL, 0, sp, 0, RED_ZONE, (struct span){0, 0});
    return true;
}

int scan_run(struct scan *s, const struct stw_world *w, uintptr_t self_lo, int64_t deadline_ns,
             char *why, size_t len)
{
    s->deadline = deadline_ns;
    if (read_maps(s, why, len) != 0)
        return -1;
    /* The checker's own frames (the scanner's locals) are below self_lo. */
    set_live_lo(s, self_lo + RED_ZONE, (uintptr_t)pthread_self());
    for (size_t i = 0; i < w->n; i++)
        if (w->threads[i].status == STW_STOPPED)
            set_live_lo(s, w->threads[i].sp, w->threads[i].tp);
    /* Everyone but the waiters: generation 1. */
    s->gen = 1;
    for (size_t i = 0; i < s->nstatics; i++)
        push(s, s->statics[i].lo, s->statics[i].hi);
    struct span own_tls;
    stackcap_tls_span(&own_tls.lo, &own_tls.hi);
    thread_roots(s, NULL, 0, self_lo, (uintptr_t)pthread_self(), 0, own_tls);
    for (size_t i = 0; i < w->n; i++) {
        const struct stw_thread *t = &w->threads[i];
        if (t->status == STW_STOPPED && t->waiting_on == 0)
            thread_roots(s, t->regs, STW_NREGS, t->sp, t->tp, RED_ZONE,
                         (struct span){t->skip_lo, t->skip_hi});
        else if (t->status == STW_UNSTOPPABLE && !unstoppable_roots(s, t->tid)) {
            snprintf(why, len, "thread %d could not be stopped and is running", (int)t->tid);
            return -1;
        }
    }
    flood(s);
    /* Each waiter alone: what only it reaches counts unless it waits at or below it. */
    for (size_t i = 0; i < w->n && !s->overflow && !s->late; i++) {
        const struct stw_thread *t = &w->threads[i];
        if (t->status != STW_STOPPED || t->waiting_on == 0)
            continue;
        s->gen++;
        s->waiting_on = t->waiting_on;
        thread_roots(s, t->regs, STW_NREGS, t->sp, t->tp, RED_ZONE,
                     (struct span){t->skip_lo, t->skip_hi});
        flood(s);
    }
    if (s->overflow) {
        snprintf(why, len, "more than %d objects waiting to be scanned", WORK_CAP);
        return -1;
    }
    if (s->huge_reached) {
        snprintf(why, len, "a pointer reaches a reservation of %lu GiB or more, too large to "
                 "scan", (unsigned long)(HUGE_MAPPING >> 30));
        return -1;
    }
    if (s->late) {
        snprintf(why, len, "the scan did not finish in time (%" PRIu64 " words read)", s->words);
        return -1;
    }
    return 0;
}

enum scan_reach scan_result(const struct scan *s, size_t slot)
{
    return (enum scan_reach)s->reach[slot];
}

void scan_stats(const struct scan *s, uint64_t *words, uint64_t *objects)
{
    *words = s->words;
    *objects = s->objects;
}
