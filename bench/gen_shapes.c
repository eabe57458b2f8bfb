/*
 * gen_shapes.c - writes runbooks of one shape and size each, for the
 * front-end growth benchmarks (bench/bench_front.sh): the inputs that used to
 * grow faster than linearly (issue 11, issue 10).
 *
 *   gen_shapes chain N        N log steps, each needing the one before (valid)
 *   gen_shapes cycle N        the chain closed into one cycle of N steps (DR403)
 *   gen_shapes misspelt N     N steps, each needing a misspelt id (DR401 + a suggestion)
 *   gen_shapes diags N        N steps, each with a malformed timeout (N DR206 errors)
 *   gen_shapes expr N M       M steps, each with a when: of N string comparisons (valid)
 *   gen_shapes wide N         N independent log steps (valid; the size-limit runbook)
 *   gen_shapes reads N        N pairs of steps, the second reading the first's outputs without
 *                             needing it (N DR408 errors, each checked against those before)
 *   gen_shapes late N         N steps reading the outputs of a misspelt step (N DR302 errors with
 *                             a suggestion, collected by resolve and merged once each)
 *   gen_shapes lanes N        N VM sets, each failed over, probed, committed and reprotected
 *                             in its own lane, every tenth one's commit then changing its point
 *                             and every tenth reprotect without its commit (4N steps x N sets:
 *                             DR404 with a hint, DR411)
 *   gen_shapes nested D K DIR DIR/runbook.yaml and DIR/stdlib/: composites nested D
 *                             deep (each level uses the one below twice), K log steps
 *                             at the leaf: 2^D * K steps after expansion (valid)
 *   gen_shapes flat D K DIR   the same 2^D * K steps as 2^D uses of the leaf composite
 *
 * Output depends on the arguments only. C11 and libc, nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void header(FILE *f, const char *name)
{
	fprintf(f, "drover: 1\nname: %s\nsteps:\n", name);
}

static void chain(long n, int cycle)
{
	header(stdout, cycle ? "cycle" : "chain");
	for (long i = 0; i < n; i++) {
		printf("  - { id: s%ld, action: log, with: { message: m }", i);
		if (cycle) /* needs the next step: the worst order for a pass in declaration order */
			printf(", needs: s%ld", (i + 1) % n);
		else if (i > 0)
			printf(", needs: s%ld", i - 1);
		printf(" }\n");
	}
}

/* Step i needs step i-1 with two letters of its id swapped: "step-12" -> "setp-12". */
static void misspelt(long n)
{
	header(stdout, "misspelt");
	for (long i = 0; i < n; i++) {
		printf("  - { id: step-%ld, action: log, with: { message: m }", i);
		if (i > 0)
			printf(", needs: setp-%ld", i - 1);
		printf(" }\n");
	}
}

static void diags(long n)
{
	header(stdout, "diags");
	for (long i = 0; i < n; i++)
		printf("  - { id: s%ld, action: log, timeout: 5x, with: { message: m } }\n", i);
}

static void reads(long n)
{
	header(stdout, "reads");
	for (long i = 0; i < n; i++)
		printf("  - { id: a%ld, action: log, with: { message: m } }\n"
		       "  - { id: b%ld, action: log, with: { message: \"${steps.a%ld.outputs.message}\" } }\n", i, i, i);
}

static void late(long n)
{
	header(stdout, "late");
	for (long i = 0; i < n; i++)
		printf("  - { id: s%ld, action: log, with: { message: \"${steps.s%ldx.outputs.x}\" } }\n", i, i);
}

static void lanes(long n)
{
	printf("drover: 1\nname: lanes\nvm_sets:\n");
	for (long i = 0; i < n; i++)
		printf("  v%ld: { match: { name: \"^v%ld-\" } }\n", i, i);
	printf("steps:\n");
	for (long i = 0; i < n; i++) {
		printf("  - { id: fo%ld, action: dr.failover, targets: v%ld }\n", i, i);
		printf("  - { id: up%ld, action: dr.probe, foreach: v%ld, needs: fo%ld }\n", i, i, i);
		printf("  - { id: cm%ld, action: dr.commit, targets: v%ld, needs: up%ld }\n", i, i, i);
		if (i % 10 == 5)
			printf("  - { id: pt%ld, action: dr.change_recovery_point, targets: v%ld, needs: cm%ld, "
			       "with: { recovery_point: latest } }\n", i, i, i);
		printf("  - { id: rp%ld, action: dr.reprotect, targets: v%ld, needs: %s%ld }\n", i, i,
		       i % 10 == 7 ? "up" : "cm", i);
	}
}

