/*
 * workers.c - the threads around the scheduler: a small pool that runs
 * blocking actions, the mailbox they post completions to, and the signal
 * thread that turns SIGINT/SIGTERM into a mailbox message.
 *
 * Hand-off rule: the scheduler writes a task's call before dispatching it;
 * the worker runs the action, stores the outcome in the task and posts the
 * task to the mailbox; the scheduler reads it after draining the mailbox.
 * The job queue's and the mailbox's mutexes order those accesses, so no
 * task field is shared without a lock (TSan-clean by construction).
 *
 * Signals: they are blocked in every thread of the run (the pool inherits
 * the mask) and received with sigwait() by one thread, which may do
 * anything, including locking the mailbox. A second SIGINT/SIGTERM exits
 * at once with status 4 (cancelled). Once the run has ended, they are held
 * until its end is written, then taken by a handler (signals_late_prepare).
 */
#include "run/exec_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/journal.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* --- the mailbox ----------------------------------------------------- */

void mailbox_post(dr_exec *x, task *t)
{
	pthread_mutex_lock(&x->mu);
	t->next = NULL;
	if (x->mb_tail)
		x->mb_tail->next = t;
	else
		x->mb_head = t;
	x->mb_tail = t;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

/* --- the pool -------------------------------------------------------- */

static task *next_job(dr_exec *x)
{
	pthread_mutex_lock(&x->jmu);
	while (!x->jobs_head && !x->jobs_quit)
		pthread_cond_wait(&x->jcv, &x->jmu);
	task *t = x->jobs_head;
	if (t) {
		x->jobs_head = t->next;
		if (!x->jobs_head)
			x->jobs_tail = NULL;
	}
	pthread_mutex_unlock(&x->jmu);
	return t;
}

static void *worker_main(void *arg)
{
	dr_exec *x = arg;
	task *t;
	while ((t = next_job(x)) != NULL) {
		dr_backend_watch(t->call.cancel_requested); /* a backend's own wait ends at the deadline or a cancel */
		t->result = t->call.action->run(&t->call);
		dr_backend_watch(NULL);
		mailbox_post(x, t);
	}
	return NULL;
}

/* One more worker when every one is busy and the pool may grow. Returns 0 or an errno value. */
static int grow(dr_exec *x)
{
	if (x->n_workers >= x->max_workers || x->busy < (size_t)x->n_workers)
		return 0;
	if (!x->workers)
		x->workers = xcalloc((size_t)x->max_workers, sizeof *x->workers);
	int rc = pthread_create(&x->workers[x->n_workers], NULL, worker_main, x);
	if (rc == 0)
		x->n_workers++;
	return x->n_workers ? 0 : rc; /* with at least one worker the job just queues */
}

int workers_dispatch(dr_exec *x, task *t)
{
	int rc = grow(x);
	if (rc)
		return rc;
	x->busy++;
	pthread_mutex_lock(&x->jmu);
	t->next = NULL;
	if (x->jobs_tail)
		x->jobs_tail->next = t;
	else
		x->jobs_head = t;
	x->jobs_tail = t;
	pthread_cond_signal(&x->jcv);
	pthread_mutex_unlock(&x->jmu);
	return 0;
}

void workers_stop(dr_exec *x)
{
	pthread_mutex_lock(&x->jmu);
	x->jobs_quit = true;
	pthread_cond_broadcast(&x->jcv);
	pthread_mutex_unlock(&x->jmu);
	for (int i = 0; i < x->n_workers; i++)
		pthread_join(x->workers[i], NULL);
	free(x->workers);
	x->workers = NULL;
	x->n_workers = 0;
}

/* --- signals --------------------------------------------------------- */

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1); /* only ever sent by signals_stop, to end the thread */
}

/*
 * The second signal: exit at once (status 4), saying what that leaves: operations possibly in progress, and,
 * when the run keeps a journal, the command that goes on with it (a resume asks the service how each ended;
 * a drill's resume runs its cleanup); or, before a fresh run started, that nothing was run, and what its
 * journal, when it has one already (drover was checking the plan), asks of the next run.
 * On the signal thread, not in a handler: it may format. journaled and started as read under x->mu.
 */
