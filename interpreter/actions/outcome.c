/*
 * actions/outcome.c - the dr_outcome constructors declared in action.h.
 */
#include "actions/action.h"

#include <stdarg.h>

#include "util/buf.h"

dr_outcome dr_outcome_ok(struct cJSON *outputs)
{
	return (dr_outcome){.status = DR_ACT_OK, .outputs = outputs, .retry_after_ms = -1};
}

dr_outcome dr_outcome_fail(dr_err_class cls, const char *fmt, ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return (dr_outcome){.status = DR_ACT_FAIL, .cls = cls, .message = dr_buf_detach(&b), .retry_after_ms = -1};
}

dr_outcome dr_outcome_wait(int64_t wait_ms)
{
	return (dr_outcome){.status = DR_ACT_WAIT, .wait_ms = wait_ms, .retry_after_ms = -1};
}

dr_outcome dr_outcome_wait_person(int64_t wait_ms)
{
	return (dr_outcome){.status = DR_ACT_WAIT, .wait_ms = wait_ms, .retry_after_ms = -1, .person = true};
}
