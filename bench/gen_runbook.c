/*
 * gen_runbook.c - writes a large, valid drover runbook to stdout, for the
 * benchmark (bench/run.sh) and for anyone who wants a big realistic input.
 *
 * The runbook fails over a whole estate on the embedded simulator:
 *
 *   backend.vms   --vms VMs, each {name, tags: {tier, app}, regions, size,
 *                 IPs}, in shuffled order like a real inventory;
 *   vm_sets       --sets sets, one per (app, tier), each matching its VMs by
 *                 a name regex and tag regexes; some exclude a canary VM;
 *   steps         exactly --steps steps in a layered DAG. Sets are grouped in
 *                 tiers (db, cache, queue, app, web) that fail over in that
 *                 order. Each set gets a lane: dr.failover (or
 *                 dr.test_failover for --drill-pct of them), then
 *                 validations: check.tcp / check.http (https) foreach VM
 *                 against ${target.recovery_ip}, some dr.probe, a few `use:
 *                 tier-health` (the stdlib composite); then for real
 *                 failovers optionally an approve gate, dr.commit
 *                 (after validations of the same set) and dr.reprotect (after
 *                 the commit). A lane's failover needs 1-3 checks of lanes in
 *                 the previous tier; every other step needs 1-3 earlier steps
 *                 of its lane. One approve step is the root.
 *   finally       dr.test_cleanup of every set, ten sets per step (not counted
 *                 in --steps): what a run of it tests (the drilled lanes),
 *                 and what `drover drill` of it tests (every lane), so a
 *                 drill's cleanup is the runbook's own, sized for its VMs;
 *                 VMs not in a test failover are skipped (when:).
 *
 * Addresses are in the benchmarking range 198.18.0.0/15 (RFC 2544: primary
 * 198.18.x.x, recovery 198.19.x.x), which no real network routes to, so a
 * check of a bench runbook (a drill of it, run for real) never reaches a
 * real host; 10.64.x.x, used before, answered TLS on one network.
 *
 * Timeouts fit the work (timeout_min): a failover's, a reprotect's and a
 * cleanup's grow with the VMs of the step and its concurrency, and a
 * pipelined check's covers the failover it follows. So the runbook succeeds
 * when rehearsed (`drover plan --estimate`: every task of every step runs)
 * at any size.
 *
 * Output is a function of the arguments only (seeded splitmix64), so runs are
 * comparable across machines. C11 and libc, nothing else.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 64
#define MAX_VMS 64000L /* addresses in a /16 of the benchmarking range, 250 a block (print_ip) */

typedef struct opts {
	long vms, sets, steps, drill_pct, seed;
} opts;

typedef struct tier {
	const char *name;
	int port; /* the service port probed with check.tcp */
	const char *health; /* the health endpoint's ":port" after the IP ("" for 443) */
	int weight; /* relative share of VMs */
	int canary; /* its sets hold a canary VM, excluded by name */
	const char *size;
} tier;

/* Failover order: a tier's lanes wait for checks of the tier before. */
static const tier tiers[] = {
	{ "db", 5432, ":8008", 1, 0, "Standard_E8s_v5" },
	{ "cache", 6379, ":9121", 1, 0, "Standard_E4s_v5" },
	{ "queue", 5672, ":15672", 1, 0, "Standard_D4s_v5" },
	{ "app", 8080, ":8080", 4, 0, "Standard_D8s_v5" },
	{ "web", 443, "", 3, 1, "Standard_D4s_v5" },
};
#define N_TIERS ((long)(sizeof tiers / sizeof tiers[0]))

static const char *const apps[] = {
	"payments", "orders", "billing", "ledger", "catalog", "search", "inventory", "shipping",
	"accounts", "auth", "profile", "cart", "checkout", "pricing", "reviews", "media",
	"notify", "reports", "analytics", "fraud", "loyalty", "support", "tickets", "booking",
	"rates", "quotes", "claims", "policy", "crm", "erp", "hr", "payroll",
	"wiki", "portal", "gateway", "metrics", "audit", "archive", "backup", "mail",
};
#define N_APPS ((long)(sizeof apps / sizeof apps[0]))