static void exit_now(const dr_exec *x, bool journaled, bool started)
{
	dr_buf b, c, s;
	dr_buf_init(&b);
	dr_buf_init(&c);
	dr_buf_init(&s);
	bool fresh = !started && !x->o.resume;
	if (fresh && !journaled)
		dr_buf_puts(&b, "\ndrover: second signal: exiting now; the run had not started: nothing was run, and no "
				"journal or lock is left in the way of the next run.\n");
	else if (fresh)
		dr_buf_printf(&b, "\ndrover: second signal: exiting now; the run had not started (drover was checking the plan "
				  "against the service): nothing was run, no operation was asked of the service. Its journal "
				  "is left without an end, so the next run of this runbook is refused until you go on with it "
				  "(%s: it checks the plan again, then runs it) or start anew with --force.\n",
			      dr_journal_command(&c, "resume", x->state_dir, x->run_id));
	else
		dr_buf_puts(&b, "\ndrover: second signal: exiting now without waiting for running tasks. Operations they "
				"had started may still be in progress");
	if (journaled && !fresh)
		dr_buf_printf(&b, ", and the finally: steps did not finish. Go on with the run: %s (it asks the service how "
				  "each operation ended before anything else, then runs what is left and the finally: "
				  "steps); check the VMs before changing them by hand.\n",
			      dr_journal_command(&s, "resume", x->state_dir, x->run_id));
	else if (started)
		dr_buf_puts(&b, " and their VMs are in an unknown state: check them before running again.\n");
	ssize_t w = write(STDERR_FILENO, b.data, b.len);
	(void)w;
	_exit(4);
}

static void *signal_main(void *arg)
{
	dr_exec *x = arg;
	sigset_t set;
	signal_set(&set);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		pthread_mutex_lock(&x->mu);
		bool quit = x->sig_quit, started = x->started;
		bool journaled = x->journaled || x->o.resume; /* a resume's journal may not be open yet: the run is there */
		int count = sig == SIGUSR1 ? x->sig_count : ++x->sig_count;
		if (sig != SIGUSR1) {
			x->sig_new++;
			x->sig_last = sig;
			pthread_cond_signal(&x->cv);
		}
		pthread_mutex_unlock(&x->mu);
		if (quit)
			return NULL;
		if (sig != SIGUSR1 && count >= 2)
			exit_now(x, journaled, started);
	}
}

/*
 * The signals that came before the signal thread (dr_exec_signals_early), and after it (signals_late): counted by
 * a handler, which may only write and _exit, so its messages are made beforehand. The first writes early_note
 * (when there is one), a second early_msg, then exits with early_exit.
 */
static volatile sig_atomic_t early_count, early_last;
static char early_msg[2048], early_note[512];
static size_t early_len, note_len;
static int early_exit = 4;
static struct sigaction early_old[2];
static sigset_t early_mask; /* the mask the run replaced, restored by signals_late_arm */
static bool early_on;

static void early_handler(int sig)
{
	early_last = sig;
	ssize_t w;
	if (++early_count < 2) {
		w = note_len ? write(STDERR_FILENO, early_note, note_len) : 0;
		(void)w;
		return;
	}
	w = write(STDERR_FILENO, early_msg, early_len);
	(void)w;
	_exit(early_exit);
}

static size_t keep(char *dst, size_t cap, const dr_buf *b)
{
	size_t n = b->len < cap ? b->len : cap;
	memcpy(dst, b->data, n);
	return n;
}

void dr_exec_signals_early(const char *state_dir, const char *run_id)
{
	dr_buf b, c;
	dr_buf_init(&b);
	dr_buf_init(&c);
	if (run_id)
		dr_buf_printf(&b, "\ndrover: second signal: exiting now; this session had not gone on with the run yet (it "
				  "started nothing). Go on with the run: %s (it asks the service how each operation ended before "
				  "anything else, then runs what is left and the finally: steps); check the VMs before changing "
				  "them by hand.\n",
			      dr_journal_command(&c, "resume", state_dir, run_id));
	else
		dr_buf_puts(&b, "\ndrover: second signal: exiting now; the run had not started (drover was reading the "
				"runbook): nothing was run.\n");
	early_len = keep(early_msg, sizeof early_msg, &b);
	dr_buf_dispose(&b);
	dr_buf_dispose(&c);
	struct sigaction sa = {.sa_handler = early_handler, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, &early_old[0]);
	sigaction(SIGTERM, &sa, &early_old[1]);
	early_on = true;
}

