/*
 * test_exec_bind.c - from a runbook to concrete targets and values: the
 * inventory through the backend (the sim's, inline and from a file), vm_set matching (name and tag
 * regexes, exclude, match: {}), expect: count/min/max messages, the VMs a
 * step fans out over, and typed --param values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "backends/backend.h"
#include "run/bind.h"
#include "run/bind_index.h"
#include "front/params.h"
#include "front/runbook.h"
#include "fixture.h"

/* The inventory of rb's backend (the sim, in memory), as the executor binds it; -1 with err or diags text. */
static int backend_inventory(dr_arena *a, const dr_runbook *rb, dr_vm **vms, size_t *n, dr_buf *err)
{
	dr_backend_opts bo = {.in_memory = true};
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	int rc = -1;
	if (be)
		rc = dr_bind_backend_inventory(a, be, INT64_C(1767225600000), vms, n, err);
	else if (dr_diags_count(d))
		dr_buf_puts(err, dr_diags_get(d, 0)->msg);
	dr_diags_free(d);
	dr_backend_close(be);
	return rc;
}

static const char *sets_yaml =
	"drover: 1\nname: sets\n"
	"backend:\n  kind: sim\n  inventory: inv.yaml\n  vms:\n"
	"    - { name: web-1, tags: { tier: web, env: prod } }\n"
	"    - { name: web-canary, tags: { tier: web, env: prod } }\n"
	"    - { name: db-1, tags: { tier: db, env: prod }, recovery_ip: 10.2.0.4 }\n"
	"vm_sets:\n"
	"  web: { match: { name: '^web-' }, exclude: { name: 'canary$' }, expect: { count: 2 } }\n"
	"  prod: { match: { tags: { env: '^prod$' } }, expect: { min: 1, max: 2 } }\n"
	"  all: { match: {} }\n"
	"  dbs: { match: { tags: { tier: db } } }\n"
	"steps:\n"
	"  - { id: one, action: log, with: { message: x } }\n"
	"  - { id: fan, action: log, targets: [dbs, web], with: { message: x } }\n";