static const char *const regions[][2] = {
	{ "westeurope", "northeurope" },
	{ "eastus", "westus2" },
	{ "uksouth", "ukwest" },
	{ "southeastasia", "eastasia" },
};
#define N_REGIONS ((long)(sizeof regions / sizeof regions[0]))

typedef struct vm_set {
	char name[ID_MAX]; /* "payments-db", "payments2-db" past the first round of apps */
	char app[ID_MAX];
	long tier, region;
	long n_vms; /* including the canary */
	int canary; /* one VM named <set>-canary-1, excluded by the set */
	int drill; /* dr.test_failover lane */
	int approve; /* an approve gate before dr.commit */
	long n_checks;
	long first_check; /* index into the step id table */
	long failover_min; /* the failover's timeout, minutes: long enough for its VMs at its concurrency */
} vm_set;

typedef struct vm {
	long set, index; /* index within the set, from 1; 0 is the canary */
} vm;

static uint64_t rng_state;

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A uniform integer in [lo, hi]. */
static long rnd_range(long lo, long hi)
{
	return lo + (long)(rnd() % (uint64_t)(hi - lo + 1));
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fputs("gen_runbook: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void usage(FILE *out)
{
	fputs("usage: gen_runbook [--vms N] [--sets N] [--steps N] [--seed N] [--drill-pct N]\n"
	      "Writes a valid drover runbook to stdout (defaults: 10000 VMs, 200 sets,\n"
	      "2000 steps, seed 1, 10% of the sets drilled with dr.test_failover).\n",
	      out);
}

static int parse_long(const char *s, long min, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min)
		return -1;
	*out = v;
	return 0;
}

/* Every option takes a whole number of at least min. */
static const struct option {
	const char *name;
	size_t offset; /* of the long in opts */
	long min;
} options[] = {
	{ "--vms", offsetof(opts, vms), 1 },
	{ "--sets", offsetof(opts, sets), 1 },
	{ "--steps", offsetof(opts, steps), 1 },
	{ "--seed", offsetof(opts, seed), 0 },
	{ "--drill-pct", offsetof(opts, drill_pct), 0 },
};

static const struct option *find_option(const char *name)
{
	for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
		if (!strcmp(options[k].name, name))
			return &options[k];
	return NULL;
}

static int parse_args(int argc, char **argv, opts *o)
{
	*o = (opts){ .vms = 10000, .sets = 200, .steps = 2000, .drill_pct = 10, .seed = 1 };
	for (int i = 1; i < argc; i += 2) {
		const struct option *opt = find_option(argv[i]);
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!opt || i + 1 >= argc ||
		    parse_long(argv[i + 1], opt->min, (long *)((char *)o + opt->offset)) < 0) {
			fprintf(stderr, "gen_runbook: bad argument '%s'\n", argv[i]);
			return -1;
		}
	}
	if (o->drill_pct > 100) {
		fputs("gen_runbook: --drill-pct is at most 100\n", stderr);
		return -1;
	}
	if (o->vms > MAX_VMS) {
		fprintf(stderr, "gen_runbook: --vms is at most %ld (each VM's addresses come from 198.18.0.0/15)\n", MAX_VMS);
		return -1;
	}
	return 0;
}

/* Name sets after (app, tier): payments-db, payments-cache, ..., payments2-db. */
static void name_sets(vm_set *sets, long n)
{
	for (long i = 0; i < n; i++) {
		long combo = i / N_TIERS, round = combo / N_APPS;
		vm_set *s = &sets[i];
		s->tier = i % N_TIERS;
		s->region = (combo % N_APPS) % N_REGIONS;
		if (round)
			snprintf(s->app, sizeof s->app, "%s%ld", apps[combo % N_APPS], round + 1);
		else
			snprintf(s->app, sizeof s->app, "%s", apps[combo % N_APPS]);
		snprintf(s->name, sizeof s->name, "%s-%s", s->app, tiers[s->tier].name);
	}
}

/* One VM per set, then the rest spread by tier weight times a random factor. */
static void size_sets(vm_set *sets, long n, long vms)
{
	long *weight = xcalloc((size_t)n, sizeof *weight), total = 0;
	for (long i = 0; i < n; i++) {
		weight[i] = tiers[sets[i].tier].weight * rnd_range(1, 4);
		total += weight[i];
		sets[i].n_vms = 1;
	}
	for (long v = n; v < vms; v++) {
		long pick = rnd_range(0, total - 1), i = 0;
		while (pick >= weight[i])
			pick -= weight[i++];
		sets[i].n_vms++;
	}
	for (long i = 0; i < n; i++)
		sets[i].canary = sets[i].n_vms >= 3 && tiers[sets[i].tier].canary;
	free(weight);
}

