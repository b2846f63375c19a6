/*
 * hdr_from.c - collect the addr-specs of every From: field of a header block.
 *
 * A lexer turns a field value into tokens (atoms, quoted strings, domain
 * literals, specials), skipping CFWS: whitespace, folds and nested comments.
 * A recursive-descent parser over those tokens follows RFC 5322 section 3.4
 * with the obsolete forms of section 4.4 (phrases with dots, CFWS around the
 * dots and '@' of an addr-spec, routes in angle-addrs, empty list elements)
 * and RFC 6854 groups. Every address found is rebuilt as local@domain and
 * checked by addr_parse_mailbox(). Anything unclear is an error: the caller
 * checks these addresses against what the sender may use.
 */
#include <string.h>

#include "lib/addr.h"
#include "lib/hdr_from.h"
#include "lib/msghdr.h"

enum tok_type { T_END, T_ERR, T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct tok {
	enum tok_type type;
	const char *s;		/* the token's bytes (with quotes / brackets) */
	size_t len;
	size_t next;		/* where the lexer goes on after it */
};

struct lex {
	const char *s;
	size_t len;
	size_t pos;
};

struct buf {
	char s[ADDR_MAX + 1];
	size_t n;
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_atext - RFC 5322 atext, and any non-ASCII byte (RFC 6532). */
static bool
is_atext(char c)
{
	unsigned char u = (unsigned char)c;

	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
	    (u >= '0' && u <= '9') || u >= 0x80 ||
	    (u != 0 && strchr("!#$%&'*+-/=?^_`{|}~", u) != NULL);
}

static bool
buf_add(struct buf *b, const char *s, size_t n)
{
	if (n > ADDR_MAX - b->n)
		return false;
	memcpy(b->s + b->n, s, n);
	b->n += n;
	return true;
}

/* ---- lexer ---- */

/* comment_end - s[i] is '(': the index after its ')' (comments nest, a
 * backslash quotes the next byte), or 0 when it is not closed. */
static size_t
comment_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* quoted_end - s[i] is '"': the index after the closing '"', or 0. */
static size_t
quoted_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* literal_end - s[i] is '[': the index after its ']', or 0. */
static size_t
literal_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == ']')
			return i + 1;
		if (s[i] == '[' || s[i] == '\\')
			return 0;
	}
	return 0;
}

/* skip_cfws - move *i past CFWS; false on a comment left open. */
static bool
skip_cfws(const char *s, size_t len, size_t *i)
{
	while (*i < len && (is_ws(s[*i]) || s[*i] == '(')) {
		if (s[*i] != '(')
			(*i)++;
		else if ((*i = comment_end(s, len, *i)) == 0)
			return false;
	}
	return true;
}

/* token_end - the index after the token at s[i], 0 if there is none. */
static size_t
token_end(const char *s, size_t len, size_t i, enum tok_type *type)
{
	*type = T_SPECIAL;
	if (s[i] == '"') {
		*type = T_QSTR;
		return quoted_end(s, len, i);
	}
	if (s[i] == '[') {
		*type = T_DLIT;
		return literal_end(s, len, i);
	}
	if (is_atext(s[i])) {
		*type = T_ATOM;
		while (i < len && is_atext(s[i]))
			i++;
		return i;
	}
	return s[i] != '\0' && strchr("<>@,:;.", s[i]) != NULL ? i + 1 : 0;
}

/* peek - the next token, without moving on. */
static struct tok
peek(const struct lex *l)
{
	struct tok t = { T_ERR, NULL, 0, 0 };
	size_t i = l->pos, end;

	if (!skip_cfws(l->s, l->len, &i))
		return t;
	if (i >= l->len) {
		t.type = T_END;
		return t;
	}
	if ((end = token_end(l->s, l->len, i, &t.type)) == 0) {
		t.type = T_ERR;
		return t;
	}
	t.s = l->s + i;
	t.len = end - i;
	t.next = end;
	return t;
}

static void
take(struct lex *l, const struct tok *t)
{
	l->pos = t->next;
}

