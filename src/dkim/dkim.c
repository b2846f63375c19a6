/*
 * dkim.c - DKIM canonicalisation, header selection and the DKIM-Signature
 * field, without cryptography (RFC 6376 sections 3.4, 3.5, 3.7, 5.4).
 *
 * Canonical bytes go through a small buffer to the caller's sink, which
 * hashes them; dkim_sign.c adds the keys and the hashes. Everything here is
 * bounded by the input or by the fixed sizes in dkim.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dkim/dkim.h"

/* --- a buffered sink --- */

struct out {
	dkim_sink sink;
	void *arg;
	size_t n;
	char buf[1024];
};

static void
out_flush(struct out *o)
{
	if (o->n > 0)
		o->sink(o->arg, o->buf, o->n);
	o->n = 0;
}

static void
out_byte(struct out *o, char c)
{
	if (o->n == sizeof(o->buf))
		out_flush(o);
	o->buf[o->n++] = c;
}

static void
out_bytes(struct out *o, const char *p, size_t n)
{
	if (n > sizeof(o->buf) - o->n) {
		out_flush(o);
		if (n > sizeof(o->buf)) {
			o->sink(o->arg, p, n);
			return;
		}
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* line_end - index of the CRLF ending the line that starts at i, or len. */
static size_t
line_end(const char *s, size_t len, size_t i)
{
	const char *p;

	while (i < len && (p = memchr(s + i, '\r', len - i)) != NULL) {
		i = (size_t)(p - s);
		if (i + 1 < len && s[i + 1] == '\n')
			return i;
		i++;
	}
	return len;
}

/* --- body --- */

size_t
dkim_body_offset(const char *msg, size_t len)
{
	size_t h = msghdr_end(msg, len);

	if (h + 2 <= len && msg[h] == '\r' && msg[h + 1] == '\n')
		return h + 2;
	return h;
}

/*
 * relaxed_line - put line[0..n) with every WSP run made one SP and trailing
 * WSP dropped, after the blank lines still owed; returns false (and puts
 * nothing) when the line is empty after that.
 */
static bool
relaxed_line(struct out *o, const char *line, size_t n, size_t *blanks)
{
	bool wsp = false, any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_wsp(line[i])) {
			wsp = true;
			continue;
		}
		if (!any) {
			for (; *blanks > 0; (*blanks)--)
				out_bytes(o, "\r\n", 2);
			any = true;
		}
		if (wsp)
			out_byte(o, ' ');
		wsp = false;
		out_byte(o, line[i]);
	}
	return any;
}

void
dkim_canon_body(enum dkim_canon c, const char *body, size_t len, dkim_sink sink, void *arg)
{
	struct out o = { sink, arg, 0, { 0 } };
	size_t i = 0, e, blanks = 0;
	bool any = false;

	while (i < len) {
		e = line_end(body, len, i);
		if (c == DKIM_CANON_RELAXED) {
			if (relaxed_line(&o, body + i, e - i, &blanks)) {
				out_bytes(&o, "\r\n", 2);
				any = true;
			} else
				blanks++;
		} else if (e == i)
			blanks++;
		else {
			for (; blanks > 0; blanks--)
				out_bytes(&o, "\r\n", 2);
			out_bytes(&o, body + i, e - i);
			out_bytes(&o, "\r\n", 2);
			any = true;
		}
		i = e < len ? e + 2 : len;
	}
	if (!any && c == DKIM_CANON_SIMPLE)
		out_bytes(&o, "\r\n", 2);
	out_flush(&o);
}

/* --- headers --- */

static void
relaxed_header(struct out *o, const struct msghdr_field *f, bool crlf)
{
	bool wsp = false, any = false;
	size_t i;

	for (i = 0; i < f->namelen; i++)
		out_byte(o, lower(f->name[i]));
	out_byte(o, ':');
	for (i = 0; i < f->valuelen; i++) {
		char ch = f->value[i];

		if (ch == '\r' && i + 1 < f->valuelen && f->value[i + 1] == '\n') {
			i++;	/* unfold: the CRLF goes, the WSP after it stays */
			continue;
		}
		if (is_wsp(ch)) {
			wsp = true;
			continue;
		}
		if (wsp && any)
			out_byte(o, ' ');
		wsp = false;
		any = true;
		out_byte(o, ch);
	}
	if (crlf)
		out_bytes(o, "\r\n", 2);
}

void
dkim_canon_header(enum dkim_canon c, const struct msghdr_field *f, dkim_sink sink, void *arg)
{
	struct out o = { sink, arg, 0, { 0 } };

	if (c == DKIM_CANON_RELAXED)
		relaxed_header(&o, f, true);
	else {
		out_bytes(&o, f->name, (size_t)(f->value + f->valuelen - f->name));
		out_bytes(&o, "\r\n", 2);
	}
	out_flush(&o);
}