/* Every VM as (set, index), shuffled: inventories do not come sorted. */
static vm *make_vms(const vm_set *sets, long n_sets, long n_vms)
{
	vm *vms = xcalloc((size_t)n_vms, sizeof *vms);
	long k = 0;
	for (long i = 0; i < n_sets; i++)
		for (long j = 0; j < sets[i].n_vms; j++)
			vms[k++] = (vm){ i, sets[i].canary ? j : j + 1 };
	for (long i = n_vms - 1; i > 0; i--) {
		long j = rnd_range(0, i);
		vm t = vms[i];
		vms[i] = vms[j];
		vms[j] = t;
	}
	return vms;
}

/* 198.B.C.D in the benchmarking range 198.18.0.0/15 (RFC 2544): B 18 (primary) or 19 (recovery); v < MAX_VMS. */
static void print_ip(int b, long v)
{
	printf("198.%d.%ld.%ld", b, v / 250, v % 250 + 1);
}

static void print_vm_name(const vm_set *s, long index)
{
	if (index == 0)
		printf("%s-canary-1", s->name);
	else
		printf("%s-%04ld", s->name, index);
}

static void print_header(const opts *o)
{
	printf("# yaml-language-server: $schema=../../docs/runbook.schema.json\n"
	       "# Generated by bench/gen_runbook --vms %ld --sets %ld --steps %ld --seed %ld --drill-pct %ld\n"
	       "drover: 1\n"
	       "name: bench-estate-failover\n"
	       "description: >-\n"
	       "  Fail the whole estate over to its recovery regions, tier by tier,\n"
	       "  validating every VM before committing. Generated for the benchmark.\n\n",
	       o->vms, o->sets, o->steps, o->seed, o->drill_pct);
	printf("params:\n"
	       "  recovery_point:\n"
	       "    type: string\n"
	       "    default: latest-processed\n"
	       "    enum: [latest, latest-processed, latest-app-consistent, latest-crash-consistent]\n"
	       "    description: Which recovery point to fail over to.\n"
	       "  health_path: { type: string, default: /healthz, description: HTTP health endpoint }\n"
	       "  deep_checks: { type: bool, default: true, description: Run the slower checks too }\n"
	       "  test_network: { type: string, default: dr-test-vnet, description: Isolated network for drills }\n\n");
}

static void print_backend(const vm_set *sets, const vm *vms, long n_vms)
{
	printf("backend:\n  kind: sim\n  vms:\n");
	for (long v = 0; v < n_vms; v++) {
		const vm_set *s = &sets[vms[v].set];
		printf("    - { name: ");
		print_vm_name(s, vms[v].index);
		printf(", tags: { tier: %s, app: %s }, primary_region: %s, recovery_region: %s, "
		       "size: %s, primary_ip: ",
		       tiers[s->tier].name, s->app, regions[s->region][0], regions[s->region][1],
		       tiers[s->tier].size);
		print_ip(18, v);
		printf(", recovery_ip: ");
		print_ip(19, v);
		printf(" }\n");
	}
	printf("\n");
}

static void print_vm_sets(const vm_set *sets, long n)
{
	printf("vm_sets:\n");
	for (long i = 0; i < n; i++) {
		const vm_set *s = &sets[i];
		printf("  %s:\n    description: %s %s servers\n", s->name, s->app, tiers[s->tier].name);
		if (s->canary) {
			printf("    match: { name: '^%s-', tags: { tier: '^%s$', app: '^%s$' } }\n"
			       "    exclude: { name: '-canary-\\d+$' }\n"
			       "    expect: { count: %ld }\n",
			       s->name, tiers[s->tier].name, s->app, s->n_vms - 1);
		} else {
			printf("    match: { name: '^%s-\\d+$', tags: { tier: '^%s$', app: '^%s$' } }\n"
			       "    expect: { min: 1 }\n",
			       s->name, tiers[s->tier].name, s->app);
		}
	}
	printf("\n");
}