/* The thread takes the early signals over (they are blocked now, and taken by sigwait): counted as its own. */
static void take_early(dr_exec *x)
{
	if (!early_on)
		return;
	x->sig_count = x->sig_new = early_count;
	x->sig_last = early_last;
}

/*
 * After the run (signals_stop): the signals stay blocked while drover writes the run's end (its journal, the
 * simulator's state, the summary), so a late Ctrl-C cannot cut it short; signals_late_arm then lets them in to
 * the handler, with messages that say the run has ended. Only in a command that set the handler up (the CLI):
 * elsewhere (tests, the estimate) the thread's mask simply comes back.
 */
static void hold_late(dr_exec *x)
{
	if (!early_on) {
		pthread_sigmask(SIG_SETMASK, &x->sig_old, NULL);
		return;
	}
	early_mask = x->sig_old;
	x->sig_held = true;
}

bool signals_late_prepare(dr_exec *x, dr_run_status st)
{
	if (!x->sig_held)
		return false;
	dr_buf b, c;
	dr_buf_init(&b);
	dr_buf_init(&c);
	if (!x->started) /* refused: cancelled before it started, blocked, busy, ... */
		dr_buf_printf(&b, "\ndrover: second signal: exiting now; the run had not started: nothing was run (%s)",
			      dr_run_status_name(st));
	else
		dr_buf_printf(&b, "\ndrover: second signal: exiting now; the run had already ended (%s)", dr_run_status_name(st));
	if (x->journaled)
		dr_buf_printf(&b, ", and its journal says so (%s makes its reports from it)",
			      dr_journal_command(&c, "report", x->state_dir, x->run_id));
	dr_buf_puts(&b, ". Files drover was still writing (--report, --metrics, --events) may be incomplete.\n");
	early_len = keep(early_msg, sizeof early_msg, &b);
	dr_buf_reset(&b);
	dr_buf_printf(&b, "\ndrover: signal: the run has already ended (%s); drover is writing its reports and exits in a "
			  "moment (a second signal exits now).\n",
		      dr_run_status_name(st));
	note_len = x->sig_count ? 0 : keep(early_note, sizeof early_note, &b);
	early_count = x->sig_count;
	early_exit = dr_exec_exit_code(st);
	dr_buf_dispose(&b);
	dr_buf_dispose(&c);
	return true;
}

void signals_late_arm(void)
{
	pthread_sigmask(SIG_SETMASK, &early_mask, NULL); /* a signal held meanwhile comes now, to the handler */
}

int signals_start(dr_exec *x)
{
	sigset_t set;
	signal_set(&set);
	int rc = pthread_sigmask(SIG_BLOCK, &set, &x->sig_old);
	if (rc)
		return rc;
	take_early(x);
	rc = pthread_create(&x->sig_thread, NULL, signal_main, x);
	if (rc) {
		pthread_sigmask(SIG_SETMASK, &x->sig_old, NULL);
		return rc;
	}
	x->sig_thread_on = true;
	return 0;
}

int signals_pending(dr_exec *x)
{
	pthread_mutex_lock(&x->mu);
	int sig = x->sig_new ? x->sig_last : 0;
	pthread_mutex_unlock(&x->mu);
	return sig;
}

void signals_hook(dr_exec *x)
{
	if (x->hook_fired || !x->sig_thread_on)
		return;
	x->hook_fired = true;
	pthread_mutex_lock(&x->mu);
	int before = x->sig_count;
	kill(getpid(), x->o.signal_at_sig ? x->o.signal_at_sig : SIGINT);
	while (x->sig_count == before)
		pthread_cond_wait(&x->cv, &x->mu);
	pthread_mutex_unlock(&x->mu);
}

void signals_stop(dr_exec *x)
{
	if (!x->sig_thread_on)
		return;
	pthread_mutex_lock(&x->mu);
	x->sig_quit = true;
	pthread_mutex_unlock(&x->mu);
	pthread_kill(x->sig_thread, SIGUSR1);
	pthread_join(x->sig_thread, NULL);
	x->sig_thread_on = false;
	hold_late(x);
}