/* is_special - whether t is the special character c. */
static bool
is_special(const struct tok *t, char c)
{
	return t->type == T_SPECIAL && t->s[0] == c;
}

/* accept - take the next token if it is the special c. */
static bool
accept(struct lex *l, char c)
{
	struct tok t = peek(l);

	if (!is_special(&t, c))
		return false;
	take(l, &t);
	return true;
}

/* ---- addr-spec ---- */

/* add_unquoted - the content of quoted string q[0..n): no quotes, no
 * backslashes of quoted-pairs, no CR LF of folds. */
static bool
add_unquoted(struct buf *b, const char *q, size_t n)
{
	size_t i;

	for (i = 1; i + 1 < n; i++) {
		if (q[i] == '\r' || q[i] == '\n')
			continue;
		if (q[i] == '\\')
			i++;
		if (!buf_add(b, q + i, 1))
			return false;
	}
	return true;
}

/* word - an atom or a quoted string into b, as its unquoted content. */
static bool
word(struct lex *l, struct buf *b)
{
	struct tok t = peek(l);

	if (t.type == T_ATOM && !buf_add(b, t.s, t.len))
		return false;
	if (t.type == T_QSTR && !add_unquoted(b, t.s, t.len))
		return false;
	if (t.type != T_ATOM && t.type != T_QSTR)
		return false;
	take(l, &t);
	return true;
}

/* local_part - word *("." word) into b, as its unquoted content. */
static bool
local_part(struct lex *l, struct buf *b)
{
	for (;;) {
		if (!word(l, b))
			return false;
		if (!accept(l, '.'))
			return true;
		if (!buf_add(b, ".", 1))
			return false;
	}
}

/* atom - an atom into b. */
static bool
atom(struct lex *l, struct buf *b)
{
	struct tok t = peek(l);

	if (t.type != T_ATOM || !buf_add(b, t.s, t.len))
		return false;
	take(l, &t);
	return true;
}

/* domain - a domain literal or atom *("." atom) into b; WSP dropped. */
static bool
domain(struct lex *l, struct buf *b)
{
	struct tok t = peek(l);
	size_t i;

	if (t.type == T_DLIT) {
		for (i = 0; i < t.len; i++)
			if (!is_ws(t.s[i]) && !buf_add(b, t.s + i, 1))
				return false;
		take(l, &t);
		return true;
	}
	for (;;) {
		if (!atom(l, b))
			return false;
		if (!accept(l, '.'))
			return true;
		if (!buf_add(b, ".", 1))
			return false;
	}
}

/* is_dot_atom - whether s[0..n) is atext runs joined by single dots. */
static bool
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return false;
	return true;
}

/* add_local - the local part as a dot-atom if it is one, else quoted. */
static bool
add_local(struct buf *b, const struct buf *local)
{
	size_t i;

	if (is_dot_atom(local->s, local->n))
		return buf_add(b, local->s, local->n);
	if (!buf_add(b, "\"", 1))
		return false;
	for (i = 0; i < local->n; i++) {
		if ((local->s[i] == '"' || local->s[i] == '\\') &&
		    !buf_add(b, "\\", 1))
			return false;
		if (!buf_add(b, local->s + i, 1))
			return false;
	}
	return buf_add(b, "\"", 1);
}

/* addr_spec - local-part "@" domain, checked and stored in out. */
static bool
addr_spec(struct lex *l, struct hdr_from *out)
{
	struct buf local = { .n = 0 }, dom = { .n = 0 }, mbox = { .n = 0 };

	if (!local_part(l, &local) || !accept(l, '@') || !domain(l, &dom))
		return false;
	if (!add_local(&mbox, &local) || !buf_add(&mbox, "@", 1) ||
	    !buf_add(&mbox, dom.s, dom.n))
		return false;
	if (out->naddrs >= HDR_FROM_MAX)
		return false;
	if (addr_parse_mailbox(mbox.s, mbox.n, ADDR_ALLOW_UTF8,
	    out->addrs[out->naddrs], sizeof(out->addrs[0])) != 0)
		return false;
	out->naddrs++;
	return true;
}

/* ---- mailbox, group, address-list ---- */