static void print_policies(void)
{
	printf("recovery:\n"
	       "  point: ${params.recovery_point}\n"
	       "  max_age: 15m\n"
	       "  fallback: [latest-app-consistent, latest-crash-consistent]\n\n"
	       "objectives: { rto: 4h, rpo: 15m }\n\n"
	       "defaults:\n"
	       "  timeout: 30m\n"
	       "  retry: { attempts: 3, delay: 10s, backoff: 2, max_delay: 5m, jitter: full, "
	       "on: [transient, throttled] }\n"
	       "  concurrency: 20\n\n"
	       "on_failure: stop\n\n");
}

/*
 * Step budget: the root approve, two steps per drilled lane (failover, one
 * check), four per real lane (failover, check, commit, reprotect). What is
 * left becomes approve gates (on up to a quarter of the real lanes) and extra
 * checks spread at random. Returns -1 when --steps is too small.
 */
static int plan_lanes(vm_set *sets, long n, const opts *o)
{
	long drills = n * o->drill_pct / 100, need = 1, spare, gates = 0;
	for (long i = 0; i < n; i++) {
		sets[i].drill = rnd_range(0, n - 1) < drills;
		sets[i].n_checks = 1;
		need += sets[i].drill ? 2 : 4;
	}
	if (o->steps < need) {
		fprintf(stderr, "gen_runbook: --steps must be at least %ld for %ld sets\n", need, n);
		return -1;
	}
	spare = o->steps - need;
	for (long i = 0; i < n && spare > 0 && gates < (n + 3) / 4; i++) {
		if (!sets[i].drill && rnd_range(0, 3) == 0) {
			sets[i].approve = 1;
			gates++;
			spare--;
		}
	}
	for (; spare > 0; spare--)
		sets[rnd_range(0, n - 1)].n_checks++;
	return 0;
}

