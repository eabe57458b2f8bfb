/*
 * torture.c - the crash-torture test of the journal (docs/journal.md,
 * "Proof"): run a DR plan on the simulator, kill drover with SIGKILL at
 * random points, `drover resume` until the run is done, then check what the
 * service saw. Repeated for many seeds.
 *
 *   torture --drover BIN --plan FILE --work DIR [--seeds N] [--first S]
 *           [--min-kills K] [--verbose]
 *           [--expect-active Recovery|Primary] [--op NAME]... [--expect-exit N] [--expect-status S]
 *
 * The defaults fit tests/torture/plan.yaml: every VM ends on the recovery
 * side, each with a failover, a commit and a reprotect, and the run
 * succeeds. tests/torture/rollback.yaml ends on the primary side, each VM
 * with a failover and a cancel_failover, the run rolled back (exit 1).
 *
 * Each seed draws, for each drover session, whether and where to kill it:
 *
 *   after N     DROVER_TEST_KILL_AT=N: right after the sync that made the
 *               session's record N durable (e.g. an intent is durable and
 *               its call not issued)
 *   before N    N:before: as record N is appended (e.g. the call was made,
 *               its result not recorded)
 *   torn N      N:torn: halfway through writing the batch holding record N
 *               (the journal ends with a torn line)
 *   wall T      a real SIGKILL from here after T ms, wherever drover is
 *
 * and in the simulator's saves (DROVER_TEST_SIM_KILL, docs/backends.md): at
 * its Nth save of the session,
 *
 *   sim-append N   the change log's group written, not synced
 *   sim-torn N     half the group written and synced (a torn tail)
 *   sim-snapshot N the save is a snapshot, killed with its temporary file
 *                  half written
 *   sim-swap N     a snapshot, killed after the new state file is in place
 *                  and before the log is emptied (the log's groups are stale)
 *
 * and the kills stop after a few sessions, so every seed ends. A session
 * whose run has no journal yet starts it again (drover run); otherwise
 * drover resume. When the run is done, the checks:
 *
 *   - the last session exits 0 and the journal's last run.end says succeeded;
 *   - every VM of the simulator's state file is Protected, active on the
 *     recovery side (failed over, committed, reprotected);
 *   - the audit log has each VM's failover, commit and reprotect accepted,
 *     and more than once only after a failed job: every accepted call but
 *     the last of an (operation, VM) names a job that failed, with another
 *     idempotency key (a retry, visible as such); replays and refusals are
 *     not starts.
 *
 * Prints one line per failed seed (and per seed with --verbose), then the
 * tally. Exit 0 when every seed passed and at least K kills happened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define MAX_SESSIONS 40

typedef enum kind { K_NONE, K_AFTER, K_BEFORE, K_TORN, K_WALL, K_SIM_APPEND, K_SIM_TORN, K_SIM_SNAPSHOT, K_SIM_SWAP, K__COUNT } kind;
static const char *const kind_names[] = {"none",	  "after-sync", "before-write", "torn-write",  "wall-clock",
					 "sim-append", "sim-torn",   "sim-snapshot", "sim-swap"};
static const char *const sim_kill_names[] = {[K_SIM_APPEND] = "append", [K_SIM_TORN] = "torn",
					     [K_SIM_SNAPSHOT] = "snapshot", [K_SIM_SWAP] = "swap"};
#define SIM_SAVES 16 /* a session of the plans saves the simulator 10 to 20 times */

typedef struct opts {
	const char *drover, *plan, *work;
	long seeds, first, min_kills;
	bool verbose;
	const char *active; /* where every VM must end: "Recovery" (default) or "Primary" */
	const char *ops[8]; /* operations every VM must have had accepted (default failover, commit, reprotect) */
	int exit_code; /* how the run ends: 0 (succeeded, default), 1 (failed or rolled back) */
	const char *status; /* the journal's last run.end status (default succeeded) */
} opts;

typedef struct tally {
	long kills[K__COUNT];
	long sessions, passed, failed;
} tally;

/* --- small things ------------------------------------------------------------ */

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static cJSON *read_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	size_t got = fread(buf, 1, (size_t)n, f);
	buf[got] = '\0';
	fclose(f);
	cJSON *v = cJSON_Parse(buf);
	free(buf);
	return v;
}