/* obs_route - obs-domain-list ":" (RFC 5322 section 4.4), dropped. */
static bool
obs_route(struct lex *l)
{
	struct buf scratch;

	for (;;) {
		scratch.n = 0;
		if (accept(l, ':'))
			return true;
		if (accept(l, ','))
			continue;
		if (!accept(l, '@') || !domain(l, &scratch))
			return false;
	}
}

/* angle_addr - after '<': [obs-route] addr-spec ">" */
static bool
angle_addr(struct lex *l, struct hdr_from *out)
{
	struct tok t = peek(l);

	if ((is_special(&t, '@') || is_special(&t, ',')) && !obs_route(l))
		return false;
	return addr_spec(l, out) && accept(l, '>');
}

/* skip_phrase - take words and dots (obs-phrase); returns how many. */
static size_t
skip_phrase(struct lex *l)
{
	struct tok t;
	size_t n = 0;

	for (;;) {
		t = peek(l);
		if (t.type != T_ATOM && t.type != T_QSTR && !is_special(&t, '.'))
			return n;
		take(l, &t);
		n++;
	}
}

/* classify - the special after the leading phrase: '<', ':', '@' or 0. */
static char
classify(struct lex *l)
{
	struct lex ahead = *l;
	struct tok t;

	skip_phrase(&ahead);
	t = peek(&ahead);
	if (is_special(&t, '<') || is_special(&t, ':') || is_special(&t, '@'))
		return t.s[0];
	return 0;
}

static bool address(struct lex *l, struct hdr_from *out, bool in_group);

/* group_list - after "display-name:": [mailbox-list] ";" */
static bool
group_list(struct lex *l, struct hdr_from *out)
{
	struct tok t;

	for (;;) {
		if (accept(l, ';'))
			return true;
		if (accept(l, ','))
			continue;
		if (!address(l, out, true))
			return false;
		t = peek(l);
		if (!is_special(&t, ',') && !is_special(&t, ';'))
			return false;
	}
}

/* address - one mailbox (name-addr or addr-spec), or a group. */
static bool
address(struct lex *l, struct hdr_from *out, bool in_group)
{
	switch (classify(l)) {
	case '@':
		return addr_spec(l, out);
	case '<':
		skip_phrase(l);
		return accept(l, '<') && angle_addr(l, out);
	case ':':
		if (in_group || skip_phrase(l) == 0)
			return false;
		return accept(l, ':') && group_list(l, out);
	default:
		return false;
	}
}

/* address_list - the value of one From: field; at least one address. */
static bool
address_list(struct lex *l, struct hdr_from *out)
{
	bool any = false;
	struct tok t;

	for (;;) {
		t = peek(l);
		if (t.type == T_END)
			return any;
		if (is_special(&t, ',')) {
			take(l, &t);
			continue;
		}
		if (!address(l, out, false))
			return false;
		any = true;
		t = peek(l);
		if (t.type != T_END && !is_special(&t, ','))
			return false;
	}
}

/* ---- fields ---- */

/* has_bare_newline - whether s holds a CR or LF that is not part of CRLF. */
static bool
has_bare_newline(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
			return true;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return true;
	}
	return false;
}

static bool
is_from(const struct msghdr_field *f)
{
	const char *n = f->name;

	return f->namelen == 4 && (n[0] == 'F' || n[0] == 'f') &&
	    (n[1] == 'R' || n[1] == 'r') && (n[2] == 'O' || n[2] == 'o') &&
	    (n[3] == 'M' || n[3] == 'm');
}

int
hdr_from_extract(const char *hdrs, size_t len, struct hdr_from *out)
{
	struct msghdr_field f;
	struct lex l;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (has_bare_newline(hdrs, len))
		return -1;
	while (msghdr_next(hdrs, len, &pos, &f)) {
		if (!is_from(&f))
			continue;
		out->nfields++;
		if (memchr(f.value, '\0', f.valuelen) != NULL)
			return -1;
		l = (struct lex){ f.value, f.valuelen, 0 };
		if (!address_list(&l, out))
			return -1;
	}
	return 0;
}