/* The names we sign; over: listed once more than present. */
static const struct {
	const char *name;
	bool over;
} signed_names[] = {
	{ "from", true }, { "sender", true }, { "reply-to", true },
	{ "subject", true }, { "date", true }, { "message-id", true },
	{ "to", true }, { "cc", true }, { "in-reply-to", true },
	{ "references", true }, { "mime-version", true }, { "content-type", true },
	{ "content-transfer-encoding", true }, { "list-id", true },
	{ "list-unsubscribe", true }, { "list-unsubscribe-post", true },
	{ "feedback-id", true },
	{ "list-help", false }, { "list-subscribe", false }, { "list-post", false },
	{ "list-owner", false }, { "list-archive", false },
	{ "resent-date", false }, { "resent-from", false }, { "resent-sender", false },
	{ "resent-to", false }, { "resent-cc", false }, { "resent-message-id", false },
};
#define NSIGNED (sizeof(signed_names) / sizeof(signed_names[0]))

/* name_is - whether the field name n[0..len) is name (lower-case), any case. */
static bool
name_is(const char *n, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (name[i] == '\0' || lower(n[i]) != name[i])
			return false;
	return name[len] == '\0';
}

void
dkim_select_headers(const char *hdrs, size_t len, struct dkim_hlist *out)
{
	size_t count[NSIGNED] = { 0 }, pos = 0, i, k, n;
	struct msghdr_field f;

	while (msghdr_next(hdrs, len, &pos, &f))
		for (i = 0; i < NSIGNED; i++)
			if (name_is(f.name, f.namelen, signed_names[i].name)) {
				count[i]++;
				break;
			}
	out->n = 0;
	for (i = 0; i < NSIGNED; i++) {
		n = count[i] > DKIM_H_PER_NAME ? DKIM_H_PER_NAME : count[i];
		if (signed_names[i].over && count[i] <= DKIM_H_PER_NAME)
			n++;
		for (k = 0; k < n && out->n < DKIM_H_MAX; k++)
			out->names[out->n++] = signed_names[i].name;
	}
}

/* --- the DKIM-Signature field, folded --- */

struct fold {
	char *buf;
	size_t len, cap, col;
	bool overflow;
};

static void
fold_raw(struct fold *f, const char *s, size_t n)
{
	if (f->overflow || n >= f->cap - f->len) {
		f->overflow = true;
		return;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

static void
fold_break(struct fold *f)
{
	fold_raw(f, "\r\n\t", 3);
	f->col = 1;
}

/* fold_put - sep then atom, or a fold instead of sep when they do not fit. */
static void
fold_put(struct fold *f, const char *sep, const char *atom)
{
	size_t ns = strlen(sep), na = strlen(atom);

	if (f->col + ns + na > DKIM_LINE_MAX && f->col > 1)
		fold_break(f);
	else {
		fold_raw(f, sep, ns);
		f->col += ns;
	}
	fold_raw(f, atom, na);
	f->col += na;
}

/* fold_b64 - a base64 value, broken wherever a line is full. */
static void
fold_b64(struct fold *f, const char *b64)
{
	size_t n = strlen(b64), room;

	while (n > 0) {
		if (f->col >= DKIM_LINE_MAX)
			fold_break(f);
		room = DKIM_LINE_MAX - f->col;
		if (room > n)
			room = n;
		fold_raw(f, b64, room);
		f->col += room;
		b64 += room;
		n -= room;
	}
}

/* tag_ok - a tag value we can write as it is: printable ASCII, no ';'. */
static bool
tag_ok(const char *v)
{
	if (*v == '\0')
		return false;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 127 || *v == ';')
			return false;
	return true;
}

static void
fold_tag(struct fold *f, const char *tag, const char *value)
{
	char atom[DKIM_DOMAIN_MAX + 8];

	snprintf(atom, sizeof(atom), "%s=%s;", tag, value);
	fold_put(f, " ", atom);
}

size_t
dkim_sig_begin(const struct dkim_sig *sig, char *out, size_t outsz)
{
	struct fold f = { out, 0, outsz, 0, outsz == 0 };
	char t[32], atom[96];
	size_t i;

	if (!tag_ok(sig->algo) || !tag_ok(sig->domain) || !tag_ok(sig->selector) ||
	    !tag_ok(sig->bh) || strlen(sig->domain) > DKIM_DOMAIN_MAX ||
	    strlen(sig->selector) > DKIM_SELECTOR_MAX || strlen(sig->algo) > 32 ||
	    sig->h->n == 0 || sig->t < 0)
		return 0;
	fold_raw(&f, "DKIM-Signature: v=1;", 20);
	f.col = 20;
	fold_tag(&f, "a", sig->algo);
	fold_tag(&f, "c", "relaxed/relaxed");
	fold_tag(&f, "d", sig->domain);
	fold_tag(&f, "s", sig->selector);
	snprintf(t, sizeof(t), "%lld", (long long)sig->t);
	fold_tag(&f, "t", t);
	for (i = 0; i < sig->h->n; i++) {
		if (!tag_ok(sig->h->names[i]) || strchr(sig->h->names[i], ':') ||
		    strlen(sig->h->names[i]) > 40)
			return 0;
		snprintf(atom, sizeof(atom), "%s%s%s", i == 0 ? "h=" : "",
		    sig->h->names[i], i + 1 < sig->h->n ? ":" : ";");
		fold_put(&f, i == 0 ? " " : "", atom);
	}
	if (strlen(sig->bh) + 4 < DKIM_LINE_MAX && strlen(sig->bh) < sizeof(atom) - 4) {
		snprintf(atom, sizeof(atom), "bh=%s;", sig->bh);
		fold_put(&f, " ", atom);	/* whole on one line when it fits */
	} else {
		fold_put(&f, " ", "bh=");
		fold_b64(&f, sig->bh);
		fold_put(&f, "", ";");
	}
	fold_put(&f, " ", "b=");
	return f.overflow ? 0 : f.len;
}

size_t
dkim_sig_finish(char *sig, size_t siglen, size_t sigsz, const char *b64)
{
	struct fold f = { sig, siglen, sigsz, 0, siglen >= sigsz };
	size_t i;

	if (!f.overflow) {
		for (i = siglen; i > 0 && sig[i - 1] != '\n'; i--)
			;
		f.col = siglen - i;
	}
	if (b64[0] != '\0' && !tag_ok(b64))
		return 0;
	fold_b64(&f, b64);
	fold_raw(&f, "\r\n", 2);
	return f.overflow ? 0 : f.len;
}

/* --- what is signed --- */

#define RING_SIZE (DKIM_H_PER_NAME + 1)
#define NAME_MAX_LEN 48

/* The positions of the last fields of one name, and how many h= used. */
struct ring {
	char name[NAME_MAX_LEN];	/* lower-case */
	size_t total;
	size_t used;
	size_t pos[RING_SIZE];
};

/* ring_find - the ring of h= entry name (any case); add it when add. */
static struct ring *
ring_find(struct ring *r, size_t *nr, const char *name, bool add)
{
	char lname[NAME_MAX_LEN];
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 >= sizeof(lname))
			return NULL;
		lname[i] = lower(name[i]);
	}
	lname[i] = '\0';
	for (i = 0; i < *nr; i++)
		if (strcmp(r[i].name, lname) == 0)
			return &r[i];
	if (!add || *nr == DKIM_H_NAMES)
		return NULL;
	memset(&r[*nr], 0, sizeof(r[*nr]));
	memcpy(r[*nr].name, lname, strlen(lname) + 1);
	return &r[(*nr)++];
}

