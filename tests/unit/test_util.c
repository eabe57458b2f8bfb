/*
 * test_util.c - arena, buffers, durations, suggestions, identifiers, UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "fixture.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/holder.h"
#include "util/index.h"
#include "util/json_print.h"
#include "util/text.h"
#include "util/xalloc.h"

static int freed;
static void count_free(void *p) { freed += *(int *)p; }

static void test_arena_alloc_and_defer(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	char *s = dr_arena_strdup(a, "hello");
	assert_string_equal(s, "hello");
	char *big = dr_arena_alloc(a, 3u << 20); /* larger than any block */
	big[(3u << 20) - 1] = 1;
	assert_string_equal(dr_arena_printf(a, "%d-%s", 42, "x"), "42-x");
	assert_string_equal(dr_arena_join(a, (const char *const[]){"step", "[", "vm-1", "]", ""}, 5), "step[vm-1]");
	assert_string_equal(dr_arena_join(a, NULL, 0), "");
	int *vals = dr_arena_calloc(a, 4, sizeof *vals);
	vals[3] = 7;
	int *grown = dr_arena_grow(a, vals, 4, 8, sizeof *vals);
	assert_int_equal(grown[3], 7);
	assert_int_equal(grown[7], 0);
	static int one = 1, two = 2;
	freed = 0;
	dr_arena_defer(a, count_free, &one);
	dr_arena_defer(a, count_free, &two);
	assert_true(dr_arena_used(a) >= (3u << 20));
	dr_arena_free(a);
	assert_int_equal(freed, 3);
}

/* After dr_arena_expect(n), allocations of n bytes in all come from one block: each follows the last. */
static void test_arena_expect(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	char *first = dr_arena_alloc_uninit(a, 64);
	dr_arena_expect(a, 3u << 20);
	char *p = dr_arena_alloc_uninit(a, 1u << 20);
	assert_true(p != first + 64); /* the first (4 KiB) block was too small: a new one */
	for (int i = 0; i < 2; i++) {
		char *q = dr_arena_alloc_uninit(a, 1u << 20);
		assert_ptr_equal(q, p + (1u << 20));
		p = q;
	}
	dr_arena_expect(a, 1); /* never shrinks the next block */
	dr_arena_free(a);
}

/* A reset arena runs its cleanups once, keeps one block and hands it out again from its start. */
static void test_arena_reset(void **state)
{
	(void)state;
	static int one = 1;
	dr_arena *a = dr_arena_new();
	for (int i = 0; i < 4; i++)
		dr_arena_alloc_uninit(a, 3000); /* a chain of blocks */
	char *last = dr_arena_alloc_uninit(a, 16);
	freed = 0;
	dr_arena_defer(a, count_free, &one);
	dr_arena_reset(a);
	assert_int_equal(freed, 1);
	assert_int_equal(dr_arena_used(a), 0);
	char *again = dr_arena_strdup(a, "vm-1");
	assert_string_equal(again, "vm-1");
	assert_true(again < last); /* the newest block, from its start */
	dr_arena_reset(a);
	assert_int_equal(freed, 1); /* cleanups run once */
	assert_ptr_equal(dr_arena_strdup(a, "vm-2"), again);
	dr_arena_free(a);
	assert_int_equal(freed, 1);
	dr_arena *empty = dr_arena_new();
	dr_arena_reset(empty); /* nothing allocated yet */
	assert_string_equal(dr_arena_strdup(empty, "x"), "x");
	dr_arena_free(empty);
}

/* A big block from xmalloc_huge is aligned to huge pages, writable to its end, and grows with realloc keeping its bytes; a small one is plain. */
static void test_xmalloc_huge(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	unsigned char *p = xmalloc_huge(n);
	assert_int_equal((uintptr_t)p % (2u << 20), 0);
	p[0] = 1;
	p[n - 1] = 2;
	p = xrealloc(p, 2 * n);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[n - 1], 2);
	p[2 * n - 1] = 3;
	free(p);
	char *small = xmalloc_huge(16);
	strcpy(small, "vm-1");
	assert_string_equal(small, "vm-1");
	free(small);
}

