/*
 * ballast.h — disk space set aside for a trace's last words on a full disk.
 *
 * When the disk fills, the commit that fails may have written nothing (measured: the
 * last commit that fitted left 2000 bytes, less than one WAL frame), and then the
 * transaction saying why — meta.write_error — and the end meta cannot be written
 * either: the trace looked complete-but-short and `ctxtrace run` exited 0 (1 run in 12
 * of faults.suite's disk-full case on a loaded machine). So the writer keeps, from its
 * start, an unnamed file on the trace's file system holding BALLAST_BYTES of allocated
 * space, and lets it go at the first write error: the space is free again for those
 * last transactions. Unnamed (O_TMPFILE, or created and unlinked at once), it vanishes
 * with the process however the process dies.
 */
#ifndef CT_BALLAST_H
#define CT_BALLAST_H

/* About 15 WAL frames: write_error, then the end meta, each a page or two. */
enum { BALLAST_BYTES = 64 * 1024 };

/* Allocate the ballast in the directory of `trace_path`; returns its descriptor (close
 * on exec), or -1 (no room, or a file system without fallocate: the last words then fit
 * only if the disk happens to take them). */
int ballast_make(const char *trace_path);

/* Give the space back (the descriptor is closed; -1 is ignored). */
void ballast_release(int fd);

#endif /* CT_BALLAST_H */