static void sets_and_targets(void **state)
{
	(void)state;
	fx_write("inv.yaml", "vms:\n  - { name: web-2, tags: { tier: web, env: test } }\n");
	dr_runbook *rb = fx_compile("rb.yaml", sets_yaml);
	dr_arena *a = dr_arena_new();
	dr_buf err;
	dr_buf_init(&err);
	dr_vm *vms;
	size_t n;
	assert_int_equal(backend_inventory(a, rb, &vms, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(vms[0].name, "web-2"); /* the file first, then the inline list */
	assert_string_equal(vms[3].recovery_ip, "10.2.0.4");
	assert_string_equal(vms[3].tag_values[0], "db");
	dr_binding b;
	/* web: web-2, web-1 (canary excluded): 2, fine. prod: 3 > max 2. */
	assert_int_equal(dr_bind_sets(a, rb, vms, n, &b, &err), 1);
	assert_non_null(strstr(err.data, "rb.yaml:12:3: error: vm_set 'prod' matched 3 VMs (web-1, web-canary, db-1) "
					 "but expects between 1 and 2"));
	assert_int_equal(b.n_members[0], 2);
	assert_int_equal(b.n_members[2], 4); /* match: {} is everything */
	size_t k;
	assert_null(dr_bind_step_targets(a, &b, rb, &rb->steps[0], &k));
	assert_int_equal(k, 0);
	size_t *idx = dr_bind_step_targets(a, &b, rb, &rb->steps[1], &k);
	assert_int_equal(k, 3); /* web-2, web-1, db-1: inventory order, each once */
	assert_string_equal(vms[idx[0]].name, "web-2");
	assert_string_equal(vms[idx[1]].name, "web-1");
	assert_string_equal(vms[idx[2]].name, "db-1");
	dr_buf_dispose(&err);
	dr_arena_free(a);
	dr_runbook_free(rb);
}

static void missing_inventory_file(void **state)
{
	(void)state;
	fx_mkdir("alone");
	dr_runbook *rb = fx_compile("alone/rb.yaml", sets_yaml); /* no inv.yaml beside it */
	dr_arena *a = dr_arena_new();
	dr_buf err;
	dr_buf_init(&err);
	dr_vm *vms;
	size_t n;
	assert_int_equal(backend_inventory(a, rb, &vms, &n, &err), -1);
	char want[512];
	snprintf(want, sizeof want, "cannot read '%s'", fx_path("alone/inv.yaml"));
	if (!strstr(err.data, want))
		fail_msg("missing \"%s\" in: %s", want, err.data);
	dr_buf_dispose(&err);
	dr_arena_free(a);
	dr_runbook_free(rb);
}

static const char *params_yaml = "drover: 1\nname: p\n"
				 "params:\n"
				 "  region: { type: string }\n"
				 "  n: { type: int, default: 3 }\n"
				 "  ratio: { type: number, default: 0.5 }\n"
				 "  dry: { type: bool, default: false }\n"
				 "  wait: { type: duration, default: 5m }\n"
				 "  point: { type: string, default: latest, enum: [latest, custom] }\n"
				 "steps: [{ id: s, action: log, with: { message: '${params.region}' } }]\n";

static void typed_params(void **state)
{
	(void)state;
	dr_runbook *rb = fx_compile(NULL, params_yaml);
	const char *ok[] = {"n=7", "region=westeurope", "dry=true", "ratio=1e-3"};
	cJSON *v;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_params_bind(rb, ok, 4, &v, &err), 0);
	char *text = cJSON_PrintUnformatted(v);
	assert_string_equal(text, "{\"region\":\"westeurope\",\"n\":7,\"ratio\":0.001,\"dry\":true,\"wait\":\"5m\","
				  "\"point\":\"latest\"}");
	free(text);
	cJSON_Delete(v);
	const char *bad[] = {"n=7.5", "dry=yes", "wait=soon", "point=oldest", "regoin=x", "region=a", "region=b", "novalue"};
	assert_int_equal(dr_params_bind(rb, bad, 8, &v, &err), 7);
	const char *want[] = {
		"--param n=7.5: '7.5' is not an integer (parameter 'n' is of type int)",
		"--param dry=yes: 'yes' is not true or false (parameter 'dry' is of type bool)",
		"--param wait=soon: 'soon' is not a duration",
		"--param point=oldest: 'point' must be one of: latest, custom",
		"--param regoin: the runbook has no parameter 'regoin'; did you mean 'region'?",
		"--param region is given twice",
		"--param 'novalue': expected NAME=VALUE",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(err.data, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], err.data);
	cJSON_Delete(v);
	dr_buf_reset(&err);
	assert_int_equal(dr_params_bind(rb, NULL, 0, &v, &err), 1);
	assert_string_equal(err.data, "missing --param region=VALUE: parameter 'region' (string) has no default\n");
	cJSON_Delete(v);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
}

/*
 * Found by fuzz_run: a VM set's pattern whose literal part is longer than
 * every VM name made the "did you mean" of an empty set read past the
 * names' ends. Each name has an allocation of its own here, so ASan sees it.
 */
static void empty_set_long_pattern(void **state)
{
	(void)state;
	dr_runbook *rb = fx_compile(NULL, "drover: 1\nname: long\nvm_sets:\n  all: { match: { name: '^vmshnp-wbbpp-e--' } }\n"
				    "steps:\n  - { id: s, action: log, targets: all, with: { message: x } }\n");
	dr_arena *a = dr_arena_new();
	dr_vm vms[3] = {{.name = strdup("vm-1")}, {.name = strdup("v!~m-3")}, {.name = strdup("vm")}};
	dr_binding b;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_bind_sets(a, rb, vms, 3, &b, &err), 1);
	assert_non_null(strstr(err.data, "vm_set 'all' matches no VM"));
	for (size_t i = 0; i < 3; i++)
		free((char *)vms[i].name);
	dr_buf_dispose(&err);
	dr_arena_free(a);
	dr_runbook_free(rb);
}

/*
 * Binding tries a set's regexes only on the VMs its match: could select
 * (bind_index.c: the literal start of anchored patterns, sorted names and
 * tag values). Every set must still get exactly the VMs a test of every VM
 * gives: patterns with a literal start, quantified or optional letters,
 * alternation, inline flags, unanchored, tags with and without the tag.
 */
