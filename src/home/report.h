/*
 * report.h - the probe's findings: sections ("Outbound port 25", "Relay
 * ..."), each with items that pass, warn or fail, a one-line explanation,
 * what to do, and the server's reply; a closing summary. Printed for people
 * (in their language) or as JSON (stable ids and statuses, the same texts).
 * Owns every string it holds.
 */
#ifndef HIKYAKU_REPORT_H
#define HIKYAKU_REPORT_H

#include <stdio.h>

enum report_status { REPORT_PASS, REPORT_WARN, REPORT_FAIL, REPORT_SKIP, REPORT_INFO };

#define REPORT_SECTIONS_MAX 8
#define REPORT_ITEMS_MAX 96
#define REPORT_SUMMARY_MAX 12

struct report_item {
	int section;		/* index into sections */
	char check[24];		/* stable id: "connect", "certificate", "mail-from" ... */
	enum report_status status;
	char *message;		/* one line, translated */
	char *advice;		/* what to do, translated; NULL if nothing */
	char *reply;		/* the server's words, verbatim (English); NULL if none */
};

struct report_section {
	char id[16];		/* stable id: "port25", "relay", "account", "isp" */
	char *title;		/* translated */
};

struct report {
	struct report_section sections[REPORT_SECTIONS_MAX];
	int nsections;
	struct report_item items[REPORT_ITEMS_MAX];
	int nitems;
	char *summary[REPORT_SUMMARY_MAX];	/* translated lines */
	int nsummary;
	char *next;		/* a command to run next, or NULL */
	int exit_status;
};

/* report_init - an empty report. */
void report_init(struct report *rep);
void report_free(struct report *rep);

/* report_section - start a section; later items belong to it. */
void report_section(struct report *rep, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* report_add - an item of the current section; returns it for report_advice/report_reply. */
struct report_item *report_add(struct report *rep, const char *check, enum report_status st,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* report_advice - what to do about it. */
void report_advice(struct report_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* report_reply - the server reply the item is about (kept verbatim). */
void report_reply(struct report_item *it, const char *reply);

/* report_summary - one line of the closing summary. */
void report_summary(struct report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* report_worst - the worst status among the items of section id (REPORT_SKIP if none). */
enum report_status report_worst(const struct report *rep, const char *id);

/* report_print - for people. */
void report_print(const struct report *rep, FILE *out);

/* report_print_json - {"exit":N,"sections":[{"id","title","items":[...]}],"summary":[...]} */
void report_print_json(const struct report *rep, FILE *out);

#endif
