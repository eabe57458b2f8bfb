/*
 * rss_time.c - run a command, then print its wall time and peak RSS: a
 * stand-in for `/usr/bin/time -f '%e %M'`, which is not always installed.
 *
 * Usage: rss_time [-q] COMMAND [ARG...]
 *   The command runs with fork/execvp (no shell). -q sends its stdout and
 *   stderr to /dev/null. When it ends, one line goes to stderr:
 *     rss_time: wall_ms=12.345 user_ms=10.1 sys_ms=2.0 maxrss_kb=6789 exit=0
 *   Wall time is CLOCK_MONOTONIC from fork to wait4; user and system CPU
 *   time and peak RSS (ru_maxrss, kilobytes on Linux) are the child's, from
 *   wait4. System time is mostly page faults: it grows with memory touched. The exit status is the command's, or
 *   128+signal when it was killed; 127 when it could not be started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* In the child: optionally silence it, then become the command. */
static void run_child(char **argv, int quiet)
{
	if (quiet) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "rss_time: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	int quiet = argc > 1 && !strcmp(argv[1], "-q"), status, code;
	char **cmd = argv + 1 + quiet;
	struct rusage ru;
	double t0;
	pid_t pid;
	if (!*cmd) {
		fputs("usage: rss_time [-q] COMMAND [ARG...]\n", stderr);
		return 2;
	}
	fflush(NULL);
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("rss_time: fork");
		return 127;
	}
	if (pid == 0)
		run_child(cmd, quiet);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("rss_time: wait4");
			return 127;
		}
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "rss_time: wall_ms=%.3f user_ms=%.1f sys_ms=%.1f maxrss_kb=%ld exit=%d\n", now_ms() - t0,
		tv_ms(ru.ru_utime), tv_ms(ru.ru_stime), ru.ru_maxrss, code);
	return code;
}