static void test_buf(void **state)
{
	(void)state;
	dr_buf b;
	dr_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		dr_buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	dr_buf_reset(&b);
	dr_buf_json_escape(&b, "a\"b\\c\n\x01", 7);
	assert_string_equal(b.data, "a\\\"b\\\\c\\n\\u0001");
	/* escapes at both ends, a run between, an embedded NUL, a tab, bytes above 0x7e kept */
	dr_buf_reset(&b);
	dr_buf_json_escape(&b, "\"plain run\t\0\x7f\xc3\xa9\\", 16);
	assert_string_equal(b.data, "\\\"plain run\\t\\u0000\x7f\xc3\xa9\\\\");
	dr_buf_reset(&b);
	dr_buf_json_escape(&b, "", 0);
	assert_int_equal(b.len, 0);
	dr_buf_dispose(&b);
}

/* dr_json_print: the same value back, whole numbers exact and without an exponent. */
static void test_json_print(void **state)
{
	(void)state;
	const char *text = "{\"a\":[0,-1,9007199254740991,1767225600000,0.5,-2.25e-7],\"s\":\"q\\\"\\\\\\n\\u0001\","
			   "\"n\":null,\"t\":true,\"f\":false,\"o\":{},\"e\":[],\"\":{\"k\\\"\":1}}";
	cJSON *v = cJSON_Parse(text);
	assert_non_null(v);
	dr_buf b;
	dr_buf_init(&b);
	dr_json_print(&b, v);
	cJSON *back = cJSON_Parse(b.data);
	assert_non_null(back);
	assert_true(cJSON_Compare(v, back, true));
	assert_non_null(strstr(b.data, "[0,-1,9007199254740991,1767225600000,0.5,"));
	/* cJSON's own text but for 2^53 - 1, which its printer rounds (9.00719925474099e+15) */
	assert_string_equal(b.data, "{\"a\":[0,-1,9007199254740991,1767225600000,0.5,-2.25e-07],"
				    "\"s\":\"q\\\"\\\\\\n\\u0001\",\"n\":null,\"t\":true,\"f\":false,\"o\":{},\"e\":[],"
				    "\"\":{\"k\\\"\":1}}");
	cJSON_Delete(back);
	cJSON_Delete(v);
	dr_buf_dispose(&b);
}

static void test_durations(void **state)
{
	(void)state;
	static const struct { const char *text; int64_t ms; } good[] = {
		{"30s", 30000}, {"5m", 300000}, {"1h30m", 5400000}, {"250ms", 250}, {"2d", 172800000},
		{"1h1m1s1ms", 3661001}, {"0s", 0},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t ms = -1;
		size_t bad = 99;
		assert_true(dr_text_parse_duration(good[i].text, &ms, &bad));
		assert_int_equal(ms, good[i].ms);
	}
	static const struct { const char *text; size_t bad_at; } bad[] = {
		{"", 0}, {"30", 2}, {"5x", 1}, {"1m1h", 3}, {"1s1s", 3}, {"m", 0}, {"10 s", 2}, {"-5s", 0},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms;
		size_t at = 99;
		assert_false(dr_text_parse_duration(bad[i].text, &ms, &at));
		assert_int_equal(at, bad[i].bad_at);
	}
	char out[32];
	dr_text_format_duration(5400000, out, sizeof out);
	assert_string_equal(out, "1h30m");
	dr_text_format_duration(250, out, sizeof out);
	assert_string_equal(out, "250ms");
	dr_text_format_duration(0, out, sizeof out);
	assert_string_equal(out, "0s");
	dr_text_format_duration(3523849, out, sizeof out); /* exact: what the parser reads back */
	assert_string_equal(out, "58m43s849ms");
	dr_text_format_duration(INT64_C(90061001) + 86400000 * INT64_C(1000000), out, sizeof out); /* every unit */
	assert_string_equal(out, "1000001d1h1m1s1ms");
	dr_text_format_duration(3723000, out, 4); /* cut as snprintf cuts */
	assert_string_equal(out, "1h2");
	static const struct { int64_t ms; const char *text; } human[] = {
		{3523849, "58m44s"}, {3523499, "58m43s"}, {2025, "2s25ms"}, {9999, "9s999ms"}, {10000, "10s"},
		{10499, "10s"}, {59500, "1m"}, {3600000, "1h"}, {86399500, "1d"}, {250, "250ms"}, {0, "0s"}, {-5, "0s"},
	};
	for (size_t i = 0; i < sizeof human / sizeof human[0]; i++) {
		dr_text_human_duration(human[i].ms, out, sizeof out);
		assert_string_equal(out, human[i].text);
	}
}

