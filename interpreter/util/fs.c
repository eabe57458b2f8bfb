/*
 * fs.c - durable-file helpers (see fs.h).
 */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

int dr_fs_mkdirs(const char *path, dr_buf *err)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		int end = *s == '\0';
		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			if (err)
				dr_buf_printf(err, "cannot create directory '%s': %s", p, strerror(e));
			errno = e;
			rc = -1;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

int dr_fs_mkdirs_parent(const char *file, dr_buf *err)
{
	char *dir = parent_of(file);
	int rc = strcmp(dir, ".") && strcmp(dir, "/") ? dr_fs_mkdirs(dir, err) : 0;
	free(dir);
	return rc;
}

void dr_fs_sync_parent(const char *path)
{
	char *dir = parent_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int dr_fs_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Create a new temporary file next to path (tmp gets its name: path.tmp.
 * and six random characters), write and fsync it; 0, or -1 with errno
 * and no file left.
 * mkostemp creates it with O_EXCL, mode 0600: a name planted in the
 * directory (a symlink to /etc/shadow) is never followed nor reused.
 */
static int write_temp(dr_buf *tmp, const char *path, dr_fs_fill_fn fill, void *ctx, unsigned flags)
{
	dr_buf_printf(tmp, "%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp->data, O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = (flags & DR_FS_READABLE && fchmod(fd, 0644) < 0) || fill(ctx, fd) < 0 || fsync(fd) < 0 ? -1 : 0;
	int e = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc < 0)
		unlink(tmp->data);
	errno = e;
	return rc;
}

struct bytes {
	const char *data;
	size_t n;
};

static int fill_bytes(void *ctx, int fd)
{
	const struct bytes *b = ctx;
	return dr_fs_write_all(fd, b->data, b->n);
}

int dr_fs_write_atomic(const char *path, const char *data, size_t n, unsigned flags, dr_buf *err)
{
	struct bytes b = {data, n};
	return dr_fs_write_atomic_with(path, flags, fill_bytes, &b, err);
}

/* DR_FS_NAMED and path is there as something other than a regular file: a device, a FIFO, a link. */
static bool write_in_place(const char *path, unsigned flags)
{
	struct stat st;
	return flags & DR_FS_NAMED && lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* 1 or 2 when path names this process's standard output or error (/dev/stdout, also redirected to a file), else -1. */
static int own_output(const char *path)
{
	struct stat p, o;
	for (int fd = 1; fd <= 2; fd++)
		if (stat(path, &p) == 0 && fstat(fd, &o) == 0 && o.st_dev == p.st_dev && o.st_ino == p.st_ino)
			return fd;
	return -1;
}

/*
 * Writes into what path names, as the shell's > would (fsync when it is a
 * regular file), or, when that is this process's own output, through that
 * descriptor after what stdio holds for it, so nothing printed there is
 * overwritten: 0 or -1.
 */
static int write_into(const char *path, dr_fs_fill_fn fill, void *ctx, dr_buf *err)
{
	int own = own_output(path), rc;
	if (own > 0) {
		rc = fflush(own == 1 ? stdout : stderr) != 0 || fill(ctx, own) < 0 ? -1 : 0;
	} else {
		int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
		struct stat st;
		rc = fd < 0 || fill(ctx, fd) < 0 || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(fd) < 0) ? -1 : 0;
		int e = errno;
		if (fd >= 0 && close(fd) < 0 && rc == 0)
			rc = -1;
		else
			errno = e;
	}
	int e = errno;
	if (rc < 0 && err)
		dr_buf_printf(err, "cannot write '%s': %s", path, strerror(e));
	errno = e;
	return rc;
}

int dr_fs_write_atomic_with(const char *path, unsigned flags, dr_fs_fill_fn fill, void *ctx, dr_buf *err)
{
	if (write_in_place(path, flags))
		return write_into(path, fill, ctx, err);
	dr_buf tmp;
	dr_buf_init(&tmp);
	int rc = write_temp(&tmp, path, fill, ctx, flags);
	const char *what = "write";
	if (rc == 0) {
		rc = flags & DR_FS_EXCLUSIVE ? link(tmp.data, path) : rename(tmp.data, path);
		what = flags & DR_FS_EXCLUSIVE ? "create" : "replace";
		if (rc != 0 || flags & DR_FS_EXCLUSIVE) {
			int e = errno;
			unlink(tmp.data);
			errno = e;
		}
	}
	int e = errno;
	if (rc == 0) {
		dr_fs_sync_parent(path);
	} else if (err && e == ENOENT) { /* folders are made by their owner (the state directory's), never here */
		char *dir = parent_of(path);
		dr_buf_printf(err, "cannot %s '%s': its folder '%s' does not exist", what, path, dir);
		free(dir);
	} else if (err) {
		dr_buf_printf(err, "cannot %s '%s': %s", what, path, strerror(e));
	}
	dr_buf_dispose(&tmp);
	errno = e;
	return rc ? -1 : 0;
}

int dr_fs_read_all(const char *path, size_t max, dr_buf *out)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return -1;
	size_t start = out->len, n;
	char chunk[65536];
	errno = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && (!max || out->len - start <= max))
		dr_buf_append(out, chunk, n);
	int bad = ferror(f) ? (errno ? errno : EIO) : 0; /* read(2)'s reason: EISDIR for a directory */
	fclose(f);
	dr_buf_puts(out, ""); /* NUL-terminated, even when empty */
	if (bad || (max && out->len - start > max)) {
		errno = bad ? bad : EFBIG;
		return -1;
	}
	return 0;
}

FILE *dr_fs_create_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

static const char *user_name(uid_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
		snprintf(buf, n, "%s (uid %ld)", res->pw_name, (long)uid);
	else
		snprintf(buf, n, "uid %ld", (long)uid);
	return buf;
}

int dr_fs_check_private_dir(const char *dir, const char *what, dr_buf *err)
{
	struct stat sb;
	if (stat(dir, &sb) != 0)
		return 0; /* missing: made with mode 0700; other errors show when it is used */
	char owner[300], me[300];
	if (!S_ISDIR(sb.st_mode)) {
		dr_buf_printf(err, "%s '%s' is not a directory", what, dir);
	} else if (sb.st_uid != geteuid()) {
		dr_buf_printf(err,
			      "%s '%s' belongs to %s, not to %s who runs drover: whoever owns it could plant links and files "
			      "in it that drover would write through or trust. Use a directory of your own (--state-dir DIR or "
			      "DROVER_STATE_DIR)",
			      what, dir, user_name(sb.st_uid, owner, sizeof owner), user_name(geteuid(), me, sizeof me));
	} else if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		dr_buf_printf(err,
			      "%s '%s' can be written by %s (mode %04o): another user could plant links and files in it "
			      "that drover would write through or trust. Make it owner-only (chmod 700 '%s'), or use "
			      "another directory (--state-dir DIR)",
			      what, dir, sb.st_mode & S_IWOTH ? "other users" : "its group", (unsigned)(sb.st_mode & 07777),
			      dir);
	} else {
		return 0;
	}
	return -1;
}
