/*
 * test_msghdr.c - golden tests for msghdr.c: message in, header block length
 * out; header block in, fields and values out.
 */
#include <stdbool.h>
#include <string.h>

#include "lib/msghdr.h"
#include "t.h"

struct end_case {
	const char *msg;
	const char *hdr;	/* the expected header block: a prefix of msg */
};

static const struct end_case end_cases[] = {
	{ "From: a\r\nTo: b\r\n\r\nbody\r\n", "From: a\r\nTo: b\r\n" },
	{ "Subject: x\r\n folded\r\n\tagain\r\n\r\nb\r\n",
	  "Subject: x\r\n folded\r\n\tagain\r\n" },
	{ "From: a\r\n", "From: a\r\n" },
	{ "From: a", "From: a" },
	{ "From: a\r\n\r\n", "From: a\r\n" },
	{ "From : a\r\n\r\n", "From : a\r\n" },
	{ "From\t: a\r\n\r\n", "From\t: a\r\n" },
	{ "A:\r\n\r\n", "A:\r\n" },
	{ "A:b\r\nB:c\r\n", "A:b\r\nB:c\r\n" },
	{ "\r\nbody\r\n", "" },
	{ "", "" },
	{ "\r\n", "" },
	{ "body line\r\n", "" },
	{ " cont: x\r\n", "" },
	{ "\tcont: x\r\n", "" },
	{ ": a\r\n", "" },
	{ "Fr om: a\r\n", "" },
	{ "X\xc3\xa9: v\r\n", "" },
	{ "From foo@bar Mon Jan 1 00:00:00 2024\r\n", "" },
	{ "From: a\r\nnot a header\r\nX: y\r\n", "From: a\r\n" },
	{ "From: a\r\n: empty name\r\n", "From: a\r\n" },
	/* a bare LF or CR is part of its line */
	{ "From: a\nTo: b\r\n\r\n", "From: a\nTo: b\r\n" },
	{ "From: a\r\n\n\r\n", "From: a\r\n" },
	{ "From: a\r\r\n\r\n", "From: a\r\r\n" },
	{ "From: a\r\n\rX: b\r\n", "From: a\r\n" },
};

static void
test_end(void)
{
	size_t i, n;

	for (i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		const struct end_case *c = &end_cases[i];

		n = msghdr_end(c->msg, strlen(c->msg));
		T_OK(n == strlen(c->hdr), "end case %zu: %zu (got %zu)", i,
		    strlen(c->hdr), n);
	}
	T_OK(msghdr_end("A: b\r\n\r\n", 5) == 5, "len bounds: partial CRLF");
	T_OK(msghdr_end("A: b\r\n\r\n", 6) == 6, "len bounds: no body");
	T_OK(msghdr_end("A: b\r\n\r\n", 7) == 6, "len bounds: partial empty line");
	T_OK(msghdr_end("A\0: b\r\n\r\n", 9) == 0, "NUL in name");
}

static const char hdrs[] =
    "From: a@b\r\n"
    "Subject: hi\r\n"
    " there\r\n"
    "X-A : 1\r\n"
    "subject: second\r\n"
    "Empty:\r\n"
    "Resent-From: r@x\r\n";

static void
check_value(const char *name, const char *want)
{
	const char *v = NULL;
	size_t vl = 0;
	bool found = msghdr_value(hdrs, sizeof(hdrs) - 1, name, &v, &vl);

	if (want == NULL)
		T_OK(!found && !msghdr_has(hdrs, sizeof(hdrs) - 1, name),
		    "no field %s", name);
	else
		T_OK(found && msghdr_has(hdrs, sizeof(hdrs) - 1, name) &&
		    vl == strlen(want) && memcmp(v, want, vl) == 0,
		    "field %s (value of %zu bytes)", name, vl);
}

static void
test_value(void)
{
	check_value("From", " a@b");
	check_value("FROM", " a@b");
	check_value("from", " a@b");
	check_value("Subject", " hi\r\n there");
	check_value("X-A", " 1");
	check_value("x-a", " 1");
	check_value("Empty", "");
	check_value("Resent-From", " r@x");
	check_value("X", NULL);
	check_value("Fro", NULL);
	check_value("From:", NULL);
	check_value("Subjects", NULL);
	check_value("there", NULL);
	check_value("", NULL);
	check_value("X-A ", NULL);
	T_OK(!msghdr_has("", 0, "From"), "empty block");
	T_OK(!msghdr_has("From: a\r\n", 4, "From"), "len bounds has");
}

static void
test_next(void)
{
	static const char *const want[][2] = {
		{ "From", " a@b" },
		{ "Subject", " hi\r\n there" },
		{ "X-A", " 1" },
		{ "subject", " second" },
		{ "Empty", "" },
		{ "Resent-From", " r@x" },
	};
	struct msghdr_field f;
	size_t pos = 0, i = 0;
	bool ok = true;

	while (msghdr_next(hdrs, sizeof(hdrs) - 1, &pos, &f) && i < 6) {
		ok = ok && f.namelen == strlen(want[i][0]) &&
		    memcmp(f.name, want[i][0], f.namelen) == 0 &&
		    f.valuelen == strlen(want[i][1]) &&
		    memcmp(f.value, want[i][1], f.valuelen) == 0;
		i++;
	}
	T_OK(ok && i == 6 && pos == sizeof(hdrs) - 1, "iterate fields (%zu)", i);
	T_OK(!msghdr_next(hdrs, sizeof(hdrs) - 1, &pos, &f), "then no more");

	pos = 0;
	T_OK(msghdr_next(" x\r\nno colon\r\nA: 1\r\n", 20, &pos, &f) &&
	    f.namelen == 1 && f.name[0] == 'A' && f.valuelen == 2,
	    "non-fields skipped");
	pos = 0;
	T_OK(msghdr_next("A: 1\r\n 2", 8, &pos, &f) && f.valuelen == 6 &&
	    pos == 8, "last continuation without CRLF");
	pos = 0;
	T_OK(msghdr_next("A: 1\r\n", 6, &pos, &f) && f.valuelen == 2 && pos == 6,
	    "field then end");
}

int
main(void)
{
	test_end();
	test_value();
	test_next();
	return t_done();
}