static void test_suggest(void **state)
{
	(void)state;
	static const char *const keys[] = {"timeout", "retry", "targets", "needs", "foreach", NULL};
	assert_string_equal(dr_text_suggest("timout", keys), "timeout");
	assert_string_equal(dr_text_suggest("retyr", keys), "retry");
	assert_string_equal(dr_text_suggest("NEEDS", keys), "needs");
	assert_null(dr_text_suggest("banana", keys));
	assert_null(dr_text_suggest("x", keys));
	assert_int_equal(dr_text_distance("kitten", "sitting", 10), 3);
}

/* Found while fuzzing: the distance is quadratic, so words over 256 bytes get only a case-insensitive match. */
/* A word from a few letters, so that random words and candidates often lie within a few edits. */
static void random_word(uint64_t *seed, char *out, size_t max)
{
	*seed = *seed * 6364136223846793005u + 1442695040888963407u;
	size_t len = 1 + (size_t)((*seed >> 33) % max);
	for (size_t i = 0; i < len; i++) {
		*seed = *seed * 6364136223846793005u + 1442695040888963407u;
		out[i] = "abcAB-1"[(*seed >> 40) % 7];
	}
	out[len] = 0;
}

/* The index answers exactly as the scan does: same word, same tie-break (first in the list). */
static void test_suggest_index_matches_scan(void **state)
{
	(void)state;
	enum { N = 400 };
	static char words[N][16];
	const char *list[N + 1] = {0};
	uint64_t seed = 3;
	for (size_t i = 0; i < N; i++) {
		random_word(&seed, words[i], 12);
		list[i] = words[i];
	}
	dr_suggest_index *ix = dr_suggest_index_new(list);
	char w[16];
	for (int q = 0; q < 4000; q++) {
		random_word(&seed, w, 12);
		assert_ptr_equal(dr_suggest_index_best(ix, w), dr_text_suggest(w, list));
	}
	assert_ptr_equal(dr_suggest_index_best(ix, "ABCAB"), dr_text_suggest("ABCAB", list));
	dr_suggest_index_free(ix);
	const char *ids[] = {"step-10", "step-11", "db-failover", NULL};
	dr_suggest_index *small = dr_suggest_index_new(ids);
	assert_string_equal(dr_suggest_index_best(small, "setp-11"), "step-11"); /* a swap */
	assert_string_equal(dr_suggest_index_best(small, "step-1"), "step-10"); /* one missing: first wins */
	assert_string_equal(dr_suggest_index_best(small, "db-failovr"), "db-failover");
	assert_string_equal(dr_suggest_index_best(small, "db-fialovre"), "db-failover"); /* two edits: the scan */
	assert_null(dr_suggest_index_best(small, "web"));
	dr_suggest_index_free(small);
}

static void test_suggest_long_word(void **state)
{
	(void)state;
	char word[301], near[301], upper[301];
	memset(word, 'a', 300);
	word[300] = '\0';
	memcpy(near, word, sizeof word);
	near[299] = 'b';
	memcpy(upper, word, sizeof word);
	upper[0] = 'A';
	const char *const keys[] = {near, NULL}, *const same[] = {near, upper, NULL};
	assert_null(dr_text_suggest(word, keys));
	assert_ptr_equal(dr_text_suggest(word, same), upper);
	word[256] = '\0';
	near[256] = '\0';
	near[255] = 'b';
	assert_ptr_equal(dr_text_suggest(word, keys), near); /* 256 bytes: still a typo */
}