static void sets_narrowed_like_a_full_scan(void **state)
{
	(void)state;
	static const char *yaml =
		"drover: 1\nname: narrow\nvm_sets:\n"
		"  a: { match: { name: '^web-' }, expect: { min: 0 } }\n"
		"  b: { match: { name: '^web-?x' }, expect: { min: 0 } }\n"
		"  c: { match: { name: '^ab*c' }, expect: { min: 0 } }\n"
		"  d: { match: { name: '^db|^web-1' }, expect: { min: 0 } }\n"
		"  e: { match: { name: '(?i)^WEB' }, expect: { min: 0 } }\n"
		"  f: { match: { name: '^(?i)WEB' }, expect: { min: 0 } }\n"
		"  g: { match: { name: 'b-1' }, expect: { min: 0 } }\n"
		"  h: { match: { name: '^db-\\d+$', tags: { env: '^prod$' } }, expect: { min: 0 } }\n"
		"  i: { match: { tags: { env: 'pro' } }, exclude: { name: '^db-2' }, expect: { min: 0 } }\n"
		"  j: { match: { name: '^a{2}' }, expect: { min: 0 } }\n"
		"  k: { match: { name: '^web-1\\d' }, expect: { min: 0 } }\n"
		"  l: { match: { tags: { tier: '^w' } }, expect: { min: 0 } }\n"
		"  m: { match: {}, expect: { min: 0 } }\n"
		"  n: { match: { name: '^zzz' }, expect: { min: 0 } }\n"
		"  o: { match: { name: '^' }, expect: { min: 0 } }\n"
		"steps:\n  - { id: s, action: log, with: { message: x } }\n";
	dr_runbook *rb = fx_compile(NULL, yaml);
	static const char *const web_k[] = {"tier", "env"}, *const web_v[] = {"web", "prod"};
	static const char *const db_k[] = {"env"}, *const db_v[] = {"prod"}, *const test_v[] = {"test"};
	dr_vm vms[] = {
		{.name = "web-12", .tag_keys = web_k, .tag_values = web_v, .n_tags = 2},
		{.name = "webx"},
		{.name = "db-1", .tag_keys = db_k, .tag_values = db_v, .n_tags = 1},
		{.name = "WEB-3"},
		{.name = "ac"},
		{.name = "abbbc"},
		{.name = "web-1", .tag_keys = db_k, .tag_values = test_v, .n_tags = 1},
		{.name = "db-2", .tag_keys = db_k, .tag_values = db_v, .n_tags = 1},
		{.name = "aab"},
		{.name = NULL},
		{.name = "web-x"},
		{.name = "db-10x", .tag_keys = db_k, .tag_values = db_v, .n_tags = 1},
	};
	size_t n = sizeof vms / sizeof vms[0];
	dr_arena *a = dr_arena_new();
	dr_binding b;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_bind_sets(a, rb, vms, n, &b, &err), 0);
	for (size_t s = 0; s < rb->n_vm_sets; s++) {
		const dr_vm_set *set = &rb->vm_sets[s];
		bool all = !set->match.present || (!set->match.name.code && !set->match.n_tags);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (!(all || dr_bind_filter_matches(&set->match, &vms[i])) ||
			    dr_bind_filter_matches(&set->exclude, &vms[i]))
				continue;
			if (k >= b.n_members[s] || b.members[s][k] != i)
				fail_msg("set '%s': VM %zu (%s) missing or out of order", set->name.name, i,
					 vms[i].name ? vms[i].name : "(none)");
			k++;
		}
		if (k != b.n_members[s])
			fail_msg("set '%s': %zu VMs, a full scan finds %zu", set->name.name, b.n_members[s], k);
	}
	/* the sets hold what this test means them to */
	static const size_t want[] = {3, 2, 2, 5, 5, 5, 4, 2, 3, 1, 1, 1, 12, 0, 11};
	for (size_t s = 0; s < rb->n_vm_sets; s++)
		if (b.n_members[s] != want[s])
			fail_msg("set '%s': %zu VMs, want %zu", rb->vm_sets[s].name.name, b.n_members[s], want[s]);
	/* and the index narrows where it can: ^web- to its 3, ^db-\d+$ to its 3, a caseless pattern not at all */
	dr_bind_index *ix = dr_bind_index_new(vms, n);
	size_t *c, want_c[] = {3, 0, 0, 11, 11, 11, 11, 3};
	for (size_t s = 0; s < 8; s++) {
		if (want_c[s] && dr_bind_index_candidates(ix, &rb->vm_sets[s].match, &c) != want_c[s])
			fail_msg("set '%s': want %zu candidates", rb->vm_sets[s].name.name, want_c[s]);
		if (want_c[s])
			free(c);
	}
	dr_bind_index_free(ix);
	dr_buf_dispose(&err);
	dr_arena_free(a);
	dr_runbook_free(rb);
}

