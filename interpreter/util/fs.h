/*
 * fs.h - small durable-file helpers: directories made on demand, files
 * replaced atomically (temp file, fsync, rename or link, fsync of the
 * directory), so a crash leaves the old content or the new, never half.
 * Used by the journal, the run lock, approvals, the history and the
 * simulator's state file.
 */
#ifndef DR_FS_H
#define DR_FS_H

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"

/* Publish with link(2) instead of rename(2): fails with EEXIST when path exists. */
#define DR_FS_EXCLUSIVE 1u
/*
 * The file is readable by everyone (mode 0644, never writable but by its
 * owner): only for files another program must read and that hold nothing
 * private (Prometheus metrics for node_exporter); never in the state directory.
 */
#define DR_FS_READABLE 2u
/*
 * A path the user named on the command line (--report, --metrics, plan -o,
 * report -o, --port-file). When it exists as something other than a
 * regular file (a device such as /dev/null, a FIFO, /dev/stdout, a symbolic
 * link) it is written in place through open(2) with O_TRUNC, as the shell's
 * > would: a rename would replace the device or the link itself (as root,
 * /dev/null with a file). Never for files in the state directory, where a
 * planted link must not be followed.
 */
#define DR_FS_NAMED 4u

/*
 * mkdir -p with mode 0700. Returns 0, or -1 with errno set and, when err is
 * not NULL, "cannot create directory 'X': reason" appended to it.
 */
int dr_fs_mkdirs(const char *path, dr_buf *err);

/* dr_fs_mkdirs of the directory that holds file. */
int dr_fs_mkdirs_parent(const char *file, dr_buf *err);

/* fsync the directory that holds path, so a new entry in it survives a power loss. */
void dr_fs_sync_parent(const char *path);

/* write(2) all n bytes, retrying short writes and EINTR. 0 or -1 with errno. */
int dr_fs_write_all(int fd, const void *data, size_t n);

/*
 * Replace path with data (n bytes) atomically and durably (mode 0600 for
 * the file). Its folder must exist (errno ENOENT, and err says which folder,
 * when it does not): drover makes folders only in its state directory, and
 * whoever owns a folder there makes it (dr_fs_mkdirs). flags: DR_FS_EXCLUSIVE, DR_FS_READABLE,
 * DR_FS_NAMED (then a device, FIFO or link is written in place). Returns 0, or
 * -1 with errno of the failing call kept and, when err is not NULL, a
 * message naming the file appended to it. No temporary file is left behind.
 * The temporary file gets a new random name (mkostemp: O_EXCL, 0600), so a
 * link planted under a predictable name is never followed. With
 * DR_FS_NAMED a path that is a device, a FIFO or a link (/dev/null,
 * /dev/stdout) is written in place, never replaced: renaming over
 * /dev/null as root made it a file.
 */
int dr_fs_write_atomic(const char *path, const char *data, size_t n, unsigned flags, dr_buf *err);

/* Writes a file's content to fd (dr_fs_write_all, in pieces): 0, or -1 with errno set. */
typedef int (*dr_fs_fill_fn)(void *ctx, int fd);

/*
 * As dr_fs_write_atomic, with the content written by fill into the
 * temporary file, so a large file (the simulator's state) is never whole in
 * memory.
 */
int dr_fs_write_atomic_with(const char *path, unsigned flags, dr_fs_fill_fn fill, void *ctx, dr_buf *err);

/*
 * Read the whole file at path, appended to out (NUL-terminated), at most
 * max bytes (0: no limit). Returns 0, or -1 with errno set: fopen's,
 * read's (EISDIR for a directory), EFBIG when the file holds more than max
 * bytes (out then holds what was read). For files drover reads whole (contracts,
 * plans, approvals, the history, the simulator's state).
 */
int dr_fs_read_all(const char *path, size_t max, dr_buf *out);

/*
 * Open path for writing a stream (truncated; created owner-only, mode 0600,
 * when it does not exist), e.g. --events FILE. Returns the stream, or NULL
 * with errno set.
 */
FILE *dr_fs_create_output(const char *path);

/*
 * Whether dir (when it exists) is safe to keep drover's state in: a
 * directory owned by the user drover runs as and not writable by its group
 * or others. Otherwise -1 with a sentence in err (what is wrong, why it
 * matters, what to do); 0 when it is safe or does not exist (drover creates
 * it, mode 0700). what names it in the sentence ("the state directory").
 */
int dr_fs_check_private_dir(const char *dir, const char *what, dr_buf *err);

#endif
