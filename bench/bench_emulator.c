/*
 * bench_emulator.c - the emulator under a failover of a whole estate, at
 * two sizes: C client threads (drover's HTTP client, keep-alive) page
 * through the items, post one unplannedFailover per VM, and poll each job
 * through its Location as Retry-After says. It prints, per size: the
 * listing's time, the failover posts' time and rate, the mean and worst
 * post latency (a post is answered only once its job is in the state file),
 * state-file writes per accepted post (group commit), the state file's
 * size, polls per job; then the growth exponents between the sizes
 * (log(t2/t1) / log(n2/n1): 1 is linear).
 *
 *   bench_emulator --vms 250 --vms 1000 --clients 16 --dir bench/out/emulator
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/http.h"
#include "emulator/emulator.h"
#include "front/diag.h"

#define V "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim/providers/" \
	  "Microsoft.RecoveryServices/vaults/drover-sim-vault"
#define MAX_SIZES 4

typedef struct shared {
	char url[160], auth[320];
	char **ids; /* item ids */
	char **locations; /* each failover's Location */
	size_t n;
	size_t next; /* the next item to take (mutex) */
	pthread_mutex_t mu;
	double post_ms_sum, post_ms_max;
	long polls, errors;
} shared;

typedef struct result {
	size_t vms;
	double list_ms, post_ms, poll_ms, post_mean, post_max, polls_per_job;
	dr_emu_stats st;
	long state_bytes, errors;
} result;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long request(shared *s, dr_http_client *cl, const char *method, const char *url, const char *body,
		    cJSON **json, char *location, size_t locsz, int64_t *retry_ms)
{
	const char *headers[] = {s->auth, NULL};
	dr_http_request rq = {.method = method, .url = url, .headers = headers, .content_type = "application/json",
			      .body = body, .body_len = body ? strlen(body) : 0, .timeout_ms = 60000,
			      .max_body = 1 << 24, .client = cl};
	dr_http_response rs;
	long status = dr_http_send(&rs, &rq) == DR_HTTP_OK ? rs.status : 0;
	if (json)
		*json = cJSON_Parse(rs.body);
	for (size_t i = 0; i < rs.n_headers; i++) {
		if (location && strncasecmp(rs.headers[i], "Location: ", 10) == 0)
			snprintf(location, locsz, "%s", rs.headers[i] + 10);
		if (retry_ms && strncasecmp(rs.headers[i], "retry-after-ms: ", 16) == 0)
			*retry_ms = atoll(rs.headers[i] + 16);
	}
	dr_http_response_dispose(&rs);
	return status;
}

static void get_token(shared *s)
{
	char url[300];
	snprintf(url, sizeof url, "%s/bench/oauth2/v2.0/token", s->url);
	dr_http_request rq = {.method = "POST", .url = url, .content_type = "application/x-www-form-urlencoded",
			      .body = "grant_type=client_credentials&client_id=drover-emulator-client&client_secret="
				      "drover-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
			      .timeout_ms = 10000, .max_body = 65536};
	rq.body_len = strlen(rq.body);
	dr_http_response rs;
	dr_http_send(&rs, &rq);
	cJSON *o = cJSON_Parse(rs.body);
	snprintf(s->auth, sizeof s->auth, "Authorization: Bearer %s",
		 cJSON_GetObjectItemCaseSensitive(o, "access_token")->valuestring);
	cJSON_Delete(o);
	dr_http_response_dispose(&rs);
}

static void list_items(shared *s)
{
	char url[2048];
	dr_http_client *cl = dr_http_client_new();
	snprintf(url, sizeof url, "%s" V "/replicationProtectedItems?api-version=2025-08-01", s->url);
	while (url[0]) {
		cJSON *page = NULL, *e;
		request(s, cl, "GET", url, NULL, &page, NULL, 0, NULL);
		url[0] = '\0';
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(page, "value"))
			s->ids[s->n++] = strdup(cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring);
		const cJSON *nl = cJSON_GetObjectItemCaseSensitive(page, "nextLink");
		if (cJSON_IsString(nl))
			snprintf(url, sizeof url, "%s", nl->valuestring);
		cJSON_Delete(page);
	}
	dr_http_client_free(cl);
}

static long take(shared *s)
{
	pthread_mutex_lock(&s->mu);
	long i = s->next < s->n ? (long)s->next++ : -1;
	pthread_mutex_unlock(&s->mu);
	return i;
}

static void *poster(void *p)
{
	shared *s = p;
	dr_http_client *cl = dr_http_client_new();
	char url[2048], loc[2048];
	for (long i; (i = take(s)) >= 0;) {
		snprintf(url, sizeof url, "%s%s/unplannedFailover?api-version=2025-08-01", s->url, s->ids[i]);
		double t0 = now_ms();
		long st = request(s, cl, "POST", url,
				  "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\",\"providerSpecificDetails\":"
				  "{\"instanceType\":\"A2A\"}}}",
				  NULL, loc, sizeof loc, NULL);
		double dt = now_ms() - t0;
		loc[strcspn(loc, "\r\n")] = '\0';
		pthread_mutex_lock(&s->mu);
		s->post_ms_sum += dt;
		s->post_ms_max = dt > s->post_ms_max ? dt : s->post_ms_max;
		s->errors += st != 202;
		s->locations[i] = st == 202 ? strdup(loc) : NULL;
		pthread_mutex_unlock(&s->mu);
	}
	dr_http_client_free(cl);
	return NULL;
}