static void expr(long terms, long steps)
{
	header(stdout, "expr");
	for (long s = 0; s < steps; s++) {
		printf("  - id: s%ld\n    action: log\n    with: { message: m }\n    when: \"${", s);
		for (long t = 0; t < terms; t++)
			printf("%s'v%ld' == 'w%ld'", t ? " || " : "", t, t);
		printf("}\"\n");
	}
}

/* Written tight, as a generator would: 160,000 of them fit the 8 MiB limit. */
static void wide(long n)
{
	header(stdout, "wide");
	for (long i = 0; i < n; i++)
		printf("- {id: s%ld, action: log, with: {message: m}}\n", i);
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

/* stdlib/c0.yaml: K log steps in a chain; c<d>.yaml: two uses of c<d-1>, b needing a. */
static void composites(long depth, long k, const char *dir)
{
	char sub[4096], name[64];
	snprintf(sub, sizeof sub, "%s/stdlib", dir);
	for (long d = 0; d <= depth; d++) {
		snprintf(name, sizeof name, "c%ld.yaml", d);
		FILE *f = open_in(sub, name);
		fprintf(f, "drover: 1\ncomposite: c%ld\ndescription: level %ld\nsteps:\n", d, d);
		if (d == 0)
			for (long i = 0; i < k; i++) {
				fprintf(f, "  - { id: l%ld, action: log, with: { message: m }", i);
				if (i)
					fprintf(f, ", needs: l%ld", i - 1);
				fprintf(f, " }\n");
			}
		else
			fprintf(f, "  - { id: a, use: c%ld }\n  - { id: b, use: c%ld, needs: a }\n", d - 1, d - 1);
		if (d == 0 && k == 0)
			fprintf(f, "  - { id: l0, action: log, with: { message: m } }\n");
		fclose(f);
	}
}

static void nested(long depth, long k, const char *dir, int flat)
{
	composites(depth, k, dir);
	FILE *f = open_in(dir, "runbook.yaml");
	header(f, flat ? "flat" : "nested");
	if (!flat)
		fprintf(f, "  - { id: top, use: c%ld }\n", depth);
	for (long u = 0; flat && u < (1L << depth); u++) {
		fprintf(f, "  - { id: u%ld, use: c0", u);
		if (u)
			fprintf(f, ", needs: u%ld", u - 1);
		fprintf(f, " }\n");
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *shape = argc > 1 ? argv[1] : "";
	long a = argc > 2 ? atol(argv[2]) : 0, b = argc > 3 ? atol(argv[3]) : 1;
	if (!strcmp(shape, "chain") || !strcmp(shape, "cycle"))
		chain(a, shape[1] == 'y');
	else if (!strcmp(shape, "misspelt"))
		misspelt(a);
	else if (!strcmp(shape, "diags"))
		diags(a);
	else if (!strcmp(shape, "expr"))
		expr(a, b);
	else if (!strcmp(shape, "wide"))
		wide(a);
	else if (!strcmp(shape, "reads"))
		reads(a);
	else if (!strcmp(shape, "late"))
		late(a);
	else if (!strcmp(shape, "lanes"))
		lanes(a);
	else if ((!strcmp(shape, "nested") || !strcmp(shape, "flat")) && argc > 4)
		nested(a, b, argv[4], shape[0] == 'f');
	else {
		fprintf(stderr, "usage: gen_shapes chain|cycle|misspelt|diags|wide|reads|late|lanes N | expr TERMS STEPS | "
				"nested|flat DEPTH K DIR\n");
		return 2;
	}
	return 0;
}