static const char *sv(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* --- one session --------------------------------------------------------------- */

typedef struct plan_kill {
	kind k;
	long n; /* record number, or ms */
} plan_kill;

/* Records of a whole run of the plan (calibrate): kill points are drawn below it. */
static long records = 100;

static plan_kill draw_kill(uint64_t *rng, int session, int kills_left)
{
	plan_kill p = {K_NONE, 0};
	if (kills_left <= 0)
		return p;
	p.k = (kind)(1 + next(rng) % (K__COUNT - 1));
	if (p.k == K_WALL)
		p.n = (long)(next(rng) % 40);
	else if (p.k >= K_SIM_APPEND)
		p.n = 1 + (long)(next(rng) % SIM_SAVES);
	else
		p.n = 1 + (long)(next(rng) % (uint64_t)(session == 0 ? records : records * 2 / 3 + 1));
	return p;
}

/* Run drover with argv; kill it as p says. Returns the wait status. */
static int session(const opts *o, const char *const argv[], plan_kill p, const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		char spec[64] = "";
		if (p.k == K_AFTER || p.k == K_BEFORE || p.k == K_TORN)
			snprintf(spec, sizeof spec, "%ld%s", p.n, p.k == K_BEFORE ? ":before" : p.k == K_TORN ? ":torn" : "");
		setenv("DROVER_TEST_KILL_AT", spec, 1);
		snprintf(spec, sizeof spec, "%ld:%s", p.n, p.k >= K_SIM_APPEND ? sim_kill_names[p.k] : "");
		setenv("DROVER_TEST_SIM_KILL", p.k >= K_SIM_APPEND ? spec : "", 1);
		setenv("NO_COLOR", "1", 1);
		execv(o->drover, (char *const *)argv);
		_exit(127);
	}
	if (p.k == K_WALL) {
		struct timespec ts = {p.n / 1000, (p.n % 1000) * 1000000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* --- checks ------------------------------------------------------------------- */

/* A job of `drover sim show --format json` by its GUID (the last segment of its id). */
static const cJSON *job_of(const cJSON *jobs, const char *guid)
{
	for (const cJSON *j = jobs ? jobs->child : NULL; j; j = j->next) {
		const char *id = sv(j, "id"), *slash = id ? strrchr(id, '/') : NULL;
		if (guid && slash && !strcmp(slash + 1, guid))
			return j;
	}
	return NULL;
}

static bool job_failed(const cJSON *job)
{
	return job && sv(job, "state") && !strcmp(sv(job, "state"), "Failed");
}

static void check_items(const opts *o, const cJSON *st, char *why, size_t n)
{
	for (const cJSON *it = cJSON_GetObjectItemCaseSensitive(st, "items")->child; it; it = it->next)
		if (strcmp(sv(it, "state") ? sv(it, "state") : "", "protected") ||
		    strcmp(sv(it, "active_location") ? sv(it, "active_location") : "", o->active)) {
			snprintf(why, n, "VM %s ends %s, active %s (expected protected, %s)", sv(it, "name"), sv(it, "state"),
				 sv(it, "active_location"), o->active);
			return;
		}
}

/* Each (op, item) accepted once, or again only after a failed job, with a new key. */
static void check_audit(const cJSON *st, char *why, size_t n, long *starts)
{
	const cJSON *audit = cJSON_GetObjectItemCaseSensitive(st, "audit"), *jobs = cJSON_GetObjectItemCaseSensitive(st, "jobs");
	for (const cJSON *a = audit ? audit->child : NULL; a && !*why; a = a->next) {
		if (strcmp(sv(a, "result"), "accepted"))
			continue;
		(*starts)++;
		bool last = true;
		for (const cJSON *b = a->next; b; b = b->next)
			if (!strcmp(sv(b, "result"), "accepted") && !strcmp(sv(b, "op"), sv(a, "op")) &&
			    !strcmp(sv(b, "item"), sv(a, "item"))) {
				last = false;
				if (!strcmp(sv(b, "key"), sv(a, "key")))
					snprintf(why, n, "%s of %s accepted twice with key %s", sv(a, "op"), sv(a, "item"),
						 sv(a, "key"));
				break;
			}
		if (!last && !*why && !job_failed(job_of(jobs, sv(a, "job"))))
			snprintf(why, n, "%s of %s accepted again although its job %s did not fail (keys %s ...)", sv(a, "op"),
				 sv(a, "item"), sv(a, "job"), sv(a, "key"));
		if (last && !*why && job_failed(job_of(jobs, sv(a, "job"))))
			snprintf(why, n, "the last %s of %s failed", sv(a, "op"), sv(a, "item"));
	}
}

static void check_ops(const opts *o, const cJSON *st, char *why, size_t n)
{
	const char *const *ops = o->ops;
	const cJSON *audit = cJSON_GetObjectItemCaseSensitive(st, "audit");
	for (const cJSON *it = cJSON_GetObjectItemCaseSensitive(st, "items")->child; it && !*why; it = it->next)
		for (size_t k = 0; ops[k] && !*why; k++) {
			bool seen = false;
			for (const cJSON *a = audit ? audit->child : NULL; a && !seen; a = a->next)
				seen = !strcmp(sv(a, "result"), "accepted") && !strcmp(sv(a, "op"), ops[k]) &&
				       !strcmp(sv(a, "item"), sv(it, "name"));
			if (!seen)
				snprintf(why, n, "no %s of %s was ever accepted", ops[k], sv(it, "name"));
		}
}

static void check_journal(const opts *o, const char *path, char *why, size_t n)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL, *end = NULL;
	size_t cap = 0;
	if (!f) {
		snprintf(why, n, "no journal %s", path);
		return;
	}
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, "\"event\":\"run.end\"")) {
			free(end);
			end = strdup(line);
		}
	fclose(f);
	free(line);
	cJSON *e = end ? cJSON_Parse(end) : NULL;
	if (!e || strcmp(sv(e, "status") ? sv(e, "status") : "", o->status))
		snprintf(why, n, "the journal's last run.end is %s", e ? sv(e, "status") : "missing");
	cJSON_Delete(e);
	free(end);
}

