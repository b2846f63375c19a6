/*
 * report.c - collect the probe's findings and print them, as text for
 * people or as JSON for scripts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "home/report.h"
#include "lib/i18n.h"
#include "lib/strbuf.h"
#include "lib/util.h"

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
vformat(const char *fmt, va_list ap)
{
	va_list copy;
	int n;
	char *s;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		panic("vsnprintf failed");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void
report_init(struct report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void
report_free(struct report *rep)
{
	int i;

	for (i = 0; i < rep->nsections; i++)
		free(rep->sections[i].title);
	for (i = 0; i < rep->nitems; i++) {
		free(rep->items[i].message);
		free(rep->items[i].advice);
		free(rep->items[i].reply);
	}
	for (i = 0; i < rep->nsummary; i++)
		free(rep->summary[i]);
	free(rep->next);
	memset(rep, 0, sizeof(*rep));
}

void
report_section(struct report *rep, const char *id, const char *fmt, ...)
{
	struct report_section *s;
	va_list ap;

	if (rep->nsections == REPORT_SECTIONS_MAX)
		panic("report: too many sections");
	s = &rep->sections[rep->nsections++];
	util_strlcpy(s->id, id, sizeof(s->id));
	va_start(ap, fmt);
	s->title = vformat(fmt, ap);
	va_end(ap);
}

struct report_item *
report_add(struct report *rep, const char *check, enum report_status st, const char *fmt, ...)
{
	struct report_item *it;
	va_list ap;

	if (rep->nitems == REPORT_ITEMS_MAX || rep->nsections == 0)
		panic("report: item outside a section or too many items");
	it = &rep->items[rep->nitems++];
	it->section = rep->nsections - 1;
	util_strlcpy(it->check, check, sizeof(it->check));
	it->status = st;
	va_start(ap, fmt);
	it->message = vformat(fmt, ap);
	va_end(ap);
	return it;
}

void
report_advice(struct report_item *it, const char *fmt, ...)
{
	va_list ap;

	free(it->advice);
	va_start(ap, fmt);
	it->advice = vformat(fmt, ap);
	va_end(ap);
}

void
report_reply(struct report_item *it, const char *reply)
{
	free(it->reply);
	it->reply = xstrdup(reply);
}

void
report_summary(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->nsummary == REPORT_SUMMARY_MAX)
		panic("report: summary too long");
	va_start(ap, fmt);
	rep->summary[rep->nsummary++] = vformat(fmt, ap);
	va_end(ap);
}

enum report_status
report_worst(const struct report *rep, const char *id)
{
	enum report_status worst = REPORT_SKIP;
	int i;

	for (i = 0; i < rep->nitems; i++) {
		enum report_status s = rep->items[i].status;

		if (strcmp(rep->sections[rep->items[i].section].id, id) != 0)
			continue;
		if (s == REPORT_FAIL || (s == REPORT_WARN && worst != REPORT_FAIL) ||
		    (s == REPORT_PASS && worst == REPORT_SKIP))
			worst = s;
	}
	return worst;
}

static const char *
status_label(enum report_status st)
{
	switch (st) {
	case REPORT_PASS:
		/* TRANSLATORS: status labels of probe lines; keep them short. */
		return _("[ ok ]");
	case REPORT_WARN:
		return _("[warn]");
	case REPORT_FAIL:
		return _("[FAIL]");
	case REPORT_SKIP:
		return _("[skip]");
	case REPORT_INFO:
		break;
	}
	return _("[info]");
}

static const char *
status_id(enum report_status st)
{
	static const char *const ids[] = { "pass", "warn", "fail", "skip", "info" };

	return ids[st];
}

void
report_print(const struct report *rep, FILE *out)
{
	int s, i;

	for (s = 0; s < rep->nsections; s++) {
		fprintf(out, "%s== %s\n", s ? "\n" : "", rep->sections[s].title);
		for (i = 0; i < rep->nitems; i++) {
			const struct report_item *it = &rep->items[i];

			if (it->section != s)
				continue;
			fprintf(out, "  %s %s\n", status_label(it->status), it->message);
			if (it->reply != NULL)
				fprintf(out, "         %s %s\n", _("server said:"), it->reply);
			if (it->advice != NULL)
				fprintf(out, "         -> %s\n", it->advice);
		}
	}
	if (rep->nsummary > 0)
		fprintf(out, "\n== %s\n", _("Summary"));
	for (i = 0; i < rep->nsummary; i++)
		fprintf(out, "  %s\n", rep->summary[i]);
	if (rep->next != NULL)
		fprintf(out, "\n%s\n  %s\n", _("Next, configure your home mail server:"), rep->next);
}

/* json_str - s as a JSON string, or null. */
static void
json_str(FILE *out, const char *s)
{
	struct strbuf b = { 0 };

	if (s == NULL) {
		fputs("null", out);
		return;
	}
	strbuf_json(&b, s);
	fputs(b.p, out);
	strbuf_free(&b);
}

static void
json_item(FILE *out, const struct report_item *it)
{
	fputs("{\"check\":", out);
	json_str(out, it->check);
	fprintf(out, ",\"status\":\"%s\",\"message\":", status_id(it->status));
	json_str(out, it->message);
	fputs(",\"advice\":", out);
	json_str(out, it->advice);
	fputs(",\"reply\":", out);
	json_str(out, it->reply);
	fputc('}', out);
}

void
report_print_json(const struct report *rep, FILE *out)
{
	int s, i, n;

	fprintf(out, "{\"exit\":%d,\"sections\":[", rep->exit_status);
	for (s = 0; s < rep->nsections; s++) {
		fprintf(out, "%s{\"id\":", s ? "," : "");
		json_str(out, rep->sections[s].id);
		fputs(",\"title\":", out);
		json_str(out, rep->sections[s].title);
		fputs(",\"items\":[", out);
		for (i = 0, n = 0; i < rep->nitems; i++) {
			if (rep->items[i].section != s)
				continue;
			fputs(n++ ? "," : "", out);
			json_item(out, &rep->items[i]);
		}
		fputs("]}", out);
	}
	fputs("],\"summary\":[", out);
	for (i = 0; i < rep->nsummary; i++) {
		fputs(i ? "," : "", out);
		json_str(out, rep->summary[i]);
	}
	fputs("],\"next\":", out);
	json_str(out, rep->next);
	fputs("}\n", out);
}