static void test_ident_and_utf8(void **state)
{
	(void)state;
	assert_true(dr_text_is_ident("failover-db"));
	assert_true(dr_text_is_ident("db_1"));
	assert_false(dr_text_is_ident("Failover"));
	assert_false(dr_text_is_ident("-x"));
	assert_false(dr_text_is_ident(""));
	assert_false(dr_text_is_ident("a.b"));
	size_t at = 0;
	assert_true(dr_text_valid_utf8("h\xc3\xa9llo", 6, &at));
	assert_false(dr_text_valid_utf8("ab\xff", 3, &at));
	assert_int_equal(at, 2);
	assert_false(dr_text_valid_utf8("\xc0\xaf", 2, &at)); /* overlong */
	assert_false(dr_text_valid_utf8("\xed\xa0\x80", 3, &at)); /* surrogate */
	assert_false(dr_text_valid_utf8("x\xe2\x82", 3, &at)); /* truncated */
	assert_int_equal(at, 1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char text[256];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* A lock file's holder record: written whole and durable, read back, emptied; what became of its process. */
static void test_holder_record(void **state)
{
	(void)state;
	const char *path = fx_path("holder.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_null(dr_holder_read(fd)); /* empty: no holder */
	cJSON *h = dr_holder_new();
	cJSON_AddStringToObject(h, "run", "r-1");
	dr_holder_add_since(h);
	assert_int_equal(dr_holder_write(fd, h), 0);
	cJSON_Delete(h);
	char host[256] = "?", want[512];
	gethostname(host, sizeof host - 1);
	h = dr_holder_read(fd);
	assert_int_equal(dr_holder_pid(h), (long)getpid());
	assert_string_equal(dr_holder_field(h, "host"), host);
	assert_string_equal(dr_holder_field(h, "run"), "r-1");
	assert_string_equal(dr_holder_field(h, "state_dir"), "?");
	assert_int_equal(strlen(dr_holder_field(h, "since")), strlen("2026-12-06T21:51:06.000Z"));
	/* this process runs, but a record is read under a free lock: its pid was reused */
	assert_non_null(strstr(dr_holder_liveness(h), "the pid was reused"));
	cJSON_Delete(h);
	snprintf(want, sizeof want, "{\"pid\":%d,\"host\":\"%s\",\"run\":\"r-1\",\"since\":\"", (int)getpid(), host);
	assert_int_equal(strncmp(slurp(path), want, strlen(want)), 0); /* the bytes, in this order, one line */
	assert_null(strchr(slurp(path), '\n'));
	h = cJSON_Parse("{\"pid\":2147483646,\"host\":\"x\"}");
	cJSON_ReplaceItemInObjectCaseSensitive(h, "host", cJSON_CreateString(host));
	assert_string_equal(dr_holder_liveness(h), "no longer running");
	cJSON_ReplaceItemInObjectCaseSensitive(h, "host", cJSON_CreateString("elsewhere.example"));
	assert_string_equal(dr_holder_liveness(h), "on another host: drover cannot check it");
	assert_int_equal(dr_holder_write(fd, h), 0); /* a shorter record replaces a longer one whole */
	assert_string_equal(slurp(path), "{\"pid\":2147483646,\"host\":\"elsewhere.example\"}");
	cJSON_Delete(h);
	assert_int_equal(dr_holder_clear(fd), 0);
	assert_null(dr_holder_read(fd));
	assert_int_equal(dr_holder_pid(NULL), 0);
	assert_string_equal(dr_holder_field(NULL, "run"), "?");
	close(fd);
}

static void test_fs_atomic_files(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	char path[256], nested[600];
	snprintf(path, sizeof path, "%s/a/b/state.json", dir);
	dr_buf err;
	dr_buf_init(&err);
	/* its folder is not made: drover makes folders only in its state directory, whose owner makes them */
	assert_int_equal(dr_fs_write_atomic(path, "one", 3, DR_FS_NAMED, &err), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(nested, sizeof nested, "%s/a", dir);
	struct stat st;
	assert_int_not_equal(stat(nested, &st), 0);
	snprintf(nested, sizeof nested, "cannot write '%s': its folder '%s/a/b' does not exist", path, dir);
	assert_string_equal(err.data, nested);
	dr_buf_reset(&err);
	snprintf(nested, sizeof nested, "%s/a/b", dir);
	assert_int_equal(dr_fs_mkdirs(nested, NULL), 0);
	assert_int_equal(dr_fs_write_atomic(path, "one", 3, 0, NULL), 0);
	assert_string_equal(slurp(path), "one");
	assert_int_equal(dr_fs_write_atomic(path, "two", 3, 0, NULL), 0); /* replace */
	assert_string_equal(slurp(path), "two");
	assert_int_equal(dr_fs_write_atomic(path, "three", 5, DR_FS_EXCLUSIVE, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err.data, "state.json"));
	assert_string_equal(slurp(path), "two");
	snprintf(nested, sizeof nested, "%s/a/b.tmp.%ld", dir, (long)getpid());
	assert_int_not_equal(stat(nested, &st), 0); /* no temporary file left behind */
	dr_buf_reset(&err);
	snprintf(nested, sizeof nested, "%s/a/b/state.json/x", dir); /* a file where a directory must be */
	assert_int_equal(dr_fs_mkdirs(nested, &err), -1);
	assert_non_null(strstr(err.data, "cannot create directory"));
	dr_buf_dispose(&err); /* the files go with fx_dir() at exit */
}

/* An output the user named that is a device (plan -o /dev/null, run as root) is written, never replaced by a file. */
static void test_fs_device_written_in_place(void **state)
{
	(void)state;
	const char *dev = fx_path("null-device");
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0)
		skip(); /* not root: nothing could be replaced either */
	assert_int_equal(dr_fs_write_atomic(dev, "plan", 4, DR_FS_NAMED, NULL), 0);
	struct stat st;
	assert_int_equal(stat(dev, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(unlink(dev), 0);
}

/* Issue 10: a temporary name planted as a link (the old name was path.tmp.<pid>) is never written through. */
static void test_fs_planted_links(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	char path[256], victim[256], link[300];
	snprintf(path, sizeof path, "%s/history.json", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	FILE *f = fopen(victim, "w");
	fputs("precious", f);
	fclose(f);
	snprintf(link, sizeof link, "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(dr_fs_write_atomic(path, "new", 3, 0, NULL), 0);
	assert_string_equal(slurp(victim), "precious");
	assert_string_equal(slurp(path), "new");
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* an output file (--events) is created owner-only */
	char out[256];
	snprintf(out, sizeof out, "%s/events.jsonl", dir);
	umask(022);
	FILE *o = dr_fs_create_output(out);
	assert_non_null(o);
	fclose(o);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* the files go with fx_dir() at exit */
}

/*
 * A path the user named (DR_FS_NAMED) that is a device or a link is written
 * in place: /dev/null stays a device, a link stays a link and its file gets
 * the text. Without the flag (the state directory) a link is replaced, never
 * followed. As root the old rename replaced /dev/null itself with a file.
 */
static void test_fs_named_in_place(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	char sink[256], file[256], link[256];
	snprintf(sink, sizeof sink, "%s/sink", dir);
	snprintf(file, sizeof file, "%s/shared.prom", dir);
	snprintf(link, sizeof link, "%s/metrics.prom", dir);
	assert_int_equal(symlink("/dev/null", sink), 0);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_fs_write_atomic(sink, "gone", 4, DR_FS_NAMED, &err), 0);
	struct stat st;
	assert_int_equal(lstat(sink, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	FILE *f = fopen(file, "w");
	fputs("old text, longer than the new", f);
	fclose(f);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(dr_fs_write_atomic(link, "new", 3, DR_FS_NAMED | DR_FS_READABLE, &err), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(slurp(file), "new");
	assert_int_equal(dr_fs_write_atomic(link, "own", 3, 0, &err), 0); /* not named: the link is replaced */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(file), "new");
	assert_int_equal(err.len, 0);
	dr_buf_dispose(&err); /* the files go with fx_dir() at exit */
}

/* Issue 10: a state directory another user could write to is refused, with why. */
static void test_fs_private_dir(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_fs_check_private_dir(dir, "the state directory", &err), 0);
	char missing[300];
	snprintf(missing, sizeof missing, "%s/not-yet", dir);
	assert_int_equal(dr_fs_check_private_dir(missing, "the state directory", &err), 0);
	chmod(dir, 0777);
	assert_int_equal(dr_fs_check_private_dir(dir, "the state directory", &err), -1);
	assert_non_null(strstr(err.data, "can be written by other users (mode 0777)"));
	assert_non_null(strstr(err.data, "chmod 700"));
	dr_buf_reset(&err);
	chmod(dir, 0770);
	assert_int_equal(dr_fs_check_private_dir(dir, "the state directory", &err), -1);
	assert_non_null(strstr(err.data, "can be written by its group (mode 0770)"));
	chmod(dir, 0700);
	if (geteuid() == 0) { /* root can give it away */
		dr_buf_reset(&err);
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_equal(dr_fs_check_private_dir(dir, "the state directory", &err), -1);
		assert_non_null(strstr(err.data, "belongs to"));
		assert_non_null(strstr(err.data, "uid 65534"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	dr_buf_dispose(&err);
}

/* Issue 10: text from runbooks and people cannot drive the terminal. */
static void test_escape_term(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain text, \\ and ü", "plain text, \\ and ü"},
		{"\x1b]0;pwned\x07", "\\e]0;pwned\\x07"},
		{"a\nb\rc\td", "a\\nb\\rc\\td"},
		{"\x1b[2J\x1b[H", "\\e[2J\\e[H"},
		{"csi \xc2\x9b" "31m", "csi \\u{009b}31m"},
		{"rlo \xe2\x80\xae" "gpj.exe", "rlo \\u{202e}gpj.exe"},
		{"bad \xff byte", "bad \\xff byte"},
		{"del \x7f", "del \\x7f"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = dr_text_term(cases[i].in);
		assert_string_equal(t, cases[i].out);
		assert_int_equal(dr_text_needs_escape(cases[i].in), strcmp(cases[i].in, cases[i].out) != 0);
		free(t);
	}
	dr_buf b;
	dr_buf_init(&b);
	dr_text_escape_term(&b, "a\tb", 3, DR_TEXT_KEEP_TAB);
	assert_string_equal(b.data, "a\tb");
	dr_buf_dispose(&b);
	assert_null(dr_text_term(NULL));
}

/* Whole files: empty, exactly at the limit, over it, missing, a directory; appended to what out holds. */
static void test_fs_read_all(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/f", dir);
	dr_buf b;
	dr_buf_init(&b);
	assert_int_equal(dr_fs_write_atomic(path, "", 0, 0, NULL), 0);
	assert_int_equal(dr_fs_read_all(path, 0, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(dr_fs_write_atomic(path, "abcdef", 6, 0, NULL), 0);
	dr_buf_puts(&b, "x:");
	assert_int_equal(dr_fs_read_all(path, 6, &b), 0);
	assert_string_equal(b.data, "x:abcdef");
	dr_buf_reset(&b);
	errno = 0;
	assert_int_equal(dr_fs_read_all(path, 5, &b), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(dr_fs_read_all(dir, 0, &b), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(dr_fs_read_all(path, 0, &b), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(dir), 0);
	dr_buf_dispose(&b);
}

/* The string map: a put replaces, absent and NULL keys are not found, 10,000 keys survive growth. */
static void test_strmap(void **state)
{
	(void)state;
	dr_strmap m = {0};
	size_t v = 99;
	assert_false(dr_strmap_get(&m, "a", &v));
	assert_false(dr_strmap_get(&m, NULL, &v));
	static char names[10000][16];
	for (size_t i = 0; i < 10000; i++) {
		snprintf(names[i], sizeof names[i], "vm-%zu", i);
		dr_strmap_put(&m, names[i], i);
	}
	dr_strmap_put(&m, "vm-7", 70);
	assert_int_equal(m.n, 10000);
	for (size_t i = 0; i < 10000; i++) {
		assert_true(dr_strmap_get(&m, names[i], &v));
		assert_int_equal(v, i == 7 ? 70 : i);
	}
	assert_false(dr_strmap_get(&m, "vm-10000", &v));
	assert_false(dr_strmap_get(&m, "", &v));
	dr_strmap_dispose(&m);
	assert_false(dr_strmap_get(&m, "vm-1", &v));
	/* reserved up front: the same answers, and the tables never grow while the keys go in */
	dr_strmap_put(&m, "first", 1);
	dr_strmap_reserve(&m, 10000);
	const char **keys = m.keys;
	size_t cap = m.ix.cap;
	assert_true(dr_strmap_get(&m, "first", &v));
	assert_int_equal(v, 1);
	for (size_t i = 1; i < 10000; i++)
		dr_strmap_put(&m, names[i], i);
	assert_ptr_equal(m.keys, keys);
	assert_int_equal(m.ix.cap, cap);
	for (size_t i = 1; i < 10000; i++) {
		assert_true(dr_strmap_get(&m, names[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(dr_strmap_get(&m, "vm-0", &v));
	dr_strmap_reserve(&m, 10); /* never shrinks */
	assert_int_equal(m.ix.cap, cap);
	dr_strmap_dispose(&m);
}

/* A word printed for people to paste into a shell comes back as the same word. */
static void test_shell_word(void **state)
{
	(void)state;
	static const char *const in[] = {"run-1", ".drover/st", "my state", "it's", "", "$HOME", "a\"b", NULL};
	static const char *const out[] = {"run-1", ".drover/st", "'my state'", "'it'\\''s'", "''", "'$HOME'", "'a\"b'"};
	for (size_t i = 0; in[i]; i++) {
		dr_buf b;
		dr_buf_init(&b);
		dr_text_shell_word(&b, in[i]);
		assert_string_equal(b.data, out[i]);
		dr_buf_dispose(&b);
	}
}

/* dr_text_format_utc says what gmtime_r and strftime say, with and without the milliseconds of a whole second. */
static void test_format_utc(void **state)
{
	(void)state;
	char got[40], want[40];
	dr_text_format_utc(0, false, got, sizeof got);
	assert_string_equal(got, "1970-01-01T00:00:00Z");
	dr_text_format_utc(0, true, got, sizeof got);
	assert_string_equal(got, "1970-01-01T00:00:00.000Z");
	dr_text_format_utc(-1, false, got, sizeof got);
	assert_string_equal(got, "1969-12-31T23:59:59.999Z");
	dr_text_format_utc(INT64_C(951782400000) + 86399999, false, got, sizeof got);
	assert_string_equal(got, "2000-02-29T23:59:59.999Z");
	for (int64_t ms = -INT64_C(62135596800000), step = INT64_C(7877) * 86400 * 1000 + 3599000 + 7;
	     ms < INT64_C(253402300799999); ms += step) {
		for (int whole = 0; whole < 2; whole++) {
			int64_t t = whole ? ms - ((ms % 1000) + 1000) % 1000 : ms; /* a whole second, then not */
			time_t secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
			int frac = (int)(t - (int64_t)secs * 1000);
			struct tm tm;
			gmtime_r(&secs, &tm);
			size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(want + n, sizeof want - n, frac ? ".%03dZ" : "Z", frac);
			if (tm.tm_year + 1900 < 1000) /* strftime's %Y has no leading zeros */
				continue;
			dr_text_format_utc(t, false, got, sizeof got);
			assert_string_equal(got, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alloc_and_defer), cmocka_unit_test(test_arena_expect),
		cmocka_unit_test(test_arena_reset), cmocka_unit_test(test_xmalloc_huge),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_json_print), cmocka_unit_test(test_durations), cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_suggest_long_word),
		cmocka_unit_test(test_suggest_index_matches_scan),
		cmocka_unit_test(test_ident_and_utf8), cmocka_unit_test(test_fs_atomic_files), cmocka_unit_test(test_holder_record),
		cmocka_unit_test(test_fs_planted_links), cmocka_unit_test(test_fs_device_written_in_place),
		cmocka_unit_test(test_fs_named_in_place), cmocka_unit_test(test_fs_private_dir),
		cmocka_unit_test(test_escape_term), cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_fs_read_all), cmocka_unit_test(test_shell_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