/*
 * What the simulator says long after the run: `drover sim show --format json
 * --audit --now <far>` into dir/sim.json (a kill after the journal's last
 * sync may leave the state's own time behind the run's end: its jobs finish
 * when time goes on).
 */
static cJSON *sim_show(const opts *o, const char *dir)
{
	char state[1400], out[1400];
	snprintf(state, sizeof state, "%s/state/sim-state.json", dir);
	snprintf(out, sizeof out, "%s/sim.json", dir);
	remove(out);
	const char *argv[] = {"drover", "sim", "show", "--format", "json", "--audit", "--now", "2030-01-01T00:00:00Z",
			      "--state", state, o->plan, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 1);
		execv(o->drover, (char *const *)argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return read_json(out);
}

static void check_all(const opts *o, const char *dir, const char *run, char *why, size_t n, long *starts)
{
	char path[1400];
	snprintf(path, sizeof path, "%s/sim.json", dir);
	cJSON *st = sim_show(o, dir);
	if (!st) {
		snprintf(why, n, "cannot read %s", path);
		return;
	}
	check_items(o, st, why, n);
	if (!*why)
		check_ops(o, st, why, n);
	if (!*why)
		check_audit(st, why, n, starts);
	cJSON_Delete(st);
	snprintf(path, sizeof path, "%s/state/runs/%s/journal.jsonl", dir, run);
	if (!*why)
		check_journal(o, path, why, n);
}

/* --- one seed ------------------------------------------------------------------ */

static bool one_seed(const opts *o, long seed, tally *t)
{
	char dir[1024], state[1100], run[64], journal[1300], log[1200], why[4096] = "";
	snprintf(dir, sizeof dir, "%s/seed-%ld", o->work, seed);
	rm_rf(dir);
	mkdir(o->work, 0755);
	mkdir(dir, 0755);
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(run, sizeof run, "torture-%ld", seed);
	snprintf(journal, sizeof journal, "%s/runs/%s/journal.jsonl", state, run);
	snprintf(log, sizeof log, "%s/sessions.log", dir);
	uint64_t rng = (uint64_t)seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
	int kills_left = 1 + (int)(next(&rng) % 3), s, code = -1;
	long kills = 0;
	for (s = 0; s < MAX_SESSIONS; s++) {
		plan_kill p = draw_kill(&rng, s, kills_left);
		bool fresh = !exists(journal);
		const char *run_argv[] = {"drover", "run", "--yes", "--quiet", "--state-dir", state, "--run-id", run, o->plan, NULL};
		const char *resume_argv[] = {"drover", "resume", "--quiet", "--state-dir", state, run, NULL};
		FILE *lf = fopen(log, "a");
		if (lf) {
			fprintf(lf, "=== session %d: %s, kill %s %ld\n", s, fresh ? "run" : "resume", kind_names[p.k], p.n);
			fclose(lf);
		}
		int st = session(o, fresh ? run_argv : resume_argv, p, log);
		t->sessions++;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
			t->kills[p.k]++;
			kills++;
			kills_left--;
			continue;
		}
		kills_left = p.k != K_NONE ? kills_left - 1 : kills_left; /* the kill point was past the end */
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (code != o->exit_code && !(fresh && code == 2 && !exists(journal)))
			break;
		if (code == o->exit_code)
			break;
	}
	if (code != o->exit_code)
		snprintf(why, sizeof why, "session %d exited %d (see %s)", s, code, log);
	long starts = 0;
	if (!*why)
		check_all(o, dir, run, why, sizeof why, &starts);
	bool ok = !*why;
	if (!ok || o->verbose)
		printf("%s seed %ld: %d session%s, %ld kill%s, %ld operations started%s%s\n", ok ? "PASS" : "FAIL", seed,
		       s + 1, s ? "s" : "", kills, kills == 1 ? "" : "s", starts, ok ? "" : ": ", why);
	if (ok)
		rm_rf(dir);
	return ok;
}