static void *poller(void *p)
{
	shared *s = p;
	dr_http_client *cl = dr_http_client_new();
	for (long i; (i = take(s)) >= 0;) {
		long st = 202, polls = 0;
		while (st == 202 && s->locations[i] && polls < 10000) {
			int64_t retry = 10;
			st = request(s, cl, "GET", s->locations[i], NULL, NULL, NULL, 0, &retry);
			polls++;
			if (st == 202)
				usleep((useconds_t)(retry > 0 ? retry : 1) * 1000);
		}
		pthread_mutex_lock(&s->mu);
		s->polls += polls;
		s->errors += st != 200;
		pthread_mutex_unlock(&s->mu);
	}
	dr_http_client_free(cl);
	return NULL;
}

static double run_threads(shared *s, int clients, void *(*fn)(void *))
{
	pthread_t th[64];
	s->next = 0;
	double t0 = now_ms();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, fn, s);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	return now_ms() - t0;
}

static int bench_size(size_t vms, int clients, double speed, const char *dir, result *r)
{
	char inv[512], state[512], err[512];
	snprintf(inv, sizeof inv, "%s/inventory-%zu.yaml", dir, vms);
	snprintf(state, sizeof state, "%s/state-%zu.json", dir, vms);
	unlink(state);
	FILE *f = fopen(inv, "w");
	if (!f)
		return -1;
	fputs("vms:\n", f);
	for (size_t i = 0; i < vms; i++)
		fprintf(f, "  - {name: vm-%05zu, tags: {tier: t%zu}}\n", i, i % 7);
	fclose(f);
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.listen = "127.0.0.1:0", .inventory = inv, .state_path = state, .speed = speed,
			 .no_limits = true};
	dr_emu *e = dr_emu_new(&o, d, err, sizeof err);
	shared s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	if (!e || dr_emu_start(e, s.url, sizeof s.url, err, sizeof err) < 0) {
		fprintf(stderr, "bench_emulator: %s\n", err);
		return -1;
	}
	s.ids = calloc(vms + 1, sizeof *s.ids);
	s.locations = calloc(vms + 1, sizeof *s.locations);
	get_token(&s);
	double t0 = now_ms();
	list_items(&s);
	r->vms = vms;
	r->list_ms = now_ms() - t0;
	r->post_ms = run_threads(&s, clients, poster);
	r->poll_ms = run_threads(&s, clients, poller);
	dr_emu_get_stats(e, &r->st);
	r->post_mean = s.post_ms_sum / (double)(s.n ? s.n : 1);
	r->post_max = s.post_ms_max;
	r->polls_per_job = (double)s.polls / (double)(s.n ? s.n : 1);
	r->errors = s.errors + (long)(vms - s.n);
	struct stat st;
	r->state_bytes = stat(state, &st) == 0 ? (long)st.st_size : -1;
	dr_emu_free(e);
	dr_diags_free(d);
	for (size_t i = 0; i < s.n; i++)
		free(s.ids[i]), free(s.locations[i]);
	free(s.ids);
	free(s.locations);
	return 0;
}

static double exponent(double y1, double y2, double n1, double n2)
{
	return y1 > 0 && y2 > 0 ? log(y2 / y1) / log(n2 / n1) : NAN;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES], n_sizes = 0;
	int clients = 16;
	double speed = 20000;
	const char *dir = "bench/out/emulator";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--vms") == 0 && n_sizes < MAX_SIZES)
			sizes[n_sizes++] = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--clients") == 0)
			clients = atoi(argv[i + 1]) > 0 && atoi(argv[i + 1]) <= 64 ? atoi(argv[i + 1]) : 16;
		else if (strcmp(argv[i], "--speed") == 0)
			speed = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (n_sizes == 0)
		sizes[n_sizes++] = 250, sizes[n_sizes++] = 1000;
	mkdir(dir, 0755);
	result r[MAX_SIZES];
	printf("drover emulator bench: %d clients (keep-alive), jobs at --speed %.0f, state file on disk, no bucket\n",
	       clients, speed);
	printf("  %6s %9s %10s %9s %11s %11s %12s %10s %9s %6s\n", "VMs", "list ms", "posts ms", "posts/s",
	       "post mean", "post max", "syncs/post", "state KB", "polls/job", "errors");
	for (size_t i = 0; i < n_sizes; i++) {
		if (bench_size(sizes[i], clients, speed, dir, &r[i]) < 0)
			return 1;
		printf("  %6zu %9.1f %10.1f %9.0f %8.2f ms %8.2f ms %12.3f %10.0f %9.2f %6ld  (%llu snapshots)\n", r[i].vms, r[i].list_ms,
		       r[i].post_ms, (double)r[i].vms / (r[i].post_ms / 1000), r[i].post_mean, r[i].post_max,
		       (double)r[i].st.syncs / (double)(r[i].st.accepted ? r[i].st.accepted : 1),
		       (double)r[i].state_bytes / 1024, r[i].polls_per_job, r[i].errors, (unsigned long long)r[i].st.saves);
	}
	if (n_sizes >= 2) {
		const result *a = &r[0], *b = &r[n_sizes - 1];
		double na = (double)a->vms, nb = (double)b->vms;
		printf("growth exponents %zu -> %zu VMs (1 = linear): list %.2f, all posts %.2f, post mean %.2f, state "
		       "file %.2f\n",
		       a->vms, b->vms, exponent(a->list_ms, b->list_ms, na, nb), exponent(a->post_ms, b->post_ms, na, nb),
		       exponent(a->post_mean, b->post_mean, na, nb),
		       exponent((double)a->state_bytes, (double)b->state_bytes, na, nb));
	}
	return 0;
}
