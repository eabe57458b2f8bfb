/*
 * holder.c - a lock file's holder record (see holder.h).
 */
#include "util/holder.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/text.h"

#define MAX_RECORD (64u * 1024)

static void host_name(char *out, size_t n)
{
	if (gethostname(out, n) != 0)
		snprintf(out, n, "?");
	out[n - 1] = '\0';
}

cJSON *dr_holder_new(void)
{
	char host[256];
	host_name(host, sizeof host);
	cJSON *h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "pid", (double)getpid());
	cJSON_AddStringToObject(h, "host", host);
	return h;
}

void dr_holder_add_since(cJSON *h)
{
	char since[40];
	dr_text_format_utc((int64_t)time(NULL) * 1000, true, since, sizeof since); /* as dr_clock_format_wall */
	cJSON_AddStringToObject(h, "since", since);
}

int dr_holder_write(int fd, const cJSON *h)
{
	char *text = cJSON_PrintUnformatted(h);
	size_t n = strlen(text);
	int rc = ftruncate(fd, 0) == 0 && pwrite(fd, text, n, 0) == (ssize_t)n && fdatasync(fd) == 0 ? 0 : -1;
	cJSON_free(text);
	return rc;
}

int dr_holder_clear(int fd)
{
	return ftruncate(fd, 0) == 0 && fdatasync(fd) == 0 ? 0 : -1;
}

cJSON *dr_holder_read(int fd)
{
	dr_buf b;
	dr_buf_init(&b);
	char chunk[4096];
	ssize_t got;
	while (b.len < MAX_RECORD && (got = pread(fd, chunk, sizeof chunk, (off_t)b.len)) > 0)
		dr_buf_append(&b, chunk, (size_t)got);
	cJSON *h = b.len ? cJSON_ParseWithLength(b.data, b.len) : NULL;
	dr_buf_dispose(&b);
	if (h && !cJSON_IsObject(h)) {
		cJSON_Delete(h);
		h = NULL;
	}
	return h;
}

const char *dr_holder_field(const cJSON *h, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, key));
	return s ? s : "?";
}

long dr_holder_pid(const cJSON *h)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(h, "pid");
	return cJSON_IsNumber(p) ? (long)p->valuedouble : 0;
}

const char *dr_holder_liveness(const cJSON *h)
{
	char host[256];
	host_name(host, sizeof host);
	if (strcmp(dr_holder_field(h, "host"), host))
		return "on another host: drover cannot check it";
	long pid = dr_holder_pid(h);
	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
		return "a process with that pid runs, but it does not hold the lock: the pid was reused";
	return "no longer running";
}