/* A copy of the binary in the work directory: a rebuild during the test does not change what runs. */
static char *snapshot(char *bin, const char *work)
{
	static char copy[1100];
	mkdir(work, 0755);
	snprintf(copy, sizeof copy, "%s/drover", work);
	int in = open(bin, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	char buf[65536];
	ssize_t n;
	bool ok = in >= 0 && out >= 0;
	while (ok && (n = read(in, buf, sizeof buf)) > 0)
		ok = write(out, buf, (size_t)n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok ? copy : bin;
}

/* One run of the plan without a kill: how many records its journal has. */
static void calibrate(const opts *o)
{
	char dir[1100], state[1200], path[1400];
	snprintf(dir, sizeof dir, "%s/calibrate", o->work);
	rm_rf(dir);
	mkdir(dir, 0755);
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(path, sizeof path, "%s/runs/calibrate/journal.jsonl", state);
	const char *argv[] = {"drover", "run", "--yes", "--quiet", "--state-dir", state, "--run-id", "calibrate", o->plan, NULL};
	char log[1200];
	snprintf(log, sizeof log, "%s/sessions.log", dir);
	session(o, argv, (plan_kill){K_NONE, 0}, log);
	FILE *f = fopen(path, "r");
	long n = 0;
	for (int c; f && (c = fgetc(f)) != EOF;)
		n += c == '\n';
	if (f)
		fclose(f);
	records = n > 10 ? n : 100;
	rm_rf(dir);
}

static int usage(void)
{
	fputs("usage: torture --drover BIN --plan FILE --work DIR [--seeds N] [--first S] [--min-kills K] [--verbose]\n"
	      "               [--expect-active Recovery|Primary] [--op NAME]... [--expect-exit N] [--expect-status S]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	/* no default --work: a fixed folder would be shared by every worktree's run at once */
	opts o = {.seeds = 100, .first = 1, .active = "Recovery",
		  .ops = {"failover", "commit", "reprotect"}, .status = "succeeded"};
	size_t n_ops = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--verbose")) {
			o.verbose = true;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--drover"))
			o.drover = v;
		else if (!strcmp(a, "--plan"))
			o.plan = v;
		else if (!strcmp(a, "--work"))
			o.work = v;
		else if (!strcmp(a, "--seeds"))
			o.seeds = atol(v);
		else if (!strcmp(a, "--first"))
			o.first = atol(v);
		else if (!strcmp(a, "--min-kills"))
			o.min_kills = atol(v);
		else if (!strcmp(a, "--expect-active"))
			o.active = v;
		else if (!strcmp(a, "--expect-exit"))
			o.exit_code = atoi(v);
		else if (!strcmp(a, "--expect-status"))
			o.status = v;
		else if (!strcmp(a, "--op") && n_ops < 7) {
			o.ops[n_ops++] = v;
			o.ops[n_ops] = NULL;
		}
		else
			return usage();
	}
	if (!o.drover || !o.plan || !o.work || o.seeds < 1)
		return usage();
	char *plan = realpath(o.plan, NULL), *drover = realpath(o.drover, NULL);
	if (!plan || !drover) {
		fprintf(stderr, "torture: cannot find %s\n", !plan ? o.plan : o.drover);
		return 2;
	}
	o.plan = plan;
	o.drover = snapshot(drover, o.work);
	calibrate(&o);
	tally t = {0};
	for (long s = o.first; s < o.first + o.seeds; s++) {
		if (one_seed(&o, s, &t))
			t.passed++;
		else
			t.failed++;
	}
	long kills = 0;
	for (int k = 1; k < K__COUNT; k++)
		kills += t.kills[k];
	printf("torture: %ld seeds, %ld sessions, %ld kill points (%ld after a sync, %ld before a write, %ld in a torn "
	       "write, %ld wall-clock; in the simulator's saves: %ld appended unsynced, %ld torn, %ld in a snapshot, "
	       "%ld between snapshot and log); %ld passed, %ld failed\n",
	       o.seeds, t.sessions, kills, t.kills[K_AFTER], t.kills[K_BEFORE], t.kills[K_TORN], t.kills[K_WALL],
	       t.kills[K_SIM_APPEND], t.kills[K_SIM_TORN], t.kills[K_SIM_SNAPSHOT], t.kills[K_SIM_SWAP], t.passed, t.failed);
	if (kills < o.min_kills)
		printf("torture: only %ld kill points, fewer than the %ld required\n", kills, o.min_kills);
	free(plan);
	free(drover);
	remove(o.drover);
	return t.failed || kills < o.min_kills ? 1 : 0;
}
