/*
 * metrics.c - the Prometheus text exposition format, written atomically
 * (metrics.h). Only the format lives here; what is measured is in the
 * producers (readiness.c, run_metrics.c).
 */
#include "views/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "util/fs.h"

void dr_metrics_init(dr_metrics *m) { dr_buf_init(&m->text); }

void dr_metrics_dispose(dr_metrics *m) { dr_buf_dispose(&m->text); }

/* HELP text escapes backslash and newline; a label value (quote) also the double quote. */
static void escape(dr_buf *b, const char *s, bool quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			dr_buf_puts(b, "\\\\");
		else if (*s == '\n')
			dr_buf_puts(b, "\\n");
		else if (quote && *s == '"')
			dr_buf_puts(b, "\\\"");
		else
			dr_buf_putc(b, *s);
	}
}

void dr_metrics_family(dr_metrics *m, const char *name, const char *type, const char *help)
{
	dr_buf_printf(&m->text, "# HELP %s ", name);
	escape(&m->text, help, false);
	dr_buf_printf(&m->text, "\n# TYPE %s %s\n", name, type);
}

static void put_value(dr_buf *b, double v)
{
	if (isnan(v))
		dr_buf_puts(b, "NaN");
	else if (isinf(v))
		dr_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		dr_buf_printf(b, "%.0f", v);
	else
		dr_buf_printf(b, "%.15g", v);
}

void dr_metrics_sample(dr_metrics *m, const char *name, const char *const *labels, double value)
{
	dr_buf_puts(&m->text, name);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		dr_buf_printf(&m->text, "%s%s=\"", i ? "," : "{", labels[i]);
		escape(&m->text, labels[i + 1], true);
		dr_buf_putc(&m->text, '"');
	}
	if (labels && labels[0])
		dr_buf_putc(&m->text, '}');
	dr_buf_putc(&m->text, ' ');
	put_value(&m->text, value);
	dr_buf_putc(&m->text, '\n');
}

int dr_metrics_write(const dr_metrics *m, const char *path, dr_buf *err)
{
	return dr_fs_write_atomic(path, m->text.data, m->text.len, DR_FS_READABLE | DR_FS_NAMED, err);
}