/* Print a needs: list of ids. */
static void print_needs(const char *const *ids, long n)
{
	printf("    needs: [");
	for (long i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", ids[i]);
	printf("]\n");
}

/* Pick k distinct indexes out of [lo, hi] into out (k <= hi - lo + 1). */
static void pick_distinct(long lo, long hi, long k, long *out)
{
	for (long i = 0; i < k; i++) {
		long v;
		int dup;
		do {
			v = rnd_range(lo, hi);
			dup = 0;
			for (long j = 0; j < i; j++)
				dup |= out[j] == v;
		} while (dup);
		out[i] = v;
	}
}

typedef struct gen {
	char (*ids)[ID_MAX]; /* every check step's id, by index */
	long n_ids;
	long prev_lo, prev_hi; /* check ids of the previous tier: [lo, hi) */
	long cur_lo; /* first check id of the current tier */
	long tier;
	long steps_written;
} gen;

static void print_root(gen *g)
{
	printf("steps:\n"
	       "  - id: start\n"
	       "    name: Declare the disaster\n"
	       "    action: approve\n"
	       "    with: { message: \"Fail the estate over to the recovery regions?\", timeout: 1h }\n\n");
	g->steps_written++;
}

/*
 * A step's timeout in minutes, whole hours: n tasks at concurrency c, each
 * at most per_task minutes on the simulator (sim_jobs.c: a failover 3-8 min
 * plus boot, a reprotect's seeding 22-65 min), and at least min_min. A
 * fixed 30m or 1h timed out the big sets' failovers and reprotects.
 */
static long timeout_min(long n, long c, long per_task, long min_min)
{
	long m = (n + c - 1) / c * per_task;
	m = m < min_min ? min_min : m;
	return (m + 59) / 60 * 60;
}

/* The lane's failover: needs 1-3 checks of the previous tier, or the root. */
static void print_failover(gen *g, vm_set *s)
{
	printf("  - id: failover-%s\n"
	       "    name: Fail over %s\n"
	       "    action: %s\n"
	       "    targets: %s\n",
	       s->name, s->name, s->drill ? "dr.test_failover" : "dr.failover", s->name);
	if (s->drill)
		printf("    with: { network: \"${params.test_network}\" }\n");
	else if (s->tier == 0)
		printf("    with: { shutdown_source: true }\n");
	if (g->prev_hi > g->prev_lo) {
		long pick[3], k = rnd_range(1, 3), avail = g->prev_hi - g->prev_lo;
		const char *ids[3];
		k = k > avail ? avail : k;
		pick_distinct(g->prev_lo, g->prev_hi - 1, k, pick);
		for (long i = 0; i < k; i++)
			ids[i] = g->ids[pick[i]];
		print_needs(ids, k);
	} else {
		printf("    needs: start\n");
	}
	long c = rnd_range(5, 50);
	s->failover_min = timeout_min(s->n_vms, c, 10, 60);
	printf("    concurrency: %ld\n    timeout: %ldm\n\n", c, s->failover_min);
	g->steps_written++;
}

/*
 * The action of check j: mostly check.tcp and check.http foreach VM, some
 * dr.probe, some `use: tier-health` (a stdlib composite: dr.probe then
 * check.tcp). Returns 1 for a use: step, which takes no retry/when/pipeline.
 */
static int print_check_body(const vm_set *s, long j)
{
	const tier *t = &tiers[s->tier];
	long kind = j == 0 ? 0 : rnd_range(0, 19);
	if (kind == 19) {
		printf("    use: tier-health\n"
		       "    with: { tier: %s, port: %d }\n",
		       s->name, t->port);
		return 1;
	}
	if (kind >= 17) {
		printf("    action: dr.probe\n"
		       "    targets: %s\n"
		       "    with: { expect: healthy }\n",
		       s->name);
	} else if (kind < 7) {
		printf("    action: check.tcp\n"
		       "    foreach: %s\n"
		       "    with: { host: \"${target.recovery_ip}\", port: %d }\n",
		       s->name, t->port);
	} else {
		printf("    action: check.http\n"
		       "    foreach: %s\n"
		       "    with:\n"
		       "      url: \"https://${target.recovery_ip}%s${params.health_path}\"\n"
		       "      expect: { status: 200 }\n",
		       s->name, t->health); /* plain http:// goes to loopback only (issue 10) */
	}
	return 0;
}

/* Check j of a lane: needs the failover, sometimes an earlier check too. */
static void print_check(gen *g, const vm_set *s, long j)
{
	char *id = g->ids[s->first_check + j];
	int use;
	snprintf(id, ID_MAX, "check-%s-%ld", s->name, j + 1);
	printf("  - id: %s\n", id);
	use = print_check_body(s, j);
	if (j > 0 && rnd_range(0, 1))
		printf("    needs: [failover-%s, %s]\n", s->name, g->ids[s->first_check + rnd_range(0, j - 1)]);
	else
		printf("    needs: failover-%s\n", s->name);
	g->steps_written++;
	if (use) {
		printf("\n");
		return;
	}
	if (j > 1 && rnd_range(0, 4) == 0)
		printf("    when: ${params.deep_checks}\n");
	if (rnd_range(0, 2) == 0) /* it starts with the first VM's failover: its timeout covers the others' */
		printf("    pipeline: true\n    timeout: %ldm\n", s->failover_min + 60);
	printf("    retry: { attempts: 10, delay: 15s, backoff: 1 }\n\n");
}

/* The approve gate of a lane: needs 1-2 of its checks. */
static void print_gate(gen *g, const vm_set *s)
{
	long pick[2], k = s->n_checks > 1 ? rnd_range(1, 2) : 1;
	const char *ids[2];
	pick_distinct(s->first_check, s->first_check + s->n_checks - 1, k, pick);
	for (long i = 0; i < k; i++)
		ids[i] = g->ids[pick[i]];
	printf("  - id: go-%s\n"
	       "    action: approve\n"
	       "    with: { message: \"Commit %s? Its recovery points will be deleted.\", timeout: 2h }\n",
	       s->name, s->name);
	print_needs(ids, k);
	printf("\n");
	g->steps_written++;
}

/* Commit after 1-3 validations of the same set (and the gate); then reprotect. */
static void print_commit(gen *g, const vm_set *s)
{
	long pick[3], k = rnd_range(1, s->approve ? 2 : 3), n = 0;
	const char *ids[3];
	char gate[ID_MAX];
	k = k > s->n_checks ? s->n_checks : k;
	pick_distinct(s->first_check, s->first_check + s->n_checks - 1, k, pick);
	if (s->approve) {
		snprintf(gate, sizeof gate, "go-%s", s->name);
		ids[n++] = gate;
	}
	for (long i = 0; i < k; i++)
		ids[n++] = g->ids[pick[i]];
	printf("  - id: commit-%s\n"
	       "    action: dr.commit\n"
	       "    targets: %s\n",
	       s->name, s->name);
	print_needs(ids, n);
	printf("\n  - id: reprotect-%s\n"
	       "    action: dr.reprotect\n"
	       "    targets: %s\n"
	       "    needs: commit-%s\n"
	       "    timeout: %ldm\n"
	       "    on_failure: continue\n\n",
	       s->name, s->name, s->name, timeout_min(s->n_vms, 20, 70, 60));
	g->steps_written += 2;
}

static void print_lane(gen *g, vm_set *s)
{
	if (s->tier != g->tier) {
		g->prev_lo = g->cur_lo;
		g->prev_hi = g->n_ids;
		g->cur_lo = g->n_ids;
		g->tier = s->tier;
	}
	s->first_check = g->n_ids;
	g->n_ids += s->n_checks;
	print_failover(g, s);
	for (long j = 0; j < s->n_checks; j++)
		print_check(g, s, j);
	if (s->drill)
		return;
	if (s->approve)
		print_gate(g, s);
	print_commit(g, s);
}

/* Lanes tier by tier, so needs only point back at earlier tiers. */
static long print_steps(vm_set *sets, long n)
{
	long total = 0;
	gen g = { .tier = -1 };
	for (long i = 0; i < n; i++)
		total += sets[i].n_checks;
	g.ids = xcalloc((size_t)total, sizeof *g.ids);
	print_root(&g);
	for (long t = 0; t < N_TIERS; t++)
		for (long i = 0; i < n; i++)
			if (sets[i].tier == t)
				print_lane(&g, &sets[i]);
	free(g.ids);
	return g.steps_written;
}

/*
 * The end of a cleanup step: its targets; only VMs in a test failover (the
 * others are failed over for real, or were never reached); a timeout for
 * n_vms VMs (cleanup ~2 min each); the retry drover drill gives its own
 * cleanup, which waits out a test failover still running when the run stopped.
 */
static void end_cleanup(long n_vms)
{
	printf("]\n    when: \"${target.state =~ '^test_'}\"\n    timeout: %ldm\n"
	       "    retry: { attempts: 30, delay: 30s, backoff: 1, on: [transient, throttled, timeout] }\n",
	       timeout_min(n_vms, 20, 3, 60));
}

/*
 * Clean up every set a drill tests, ten sets per step, whatever happened:
 * the drilled lanes' in a run of the runbook, every lane's in drover drill
 * (which cleans up no set the runbook cleans up itself).
 */
static void print_finally(const vm_set *sets, long n)
{
	long group = 0, in_group = 0, n_vms = 0;
	printf("finally:\n");
	for (long i = 0; i < n; i++) {
		if (in_group == 0)
			printf("  - id: cleanup-%ld\n    action: dr.test_cleanup\n    targets: [", ++group);
		printf("%s%s", in_group ? ", " : "", sets[i].name);
		n_vms += sets[i].n_vms;
		if (++in_group == 10) {
			end_cleanup(n_vms);
			in_group = n_vms = 0;
		}
	}
	if (in_group)
		end_cleanup(n_vms);
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	opts o;
	vm_set *sets;
	vm *vms;
	long written;
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.vms < o.sets) {
		fputs("gen_runbook: --vms must be at least --sets (one VM per set)\n", stderr);
		return 2;
	}
	rng_state = (uint64_t)o.seed;
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	sets = xcalloc((size_t)o.sets, sizeof *sets);
	name_sets(sets, o.sets);
	size_sets(sets, o.sets, o.vms);
	if (plan_lanes(sets, o.sets, &o) < 0)
		return 2;
	vms = make_vms(sets, o.sets, o.vms);
	print_header(&o);
	print_backend(sets, vms, o.vms);
	print_vm_sets(sets, o.sets);
	print_policies();
	written = print_steps(sets, o.sets);
	print_finally(sets, o.sets);
	free(vms);
	free(sets);
	if (written != o.steps)
		fprintf(stderr, "gen_runbook: internal error: wrote %ld steps, not %ld\n", written, o.steps);
	return fflush(stdout) == 0 && written == o.steps ? 0 : 1;
}
