/*
 * fixture.c - the runbook-on-the-simulator setup the unit tests share
 * (fixture.h): the scratch folder, compiling text, opening the backend,
 * running and reading the event stream.
 */
#include "fixture.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "front/diag.h"
#include "util/buf.h"
#include "util/fs.h"

static dr_arena *strings; /* the folder's and the paths' text, freed at exit */
static char *dir;
static pid_t owner; /* the process that made dir: a forked child that exits leaves it alone */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static void remove_dir(void)
{
	if (getpid() != owner)
		return;
	if (dir && nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "fixture: could not remove %s\n", dir);
	dr_arena_free(strings);
}

void fx_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fail_msg("cannot remove %s: %s", path, strerror(errno));
	assert_int_not_equal(lstat(path, &st), 0);
}

void fx_remake(const char *path)
{
	fx_rmtree(path);
	dr_buf err;
	dr_buf_init(&err);
	if (dr_fs_mkdirs(path, &err) != 0)
		fail_msg("%s", err.data);
	dr_buf_dispose(&err);
}

const char *fx_dir(void)
{
	if (dir)
		return dir;
	const char *tmp = getenv("TMPDIR");
	strings = dr_arena_new();
	dir = dr_arena_printf(strings, "%s/drover-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
			      program_invocation_short_name);
	if (!mkdtemp(dir))
		fail_msg("cannot make %s: %s", dir, strerror(errno));
	owner = getpid();
	atexit(remove_dir);
	return dir;
}

/* fx_dir()/<fmt, ap>, in strings. */
static const char *vpath(const char *fmt, va_list ap)
{
	const char *d = fx_dir();
	char *name = dr_arena_vprintf(strings, fmt, ap);
	return dr_arena_printf(strings, "%s/%s", d, name);
}

const char *fx_path(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = vpath(fmt, ap);
	va_end(ap);
	return p;
}

const char *fx_mkdir(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = vpath(fmt, ap);
	va_end(ap);
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		fail_msg("cannot make %s: %s", p, strerror(errno));
	return p;
}

const char *fx_newdir(void)
{
	static unsigned next;
	char name[32];
	snprintf(name, sizeof name, "d-%u", ++next);
	const char *p = fx_path("%s", name);
	if (mkdir(p, 0700) != 0)
		fail_msg("cannot make %s: %s", p, strerror(errno));
	return p;
}

const char *fx_write(const char *name, const char *text)
{
	const char *p = fx_path("%s", name);
	FILE *f = fopen(p, "w");
	if (!f)
		fail_msg("cannot write %s: %s", p, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return p;
}

char *fx_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(*n + 1);
	assert_int_equal(fread(b, 1, *n, f), *n);
	b[*n] = '\0';
	fclose(f);
	return b;
}

const char *fx_stdlib(const fx_file *files, size_t n)
{
	const char *d = fx_newdir();
	const char *name = d + strlen(fx_dir()) + 1; /* d-N */
	for (size_t i = 0; i < n; i++)
		fx_write(dr_arena_printf(strings, "%s/%s.yaml", name, files[i].name), files[i].text);
	return d;
}

dr_runbook *fx_compile(const char *name, const char *yaml)
{
	static unsigned next;
	char own[32];
	if (!name) {
		snprintf(own, sizeof own, "rb-%u.yaml", next++);
		name = own;
	}
	const char *path = fx_write(name, yaml);
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(path, d, NULL);
	if (dr_diags_errors(d))
		dr_diags_render_text(d, stderr, false);
	assert_int_equal(dr_diags_errors(d), 0);
	dr_diags_free(d);
	return rb;
}

dr_backend *fx_backend(const dr_runbook *rb, const dr_backend_opts *bo, dr_arena *a)
{
	dr_backend_opts mem = {.in_memory = true};
	dr_diags *d = dr_diags_new();
	dr_be_error e = {0};
	dr_backend *be = dr_backend_open(rb, bo ? bo : &mem, a, d, &e);
	if (!be) {
		dr_diags_render_text(d, stderr, false);
		fail_msg("the backend does not open: %s: %s", e.code ? e.code : "", e.message ? e.message : "");
	}
	dr_diags_free(d);
	return be;
}

void fx_run_init(fx_run *r, const char *yaml)
{
	memset(r, 0, sizeof *r);
	r->rb = fx_compile(NULL, yaml);
	dr_exec_opts_init(&r->o);
	r->o.clock = DR_CLOCK_VIRTUAL;
	r->o.state_dir = fx_mkdir("state");
}

void fx_run_keep_backend(fx_run *r)
{
	assert_null(r->be);
	r->a = dr_arena_new();
	r->be = fx_backend(r->rb, NULL, r->a);
}

/* Each line of r->events parsed into r->ev. */
static void parse_events(fx_run *r)
{
	for (char *line = r->events, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		r->ev = realloc(r->ev, (r->n + 1) * sizeof *r->ev);
		assert_non_null(r->ev);
		r->ev[r->n] = cJSON_Parse(line);
		if (!r->ev[r->n])
			fail_msg("event line %zu is not JSON: %s", r->n + 1, line);
		r->n++;
		*nl = '\n';
	}
}

dr_run_status fx_run_exec(fx_run *r)
{
	assert_true(r->events == NULL && r->n == 0 && r->err == NULL);
	dr_exec_opts o = r->o;
	if (r->be)
		o.backend = r->be;
	FILE *mem = open_memstream(&r->events, &r->len);
	assert_non_null(mem);
	o.events = mem;
	dr_buf err;
	dr_buf_init(&err);
	r->status = dr_exec_run(r->rb, &o, &err);
	fclose(mem);
	r->err = dr_buf_detach(&err);
	parse_events(r);
	return r->status;
}

void fx_run_forget(fx_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->ev[i]);
	free(r->ev);
	free(r->events);
	free(r->err);
	r->ev = NULL;
	r->events = r->err = NULL;
	r->n = r->len = 0;
}

void fx_run_free(fx_run *r)
{
	fx_run_forget(r);
	dr_backend_close(r->be);
	dr_arena_free(r->a);
	dr_runbook_free(r->rb);
	r->be = NULL;
	r->a = NULL;
	r->rb = NULL;
}

const char *fx_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

double fx_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

bool fx_is(const cJSON *ev, const char *type, const char *step, const char *target)
{
	return !strcmp(fx_str(ev, "event"), type) && (!step || !strcmp(fx_str(ev, "step"), step)) &&
	       (!target || !strcmp(fx_str(ev, "target"), target));
}

const cJSON *fx_first(const fx_run *r, const char *type, const char *step, const char *target)
{
	for (size_t i = 0; i < r->n; i++)
		if (fx_is(r->ev[i], type, step, target))
			return r->ev[i];
	return NULL;
}

const cJSON *fx_last(const fx_run *r, const char *type, const char *step, const char *target)
{
	for (size_t i = r->n; i-- > 0;)
		if (fx_is(r->ev[i], type, step, target))
			return r->ev[i];
	return NULL;
}

size_t fx_count(const fx_run *r, const char *type, const char *step, const char *target)
{
	size_t c = 0;
	for (size_t i = 0; i < r->n; i++)
		c += fx_is(r->ev[i], type, step, target);
	return c;
}
