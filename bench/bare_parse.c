/*
 * bare_parse.c - the lower bound for `drover validate`: pull every libyaml
 * event of a file and throw it away. No node tree, no positions kept, no
 * checks. bench/run.sh times this against the real front end on the same
 * file; the target is validate <= 2x this.
 *
 * Usage: bare_parse FILE. Prints the event count on stdout; exit 0, or 1 with
 * libyaml's error and position on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

/* Pull events until the end of the stream; returns the count, or -1. */
static long drain(yaml_parser_t *p, const char *path)
{
	yaml_event_t ev;
	long n = 0;
	for (;;) {
		if (!yaml_parser_parse(p, &ev)) {
			fprintf(stderr, "%s:%lu:%lu: %s\n", path, (unsigned long)p->problem_mark.line + 1,
				(unsigned long)p->problem_mark.column + 1, p->problem ? p->problem : "error");
			return -1;
		}
		int end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		n++;
		if (end)
			return n;
	}
}

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	FILE *f;
	long n;
	if (argc != 2) {
		fputs("usage: bare_parse FILE\n", stderr);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "bare_parse: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (!yaml_parser_initialize(&parser)) {
		fputs("bare_parse: out of memory\n", stderr);
		fclose(f);
		return 1;
	}
	yaml_parser_set_input_file(&parser, f);
	n = drain(&parser, argv[1]);
	yaml_parser_delete(&parser);
	fclose(f);
	if (n < 0)
		return 1;
	printf("%ld events\n", n);
	return 0;
}
