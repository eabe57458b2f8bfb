/*
 * fs.c - durable-file helpers (see fs.h).
 */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
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

/* Write and fsync the temporary file; 0 or -1 with errno. */
static int write_temp(const char *tmp, const char *data, size_t n)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (dr_fs_write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int dr_fs_write_atomic(const char *path, const char *data, size_t n, unsigned flags, dr_buf *err)
{
	if (dr_fs_mkdirs_parent(path, err) < 0)
		return -1;
	dr_buf tmp;
	dr_buf_init(&tmp);
	dr_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int rc = write_temp(tmp.data, data, n);
	const char *what = "write";
	if (rc == 0) {
		rc = flags & DR_FS_EXCLUSIVE ? link(tmp.data, path) : rename(tmp.data, path);
		what = flags & DR_FS_EXCLUSIVE ? "create" : "replace";
	}
	int e = errno;
	if (rc != 0 || flags & DR_FS_EXCLUSIVE)
		unlink(tmp.data);
	if (rc == 0)
		dr_fs_sync_parent(path);
	else if (err)
		dr_buf_printf(err, "cannot %s '%s': %s", what, path, strerror(e));
	dr_buf_dispose(&tmp);
	errno = e;
	return rc ? -1 : 0;
}