/* collect - one pass over the fields: where the last ones of each name are. */
static void
collect(const char *hdrs, size_t len, struct ring *r, size_t nr)
{
	struct msghdr_field f;
	size_t pos = 0, i;

	while (msghdr_next(hdrs, len, &pos, &f)) {
		for (i = 0; i < nr; i++) {
			if (!name_is(f.name, f.namelen, r[i].name))
				continue;
			r[i].pos[r[i].total % RING_SIZE] = (size_t)(f.name - hdrs);
			r[i].total++;
			break;
		}
	}
}

void
dkim_signed_data(const char *hdrs, size_t len, const struct dkim_hlist *h,
    const char *sig, size_t siglen, dkim_sink sink, void *arg)
{
	struct out o = { sink, arg, 0, { 0 } };
	struct ring rings[DKIM_H_NAMES], *r;
	struct msghdr_field f;
	size_t nr = 0, i, n = h->n < DKIM_H_MAX ? h->n : DKIM_H_MAX, have, pos;

	for (i = 0; i < n; i++)
		ring_find(rings, &nr, h->names[i], true);
	collect(hdrs, len, rings, nr);
	for (i = 0; i < n; i++) {
		if ((r = ring_find(rings, &nr, h->names[i], false)) == NULL)
			continue;
		have = r->total < RING_SIZE ? r->total : RING_SIZE;
		if (r->used >= have) {
			r->used++;	/* listed more often than present: nothing */
			continue;
		}
		pos = r->pos[(r->total - 1 - r->used) % RING_SIZE];
		r->used++;
		if (msghdr_next(hdrs, len, &pos, &f))
			relaxed_header(&o, &f, true);
	}
	pos = 0;
	if (msghdr_next(sig, siglen, &pos, &f))
		relaxed_header(&o, &f, false);
	out_flush(&o);
}

/* --- domains and selectors --- */

const char *
dkim_parent_domain(const char *d)
{
	const char *dot = strchr(d, '.');

	if (dot == NULL || strchr(dot + 1, '.') == NULL)
		return NULL;
	return dot + 1;
}

/* valid_labels - LDH labels separated by dots; *nlabels gets their count. */
static bool
valid_labels(const char *s, size_t *nlabels)
{
	size_t len = 0;

	*nlabels = 0;
	for (;; s++) {
		if (*s == '.' || *s == '\0') {
			if (len == 0 || len > 63 || s[-1] == '-')
				return false;
			(*nlabels)++;
			if (*s == '\0')
				return true;
			len = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || (*s == '-' && len > 0)))
			return false;
		len++;
	}
}

bool
dkim_valid_domain(const char *d)
{
	size_t n;

	return strlen(d) <= DKIM_DOMAIN_MAX && valid_labels(d, &n) && n >= 2;
}

bool
dkim_valid_selector(const char *s)
{
	size_t n;

	return strlen(s) <= DKIM_SELECTOR_MAX && valid_labels(s, &n);
}