/*
 * A ^TEXT$ pattern of plain characters is compared, not matched (bind.c
 * exact_text): for every subject it must say what PCRE2 says - TEXT and TEXT
 * with one final newline ($ matches before it), nothing else; other
 * patterns (an inline flag, a class, a dot, a quantifier, a multibyte
 * letter) keep going to PCRE2.
 */
static void exact_patterns_as_pcre2(void **state)
{
	(void)state;
	static const char *const pats[] = {"^db$", "^prod-eu_1/a:b@c,d=e%f~g h$", "^$", "^(?i)db$", "^d.$", "^[d]b$",
					   "^db+$", "^d\\x62$", "^dé$", "^db\\n$", "db$", "^db"};
	static const char *const subjects[] = {"db", "db\n", "db\n\n", "db\r\n", "\ndb", "dbx", "xdb", "DB", "d", "",
					       "\n", "prod-eu_1/a:b@c,d=e%f~g h", "prod-eu_1/a:b@c,d=e%f~g h\n", "dé", "dB"};
	dr_buf y;
	dr_buf_init(&y);
	dr_buf_puts(&y, "drover: 1\nname: exact\nvm_sets:\n");
	for (size_t p = 0; p < sizeof pats / sizeof *pats; p++)
		dr_buf_printf(&y, "  s%zu: { match: { tags: { t: \"%s\" } }, expect: { min: 0 } }\n", p, pats[p]);
	dr_buf_puts(&y, "steps:\n  - { id: s, action: log, with: { message: x } }\n");
	dr_runbook *rb = fx_compile(NULL, y.data);
	static const char *const key[] = {"t"};
	for (size_t p = 0; p < rb->n_vm_sets; p++) {
		const dr_vm_filter *f = &rb->vm_sets[p].match;
		pcre2_match_data *md = pcre2_match_data_create(1, NULL);
		for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
			const char *val[] = {subjects[i]};
			dr_vm vm = {.name = "vm", .tag_keys = key, .tag_values = val, .n_tags = 1};
			bool want = pcre2_match(f->tags[0].value.code, (PCRE2_SPTR)subjects[i], strlen(subjects[i]), 0, 0,
						md, NULL) >= 0;
			if (dr_bind_filter_matches(f, &vm) != want)
				fail_msg("'%s' on '%s': PCRE2 says %d", f->tags[0].value.source, subjects[i], want);
		}
		pcre2_match_data_free(md);
	}
	/* and the sets bind what PCRE2 finds: ^db$ takes db and db + newline */
	dr_vm vms[] = {{.name = "a", .tag_keys = key, .tag_values = (const char *const[]){"db"}, .n_tags = 1},
		       {.name = "b", .tag_keys = key, .tag_values = (const char *const[]){"db\n"}, .n_tags = 1},
		       {.name = "c", .tag_keys = key, .tag_values = (const char *const[]){"dbx"}, .n_tags = 1}};
	dr_arena *a = dr_arena_new();
	dr_binding b;
	dr_buf err;
	dr_buf_init(&err);
	dr_bind_sets(a, rb, vms, 3, &b, &err);
	assert_int_equal(b.n_members[0], 2);
	dr_buf_dispose(&err);
	dr_buf_dispose(&y);
	dr_arena_free(a);
	dr_runbook_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sets_and_targets),
		cmocka_unit_test(empty_set_long_pattern),
		cmocka_unit_test(sets_narrowed_like_a_full_scan),
		cmocka_unit_test(missing_inventory_file),
		cmocka_unit_test(typed_params),
		cmocka_unit_test(exact_patterns_as_pcre2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
