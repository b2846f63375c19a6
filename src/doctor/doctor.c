/*
 * doctor.c - the doctor's checks for one domain: the thin shell around the
 * pure cores (spf.c, dnsrec.c, verdict.c) that asks DNS (dns_sync), reads
 * the local DKIM keys (store, dkim_sign) and writes what it found, with the
 * fix, into a report. Every message is one format string holding whole
 * sentences, translated (gettext); the records, zone-file lines and
 * commands a fix names are made apart from it and passed in as data, so
 * that a translation cannot change them. What the resolver says when DNS
 * fails stays English: it is also the text of the gate's 451 reply.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/config.h"
#include "base/store.h"
#include "dkim/dkim.h"
#include "dkim/dkim_sign.h"
#include "dns/dns.h"
#include "doctor/dnsrec.h"
#include "doctor/doctor.h"
#include "lib/i18n.h"
#include "lib/tlsrec.h"
#include "lib/util.h"

#define PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"
#define PSL_MAX (4 * 1024 * 1024)
#define TXT_CHUNK 255

/* --- the environment --- */

static char *
load_psl(size_t *len)
{
	FILE *f = fopen(PSL_PATH, "re");
	char *buf;
	size_t n;

	*len = 0;
	if (f == NULL)
		return NULL;
	buf = xmalloc(PSL_MAX + 1);
	n = fread(buf, 1, PSL_MAX, f);
	fclose(f);
	if (n == 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
add_ip(struct doctor_env *env, int family, const uint8_t *addr)
{
	struct spf_ip *ip = &env->ips[env->nips];

	if (env->nips == DOCTOR_IPS_MAX)
		return;
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->addr, addr, family == AF_INET ? 4 : 16);
	inet_ntop(family, addr, env->ip[env->nips], sizeof(env->ip[0]));
	for (size_t i = 0; i < env->nips; i++)
		if (strcmp(env->ip[i], env->ip[env->nips]) == 0)
			return;	/* a duplicate */
	env->nips++;
}

/* hostname_ips - the A and AAAA records of the configured hostname. */
static void
hostname_ips(struct doctor_env *env)
{
	const char *h = env->cfg->hostname;
	int types[2] = { DNS_T_A, DNS_T_AAAA };
	size_t len;

	for (int t = 0; t < 2; t++) {
		if (dns_sync_query(env->dns, h, types[t], env->ans) == DNS_TEMPFAIL && !env->ip_temp) {
			env->ip_temp = true;
			util_strlcpy(env->ip_why, env->ans->why, sizeof(env->ip_why));
			/* TRANSLATORS: %s is the resolver's reason, in English. */
			snprintf(env->ip_problem, sizeof(env->ip_problem), _("The relay's addresses"
			    " are unknown: %.200s. Set relay-ip in the configuration, or give"
			    " --relay-ip."), env->ans->why);
		}
		for (size_t i = 0; env->ans->status == DNS_OK && i < env->ans->n; i++)
			add_ip(env, types[t] == DNS_T_A ? AF_INET : AF_INET6,
			    (const uint8_t *)dns_answer_data(env->ans, i, &len));
	}
	if (env->nips == 0 && env->ip_problem[0] == '\0')
		snprintf(env->ip_problem, sizeof(env->ip_problem), _("The relay's addresses are"
		    " unknown: its hostname %s has no A or AAAA record. Publish one, set relay-ip"
		    " in the configuration, or give --relay-ip."), h);
}

int
doctor_env_init(struct doctor_env *env, const struct config *cfg, struct store *st,
    const char *const *ips, size_t nips, char *err, size_t errsz)
{
	unsigned timeout = cfg->dns_timeout < DOCTOR_DNS_TIMEOUT_MAX ? (unsigned)cfg->dns_timeout :
	    DOCTOR_DNS_TIMEOUT_MAX;
	struct spf_ip ip;
	size_t i;

	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	env->st = st;
	if ((env->dns = dns_sync_new(cfg, timeout, err, errsz)) == NULL)
		return -1;
	env->psl = load_psl(&env->psllen);
	env->spf = xcalloc(1, sizeof(*env->spf));
	env->outcome = xcalloc(1, sizeof(*env->outcome));
	env->ans = xcalloc(1, sizeof(*env->ans));
	for (i = 0; nips == 0 && i < cfg->nrelay_ip; i++)
		if (spf_ip_parse(cfg->relay_ip[i], &ip) == 0)
			add_ip(env, ip.family, ip.addr);
	for (i = 0; i < nips; i++) {
		if (spf_ip_parse(ips[i], &ip) == -1) {
			snprintf(err, errsz, _("%s is not an IPv4 or IPv6 address"), ips[i]);
			doctor_env_free(env);
			return -1;
		}
		add_ip(env, ip.family, ip.addr);
	}
	if (env->nips == 0)
		hostname_ips(env);
	return 0;
}

void
doctor_env_free(struct doctor_env *env)
{
	dns_sync_free(env->dns);
	free(env->psl);
	free(env->spf);
	free(env->outcome);
	free(env->ans);
	memset(env, 0, sizeof(*env));
}

/* --- helpers --- */

static enum dns_status
query(struct doctor_env *env, struct doctor_report *r, const char *name, int type)
{
	enum dns_status st = dns_sync_query(env->dns, name, type, env->ans);

	if (st == DNS_TEMPFAIL && r->dns_problem[0] == '\0')
		snprintf(r->dns_problem, sizeof(r->dns_problem), "%s", env->ans->why);
	return st;
}

/* zone_txt - "NAME. IN TXT "..." "..."" with strings of at most 255 bytes, into out. */
static void
zone_txt(const char *name, const char *text, char *out, size_t outsz)
{
	size_t len = strlen(text), i, n, o;

	o = (size_t)snprintf(out, outsz, "%s. IN TXT", name);
	for (i = 0; i < len && o < outsz; i += n) {
		n = len - i > TXT_CHUNK ? TXT_CHUNK : len - i;
		o += (size_t)snprintf(out + o, outsz - o, " \"%.*s\"", (int)n, text + i);
	}
	if (len == 0 && o < outsz)
		snprintf(out + o, outsz - o, " \"\"");
}

/* zone_addr - "NAME. IN A ADDRESS" (or AAAA for an IPv6 ip) into out. */
static void
zone_addr(const char *name, const struct spf_ip *ip, const char *addr, char *out,
    size_t outsz)
{
	snprintf(out, outsz, "%s. IN %s %s", name, ip->family == AF_INET ? "A" : "AAAA", addr);
}

/* zone_mx - "NAME. IN MX 10 <your home mail server's name>" into out. */
static void
zone_mx(const char *name, char *out, size_t outsz)
{
	/* TRANSLATORS: the placeholder in an MX record to publish: the user puts
	 * their server's host name there. */
	snprintf(out, outsz, "%s. IN MX 10 %s", name, _("<your home mail server's name>"));
}

static enum dns_status
spf_dns(void *arg, const char *name, int type, struct dns_answer *ans)
{
	struct doctor_env *env = arg;

	return dns_sync_query(env->dns, name, type, ans);
}

/* spf_eval - SPF for relay IP i of domain, with record override (NULL: DNS's). */
static enum spf_result
spf_eval(struct doctor_env *env, const char *domain, size_t i, const char *override)
{
	char sender[DNS_NAME_MAX + 16];
	struct spf_request req = { .ip = env->ips[i], .sender = sender, .domain = domain,
		.helo = env->cfg->hostname, .receiver = env->cfg->hostname, .now = util_now(),
		.lookup = spf_dns, .lookup_arg = env, .override = override };

	snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	return spf_check(&req, env->spf, env->outcome);
}

/* ip_mechs - "ip4:A ip6:B" for the relay IPs whose SPF result is not pass. */
static void
ip_mechs(const struct doctor_env *env, const struct doctor_report *r, char *out, size_t outsz)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < env->nips && o < outsz; i++)
		if (r->spf[i] != SPF_PASS)
			o += (size_t)snprintf(out + o, outsz - o, "%sip%c:%s", o ? " " : "",
			    env->ips[i].family == AF_INET ? '4' : '6', env->ip[i]);
}

/* passes_all - whether record (for domain) passes every relay IP. */
static bool
passes_all(struct doctor_env *env, const char *domain, const char *record)
{
	for (size_t i = 0; i < env->nips; i++)
		if (spf_eval(env, domain, i, record) != SPF_PASS)
			return false;
	return true;
}

/* --- SPF --- */

struct spf_seen {
	enum spf_result first;		/* the result of the first relay IP */
	char record[SPF_RECORD_MAX + 1];
	int nrecords;
	size_t insert_at;		/* of the first IP that did not pass */
	bool have_insert;
	char problem[600];
	bool over_limit;		/* permerror: past the DNS lookup or void limit */
};

static void
spf_per_ip(struct doctor_env *env, struct doctor_report *r, struct spf_seen *s)
{
	struct spf_outcome *o = env->outcome;
	size_t o_len = 0;

	for (size_t i = 0; i < env->nips; i++) {
		r->spf[i] = spf_eval(env, r->domain, i, NULL);
		if (i == 0) {
			s->first = o->result;
			snprintf(s->record, sizeof(s->record), "%s", o->record);
			s->nrecords = o->nrecords;
			snprintf(s->problem, sizeof(s->problem), "%s", o->problem);
			s->over_limit = o->lookups > SPF_LOOKUP_MAX || o->voids > SPF_VOID_MAX;
		}
		if (o->result == SPF_TEMPERROR && r->dns_problem[0] == '\0')	/* English */
			util_strlcpy(r->dns_problem, o->problem, sizeof(r->dns_problem));
		if (o->result != SPF_PASS && o->result != SPF_TEMPERROR) {
			if (!s->have_insert)
				s->insert_at = o->insert_at, s->have_insert = true;
			o_len += (size_t)snprintf(r->spf_failing + o_len, sizeof(r->spf_failing) -
			    o_len, "%s%s", o_len ? ", " : "", env->ip[i]);
			if (o_len >= sizeof(r->spf_failing))
				o_len = sizeof(r->spf_failing) - 1;
		}
	}
}

static void
spf_report_ip(struct doctor_env *env, struct doctor_report *r, size_t i)
{
	enum spf_result res = spf_eval(env, r->domain, i, NULL);
	struct spf_outcome *o = env->outcome;
	struct doctor_check *c;

	if (res == SPF_PASS)
		/* TRANSLATORS: the relay's address, the domain whose record matched, the
		 * term that matched (e.g. ip4:198.18.0.5). */
		doctor_add(r, AREA_SPF, DOCTOR_PASS, _("SPF authorises %s: the record of %s passes"
		    " it (matched \"%s\")."), env->ip[i], o->term_domain, o->term);
	else if (res == SPF_TEMPERROR)
		/* TRANSLATORS: the relay's address, then the resolver's reason (English). */
		doctor_add(r, AREA_SPF, DOCTOR_WARN, _("SPF for %s could not be checked: %s"),
		    env->ip[i], o->problem);
	else if (o->term[0] != '\0') {
		/* TRANSLATORS: the relay's address, the SPF result (fail, softfail, neutral:
		 * RFC 7208's words), the term that matched, the domain whose record holds it. */
		c = doctor_add(r, AREA_SPF, DOCTOR_FAIL, _("SPF does not authorise %s: the result"
		    " is %s (matched \"%s\" in the record of %s)."), env->ip[i],
		    spf_result_name(res), o->term, o->term_domain);
		if (r->spf_fix[0] != '\0')
			zone_txt(r->domain, r->spf_fix, c->fix, sizeof(c->fix));
	} else {
		/* TRANSLATORS: the relay's address, the SPF result (RFC 7208's word). */
		c = doctor_add(r, AREA_SPF, DOCTOR_FAIL, _("SPF does not authorise %s: the result is"
		    " %s (no mechanism matched)."), env->ip[i], spf_result_name(res));
		if (r->spf_fix[0] != '\0')
			zone_txt(r->domain, r->spf_fix, c->fix, sizeof(c->fix));
	}
}

/* spf_insert_fix - the record with the missing ip4:/ip6: terms inserted; verified. */
static void
spf_insert_fix(struct doctor_env *env, struct doctor_report *r, const struct spf_seen *s)
{
	char mechs[DOCTOR_IPS_MAX * 56], fixed[SPF_RECORD_MAX + 1];

	ip_mechs(env, r, mechs, sizeof(mechs));
	if (mechs[0] == '\0' || spf_insert(s->record, s->insert_at, mechs, fixed,
	    sizeof(fixed)) == -1)
		return;
	if (passes_all(env, r->domain, fixed))
		snprintf(r->spf_fix, sizeof(r->spf_fix), "%s", fixed);
}

/* cmp_rr - TXT records in byte order (DNS gives an RRset in any order). */
static int
cmp_rr(const void *a, const void *b, void *arg)
{
	const struct dns_answer *ans = arg;
	size_t la, lb;
	const char *x = dns_answer_data(ans, *(const size_t *)a, &la);
	const char *y = dns_answer_data(ans, *(const size_t *)b, &lb);
	int c = memcmp(x, y, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* has_term - whether the record rec holds the term (any case). */
static bool
has_term(const char *rec, const char *term, size_t n)
{
	for (const char *p = rec; (p = strchr(p, ' ')) != NULL; p++)
		if (strncasecmp(p + 1, term, n) == 0 && (p[1 + n] == ' ' || p[1 + n] == '\0'))
			return true;
	return false;
}

/* spf_merge_one - the terms of one record into out (no duplicates); its all term into all. */
static size_t
spf_merge_one(const char *txt, size_t len, char *out, size_t o, size_t outsz, char *all,
    size_t allsz)
{
	char tok[SPF_RECORD_MAX + 2];
	size_t n;

	for (size_t p = 6; p < len; p += n) {
		while (p < len && txt[p] == ' ')
			p++;
		for (n = 0; p + n < len && txt[p + n] != ' '; n++)
			;
		if (n == 0)
			break;
		snprintf(tok, sizeof(tok), " %.*s", (int)n, txt + p);
		if (strcasecmp(tok + 1 + (strchr("+-~?", tok[1]) ? 1 : 0), "all") == 0) {
			if (all[0] == '\0')
				util_strlcpy(all, tok + 1, allsz);
		} else if (strncasecmp(tok + 1, "redirect=", 9) != 0 && !has_term(out, tok + 1, n) &&
		    o + n + 1 < outsz)
			o += (size_t)snprintf(out + o, outsz - o, "%s", tok);
	}
	return o;
}

/*
 * spf_merge - the SPF records of domain merged into one, in byte order of
 * the records, the first all term last, and every relay IP the terms do
 * not name yet; into out.
 */
static void
spf_merge(struct doctor_env *env, struct doctor_report *r, char *out, size_t outsz)
{
	char all[16] = "", mechs[DOCTOR_IPS_MAX * 56];
	size_t idx[DNS_ANSWER_MAX], n = 0, o, len, i;
	const char *txt;

	o = (size_t)snprintf(out, outsz, "v=spf1");
	if (query(env, r, r->domain, DNS_T_TXT) != DNS_OK)
		return;
	for (i = 0; i < env->ans->n; i++) {
		txt = dns_answer_data(env->ans, i, &len);
		if (spf_is_record(txt, len) && len <= SPF_RECORD_MAX)
			idx[n++] = i;
	}
	qsort_r(idx, n, sizeof(idx[0]), cmp_rr, env->ans);
	for (i = 0; i < n; i++) {
		txt = dns_answer_data(env->ans, idx[i], &len);
		o = spf_merge_one(txt, len, out, o, outsz, all, sizeof(all));
	}
	for (i = 0; i < env->nips; i++)
		r->spf[i] = SPF_FAIL;	/* ip_mechs: every relay IP */
	ip_mechs(env, r, mechs, sizeof(mechs));
	for (i = 0; i < env->nips; i++)
		r->spf[i] = SPF_PERMERROR;	/* what the records really give */
	for (char *m = strtok(mechs, " "); m != NULL; m = strtok(NULL, " "))
		if (!has_term(out, m, strlen(m)) && o + strlen(m) + 1 < outsz)
			o += (size_t)snprintf(out + o, outsz - o, " %s", m);
	if (o + strlen(all) + 1 < outsz)
		snprintf(out + o, outsz - o, " %s", all[0] ? all : "-all");
}

static void
spf_record_problem(struct doctor_env *env, struct doctor_report *r, const struct spf_seen *s)
{
	struct doctor_check *c;
	char mechs[DOCTOR_IPS_MAX * 56], merged[SPF_RECORD_MAX + 1];
	char rec[SPF_RECORD_MAX + 16], line[SPF_RECORD_MAX + DNS_NAME_MAX + 64];

	ip_mechs(env, r, mechs, sizeof(mechs));
	if (s->nrecords > 1) {
		c = doctor_add(r, AREA_SPF, DOCTOR_FAIL, ngettext("%s has %d SPF record (TXT records"
		    " starting with v=spf1); receivers treat that as an error (permerror).",
		    "%s has %d SPF records (TXT records starting with v=spf1); receivers treat"
		    " that as an error (permerror).", (unsigned long)s->nrecords), r->domain,
		    s->nrecords);
		spf_merge(env, r, merged, sizeof(merged));
		if (passes_all(env, r->domain, merged))
			snprintf(r->spf_fix, sizeof(r->spf_fix), "%s", merged);
		zone_txt(r->domain, merged, line, sizeof(line));
		/* TRANSLATORS: %s is the record to publish, a zone-file line. */
		snprintf(c->fix, sizeof(c->fix), _("Delete all of them but one, and make that one"
		    " hold what all of them said, for example: %s"), line);
		return;
	}
	/* TRANSLATORS: the domain, then what is wrong with its record. */
	c = doctor_add(r, AREA_SPF, DOCTOR_FAIL, _("The SPF record of %s is unusable (permerror):"
	    " %s"), r->domain, s->problem);
	if (s->over_limit)
		/* TRANSLATORS: %s is the SPF terms this relay needs, e.g. ip4:198.18.0.5. */
		snprintf(c->fix, sizeof(c->fix), _("Bring the record down to at most 10 DNS"
		    " lookups: replace include: terms by the ip4: and ip6: ranges they stand for,"
		    " and remove terms for services you no longer use. This relay needs: %s"),
		    mechs);
	else {
		snprintf(rec, sizeof(rec), "v=spf1 %s -all", mechs);
		zone_txt(r->domain, rec, line, sizeof(line));
		/* TRANSLATORS: the SPF terms this relay needs (e.g. ip4:198.18.0.5), the
		 * domain, a whole record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Correct or remove the term named above. This"
		    " relay needs: %s. If this relay is the only way mail leaves %s, this record"
		    " is enough: %s"), mechs, r->domain, line);
	}
}

static void
spf_facts(struct doctor_env *env, struct doctor_report *r)
{
	bool all = env->nips > 0, temp = false;

	for (size_t i = 0; i < env->nips; i++) {
		all &= r->spf[i] == SPF_PASS;
		temp |= r->spf[i] == SPF_TEMPERROR;
	}
	r->spf_pass = all ? TRI_YES : temp && r->spf_failing[0] == '\0' ? TRI_UNKNOWN : TRI_NO;
}

static void
check_spf(struct doctor_env *env, struct doctor_report *r)
{
	struct spf_seen *s = xcalloc(1, sizeof(*s));
	struct doctor_check *c;
	char mechs[DOCTOR_IPS_MAX * 56];

	if (env->nips == 0) {
		/* TRANSLATORS: %s says why the relay's addresses are unknown. */
		doctor_add(r, AREA_SPF, env->ip_temp ? DOCTOR_WARN : DOCTOR_FAIL, _("SPF cannot be"
		    " checked: %s"), env->ip_problem);
		r->spf_pass = env->ip_temp ? TRI_UNKNOWN : TRI_NO;
		if (env->ip_temp && r->dns_problem[0] == '\0')
			util_strlcpy(r->dns_problem, env->ip_why, sizeof(r->dns_problem));
		goto done;
	}
	spf_per_ip(env, r, s);
	spf_facts(env, r);
	ip_mechs(env, r, mechs, sizeof(mechs));
	if (s->first == SPF_NONE) {
		snprintf(r->spf_fix, sizeof(r->spf_fix), "v=spf1 %s -all", mechs);
		c = doctor_add(r, AREA_SPF, DOCTOR_FAIL, _("%s has no SPF record, so no address is"
		    " authorised to send its mail."), r->domain);
		zone_txt(r->domain, r->spf_fix, c->fix, sizeof(c->fix));
		goto done;
	}
	if (s->first == SPF_PERMERROR) {
		spf_record_problem(env, r, s);
		goto done;
	}
	if (r->spf_pass == TRI_NO)
		spf_insert_fix(env, r, s);
	for (size_t i = 0; i < env->nips; i++)
		spf_report_ip(env, r, i);
done:
	free(s);
}

/* --- DKIM --- */

struct key_list {
	size_t n;
	char selector[DKIM_KEYS_MAX][DKIM_SELECTOR_MAX + 1];
	char keyfile[DKIM_KEYS_MAX][1024];
};

static void
collect_key(void *arg, const char *const *cols, int ncols)
{
	struct key_list *k = arg;

	if (k->n >= DKIM_KEYS_MAX || ncols < 3)
		return;
	util_strlcpy(k->selector[k->n], cols[0], sizeof(k->selector[0]));
	util_strlcpy(k->keyfile[k->n], cols[2], sizeof(k->keyfile[0]));
	k->n++;
}

/* find_keys - the keys of domain or its closest parent with some; *d gets that domain. */
static int
find_keys(struct store *st, const char *domain, const char **d, struct key_list *k)
{
	k->n = 0;
	for (*d = domain; st != NULL && *d != NULL; *d = dkim_parent_domain(*d)) {
		if (store_dkim_for_domain(st, *d, collect_key, k) != STORE_OK)
			return -1;
		if (k->n > 0)
			return 0;
	}
	return 0;
}

struct dkim_state {
	bool usable, temp;
	char d[DNS_NAME_MAX + 1];	/* the domain of the keys */
};

/* dkim_publish_fix - the record a key needs, as the fix of c. */
static void
dkim_publish_fix(struct doctor_check *c, const char *name, const char *txt)
{
	zone_txt(name, txt, c->fix, sizeof(c->fix));
}

/* dkim_published - compare the record at name with the local key's record want. */
static void
dkim_published(struct doctor_env *env, struct doctor_report *r, const char *name,
    const char *want, int bits, struct dkim_state *ds)
{
	struct dkim_keyrec pub, local;
	char err[300], cmd[DNS_NAME_MAX + 64];
	size_t len, i, n = 0, at = 0;
	const char *txt;
	struct doctor_check *c;
	enum dns_status st = query(env, r, name, DNS_T_TXT);

	if (st == DNS_TEMPFAIL) {
		/* TRANSLATORS: the key's DNS name, then the resolver's reason (English). */
		doctor_add(r, AREA_DKIM, DOCTOR_WARN, _("The DKIM key at %s could not be checked:"
		    " %s"), name, env->ans->why);
		ds->temp = true;
		return;
	}
	for (i = 0; st == DNS_OK && i < env->ans->n; i++)
		n++, at = i;
	if (n == 0) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The DKIM key %s is not published:"
		    " receivers cannot verify the signatures made with it."), name);
		dkim_publish_fix(c, name, want);
		return;
	}
	if (n > 1) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, ngettext("%s has %zu TXT record; a DKIM"
		    " key needs exactly one.", "%s has %zu TXT records; a DKIM key needs exactly"
		    " one.", (unsigned long)n), name, n);
		dkim_publish_fix(c, name, want);
		return;
	}
	txt = dns_answer_data(env->ans, at, &len);
	dkim_keyrec_parse(want, strlen(want), &local, err, sizeof(err));
	if (dkim_keyrec_parse(txt, len, &pub, err, sizeof(err)) == -1) {
		/* TRANSLATORS: the key's DNS name, then what is wrong with the record. */
		c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The DKIM record at %s is malformed:"
		    " %s."), name, err);
		dkim_publish_fix(c, name, want);
		return;
	}
	if (pub.revoked || pub.k != local.k || strcmp(pub.p, local.p) != 0) {
		if (pub.revoked)
			c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The DKIM key at %s is revoked"
			    " (empty p=), but hikyaku signs with it."), name);
		else
			c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The DKIM key published at %s is"
			    " not the one hikyaku signs with."), name);
		dkim_publish_fix(c, name, want);
		return;
	}
	snprintf(cmd, sizeof(cmd), "hikyaku dkim keygen %s --selector NEW", ds->d);
	if (local.k == DKIM_KEY_RSA && bits < 1024) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The DKIM key at %s is RSA of %d bits;"
		    " receivers ignore RSA keys shorter than 1024 bits."), name, bits);
		/* TRANSLATORS: %s is a command to run, with NEW for a new selector's name. */
		snprintf(c->fix, sizeof(c->fix), _("Make a new key with \"%s\" (RSA 2048), publish"
		    " it, then delete this one."), cmd);
		return;
	}
	ds->usable = true;
	if (local.k == DKIM_KEY_RSA && bits < 2048) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_WARN, _("The DKIM key at %s is published and"
		    " matches, but it is RSA of only %d bits; 2048 is what receivers expect."),
		    name, bits);
		/* TRANSLATORS: %s is a command to run, with NEW for a new selector's name. */
		snprintf(c->fix, sizeof(c->fix), _("Make a new key with \"%s\" (RSA 2048), publish"
		    " it, then delete this one with \"hikyaku dkim del\"."), cmd);
	} else if (pub.testing) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_WARN, _("The DKIM key at %s matches, but says"
		    " t=y (testing): receivers may treat its signatures as absent."), name);
		dkim_publish_fix(c, name, want);
	} else
		/* TRANSLATORS: the key's DNS name, the algorithm (RSA or Ed25519), its size. */
		doctor_add(r, AREA_DKIM, DOCTOR_PASS, _("The DKIM key at %s is published and"
		    " matches the local key (%s, %d bits)."), name, local.k == DKIM_KEY_RSA ?
		    "RSA" : "Ed25519", bits);
}

static void
dkim_one(struct doctor_env *env, struct doctor_report *r, struct key_list *k, size_t i,
    struct dkim_state *ds)
{
	char path[2048], name[DNS_NAME_MAX + DKIM_SELECTOR_MAX + 16], err[512], *txt;
	struct dkim_key *key;

	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector[i], ds->d);
	if (k->keyfile[i][0] == '/')
		snprintf(path, sizeof(path), "%s", k->keyfile[i]);
	else
		snprintf(path, sizeof(path), "%s/%s", env->cfg->spool, k->keyfile[i]);
	if ((key = dkim_key_load(path, err, sizeof(err))) == NULL) {
		/* TRANSLATORS: the key's DNS name, why it cannot be read, the domain. */
		doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("The local DKIM key %s cannot be read: %s;"
		    " messages of %s get \"451 4.3.0\"."), name, err, r->domain);
		return;
	}
	txt = dkim_key_txt(key);
	dkim_published(env, r, name, txt, dkim_key_bits(key), ds);
	free(txt);
	dkim_key_free(key);
}

/* aligned - whether d= a aligns with the From: domain b (RFC 7489 section 3.1.1). */
static bool
aligned(struct doctor_env *env, const char *a, const char *b, bool strict)
{
	char oa[DNS_NAME_MAX + 1], ob[DNS_NAME_MAX + 1];

	if (strcasecmp(a, b) == 0)
		return true;
	if (strict || org_domain(env->psl, env->psllen, a, oa, sizeof(oa)) == -1 ||
	    org_domain(env->psl, env->psllen, b, ob, sizeof(ob)) == -1)
		return false;
	return strcmp(oa, ob) == 0;
}

static void
check_dkim(struct doctor_env *env, struct doctor_report *r, struct dkim_state *ds)
{
	struct key_list *k = xcalloc(1, sizeof(*k));
	struct doctor_check *c;
	char cmd[DNS_NAME_MAX + 32];
	const char *d;

	if (find_keys(env->st, r->domain, &d, k) == -1) {
		doctor_add(r, AREA_DKIM, DOCTOR_WARN, _("The local DKIM keys cannot be read: %s."),
		    store_errmsg(env->st));
		ds->temp = true;
	} else if (k->n == 0) {
		c = doctor_add(r, AREA_DKIM, DOCTOR_FAIL, _("%s has no DKIM key: hikyaku relays its"
		    " mail unsigned."), r->domain);
		snprintf(cmd, sizeof(cmd), "hikyaku dkim keygen %s", r->domain);
		/* TRANSLATORS: %s is a command to run. */
		snprintf(c->fix, sizeof(c->fix), _("Run \"%s\" and publish the TXT record it"
		    " prints."), cmd);
	} else {
		snprintf(ds->d, sizeof(ds->d), "%s", d);
		for (size_t i = 0; i < k->n; i++)
			dkim_one(env, r, k, i, ds);
	}
	r->dkim_usable = ds->usable ? TRI_YES : ds->temp ? TRI_UNKNOWN : TRI_NO;
	free(k);
}

/* --- DMARC --- */

/* dmarc_fetch - the one DMARC record at _dmarc.name: 1 found, 0 none, -1 temp, -2 several. */
static int
dmarc_fetch(struct doctor_env *env, struct doctor_report *r, const char *name, char *out,
    size_t outsz)
{
	char q[DNS_NAME_MAX + 16];
	size_t len, i;
	const char *txt;
	int found = 0;
	enum dns_status st;

	snprintf(q, sizeof(q), "_dmarc.%s", name);
	if ((st = query(env, r, q, DNS_T_TXT)) == DNS_TEMPFAIL)
		return -1;
	for (i = 0; st == DNS_OK && i < env->ans->n; i++) {
		txt = dns_answer_data(env->ans, i, &len);
		if (!dmarc_is_record(txt, len))
			continue;
		if (found++ == 0)
			snprintf(out, outsz, "%.*s", (int)(len < outsz ? len : outsz - 1), txt);
	}
	return found > 1 ? -2 : found;
}

static void
dmarc_suggest(const struct doctor_report *r, const char *at, const struct dmarc_record *d,
    char *out, size_t outsz)
{
	char name[DNS_NAME_MAX + 16], rec[600];

	snprintf(name, sizeof(name), "_dmarc.%s", at);
	snprintf(rec, sizeof(rec), "v=DMARC1; p=quarantine; rua=%s",
	    d != NULL && d->nrua > 0 ? d->rua[0] : "mailto:postmaster@");
	if (d == NULL || d->nrua == 0)
		snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), "%s", at);
	zone_txt(name, rec, out, outsz);
}

static void
dmarc_alignment(struct doctor_env *env, struct doctor_report *r, const struct dmarc_record *d,
    const struct dkim_state *ds)
{
	bool dkim_ok = ds->usable && aligned(env, ds->d, r->domain, d->strict_dkim);
	struct doctor_check *c;

	r->dkim_aligned = dkim_ok ? TRI_YES : ds->temp ? TRI_UNKNOWN : TRI_NO;
	if (r->spf_pass == TRI_YES || dkim_ok)
		return;
	if (r->spf_pass == TRI_UNKNOWN || ds->temp) {
		/* TRANSLATORS: the domain, then the resolver's reason (English). */
		doctor_add(r, AREA_DMARC, DOCTOR_WARN, _("Whether DMARC can pass for %s could not be"
		    " checked: %s"), r->domain, r->dns_problem);
		return;
	}
	if (ds->usable && d->strict_dkim)
		c = doctor_add(r, AREA_DMARC, DOCTOR_FAIL, _("DMARC cannot pass for %s: SPF does not"
		    " pass for every relay address, and no DKIM key with an aligned d= is usable"
		    " (adkim=s wants d= to equal the From: domain exactly)."), r->domain);
	else
		c = doctor_add(r, AREA_DMARC, DOCTOR_FAIL, _("DMARC cannot pass for %s: SPF does not"
		    " pass for every relay address, and no DKIM key with an aligned d= is usable."),
		    r->domain);
	if (r->spf_fix[0] != '\0')
		zone_txt(r->domain, r->spf_fix, c->fix, sizeof(c->fix));
	else
		snprintf(c->fix, sizeof(c->fix), "%s", _("Fix SPF or DKIM as the checks above say."));
}

static void
dmarc_policy(struct doctor_report *r, const char *at, const struct dmarc_record *d)
{
	enum dmarc_policy p = strcmp(at, r->domain) == 0 ? d->p : d->sp;
	char rec[DOCTOR_FIX_MAX];
	struct doctor_check *c;

	dmarc_suggest(r, at, d, rec, sizeof(rec));
	if (p == DMARC_NONE) {
		/* TRANSLATORS: the domain, then the domain whose _dmarc record applies. */
		c = doctor_add(r, AREA_DMARC, DOCTOR_WARN, _("The DMARC policy for %s (from"
		    " _dmarc.%s) is p=none: receivers report, but do nothing against forgeries."),
		    r->domain, at);
		/* TRANSLATORS: %.*s is the record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Once the reports show that your own mail"
		    " passes, ask for more: %.*s"), DOCTOR_FIX_MAX / 2, rec);
	} else if (d->nrua > 0)
		/* TRANSLATORS: the domain, the domain whose _dmarc record applies, the policy
		 * (none, quarantine or reject: the record's own words). */
		doctor_add(r, AREA_DMARC, DOCTOR_PASS, _("The DMARC policy for %s (from _dmarc.%s)"
		    " is p=%s."), r->domain, at, dmarc_policy_name(p));
	else {
		/* TRANSLATORS: the domain, the domain whose _dmarc record applies, the policy
		 * (none, quarantine or reject: the record's own words). */
		c = doctor_add(r, AREA_DMARC, DOCTOR_PASS, _("The DMARC policy for %s (from"
		    " _dmarc.%s) is p=%s; it names no rua= address, so you get no reports."),
		    r->domain, at, dmarc_policy_name(p));
		/* TRANSLATORS: %.*s is the record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Advice: add rua= to receive reports: %.*s"),
		    DOCTOR_FIX_MAX / 2, rec);
	}
}

static void
check_dmarc(struct doctor_env *env, struct doctor_report *r, const struct dkim_state *ds)
{
	char org[DNS_NAME_MAX + 1], text[DNSREC_MAX + 1], err[300];
	const char *at = r->domain;
	struct dmarc_record d;
	struct doctor_check *c;
	int got = dmarc_fetch(env, r, at, text, sizeof(text));

	if (got == 0 && org_domain(env->psl, env->psllen, r->domain, org, sizeof(org)) == 0 &&
	    strcmp(org, r->domain) != 0)
		got = dmarc_fetch(env, r, at = org, text, sizeof(text));
	r->dmarc = got == 1 ? TRI_YES : got == -1 ? TRI_UNKNOWN : TRI_NO;
	if (got == -1) {
		/* TRANSLATORS: the domain, then the resolver's reason (English). */
		doctor_add(r, AREA_DMARC, DOCTOR_WARN, _("The DMARC record of %s could not be"
		    " checked: %s"), r->domain, env->ans->why);
		return;
	}
	if (got == -2) {
		c = doctor_add(r, AREA_DMARC, DOCTOR_FAIL, _("_dmarc.%s has more than one DMARC"
		    " record, so receivers apply none of them."), at);
		dmarc_suggest(r, at, NULL, c->fix, sizeof(c->fix));
		return;
	}
	if (got == 0) {
		c = doctor_add(r, AREA_DMARC, DOCTOR_WARN, _("%s has no DMARC record; Gmail and"
		    " Yahoo require one from bulk senders."), r->domain);
		dmarc_suggest(r, r->domain, NULL, c->fix, sizeof(c->fix));
		return;
	}
	if (dmarc_parse(text, strlen(text), &d, err, sizeof(err)) == -1) {
		r->dmarc = TRI_NO;
		/* TRANSLATORS: the domain, then what is wrong with its record. */
		c = doctor_add(r, AREA_DMARC, DOCTOR_FAIL, _("The DMARC record at _dmarc.%s is"
		    " malformed (%s), so receivers ignore it."), at, err);
		dmarc_suggest(r, at, NULL, c->fix, sizeof(c->fix));
		return;
	}
	dmarc_policy(r, at, &d);
	dmarc_alignment(env, r, &d, ds);
}

/* --- the relay's name --- */

/* confirmed - whether name has an address equal to relay IP i. */
static enum dns_status
confirmed(struct doctor_env *env, struct doctor_report *r, const char *name, size_t i,
    bool *yes)
{
	const struct spf_ip *ip = &env->ips[i];
	size_t len, k;
	const char *a;
	enum dns_status st = query(env, r, name, ip->family == AF_INET ? DNS_T_A : DNS_T_AAAA);

	*yes = false;
	for (k = 0; st == DNS_OK && k < env->ans->n && !*yes; k++) {
		a = dns_answer_data(env->ans, k, &len);
		*yes = len == (ip->family == AF_INET ? 4u : 16u) && memcmp(a, ip->addr, len) == 0;
	}
	return st;
}

static enum tri
ptr_one(struct doctor_env *env, struct doctor_report *r, size_t i)
{
	char rev[80], names[4][DNS_NAME_MAX + 1], good[DNS_NAME_MAX + 1] = "";
	char line[DNS_NAME_MAX + 80];
	const char *h = env->cfg->hostname;
	struct doctor_check *c;
	size_t n, k, len;
	bool yes;
	enum dns_status st;

	dns_reverse_name(env->ips[i].family, env->ips[i].addr, NULL, rev, sizeof(rev));
	if ((st = query(env, r, rev, DNS_T_PTR)) == DNS_TEMPFAIL) {
		/* TRANSLATORS: the relay's address, then the resolver's reason (English). */
		doctor_add(r, AREA_PTR, DOCTOR_WARN, _("The PTR of %s could not be checked: %s"),
		    env->ip[i], env->ans->why);
		return TRI_UNKNOWN;
	}
	if (st != DNS_OK) {
		c = doctor_add(r, AREA_PTR, DOCTOR_FAIL, _("%s has no PTR record (reverse DNS);"
		    " Gmail and Yahoo refuse or junk mail from such addresses."), env->ip[i]);
		zone_addr(h, &env->ips[i], env->ip[i], line, sizeof(line));
		/* TRANSLATORS: the relay's address, hikyaku's hostname, and the address
		 * record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Ask the provider of %s to set its reverse DNS"
		    " (PTR) to %s, and publish %s"), env->ip[i], h, line);
		return TRI_NO;
	}
	n = env->ans->n < 4 ? env->ans->n : 4;
	for (k = 0; k < n; k++)
		snprintf(names[k], sizeof(names[k]), "%s", dns_answer_data(env->ans, k, &len));
	for (k = 0; k < n && good[0] == '\0'; k++)
		if (confirmed(env, r, names[k], i, &yes) == DNS_OK && yes)
			util_strlcpy(good, names[k], sizeof(good));
	if (good[0] == '\0') {
		/* TRANSLATORS: the relay's address, its PTR name, the PTR name again, the
		 * address again. */
		c = doctor_add(r, AREA_PTR, DOCTOR_FAIL, _("The PTR of %s is %s, but %s does not"
		    " resolve back to %s (no forward-confirmed reverse DNS)."), env->ip[i], names[0],
		    names[0], env->ip[i]);
		zone_addr(names[0], &env->ips[i], env->ip[i], line, sizeof(line));
		/* TRANSLATORS: the address record to publish (a zone-file line), then the
		 * relay's address. */
		snprintf(c->fix, sizeof(c->fix), _("Publish %s (or have the PTR set to a name that"
		    " resolves to %s)."), line, env->ip[i]);
		return TRI_NO;
	}
	if (strcasecmp(good, h) != 0) {
		/* TRANSLATORS: the relay's address, its PTR name, hikyaku's hostname. */
		c = doctor_add(r, AREA_PTR, DOCTOR_WARN, _("The PTR of %s is %s, which resolves"
		    " back, but hikyaku's hostname (what it says in EHLO) is %s."), env->ip[i], good,
		    h);
		snprintf(line, sizeof(line), "hostname %s", good);
		/* TRANSLATORS: a configuration line, the relay's address, hikyaku's hostname. */
		snprintf(c->fix, sizeof(c->fix), _("Set \"%s\" in the configuration, or have the"
		    " PTR of %s changed to %s."), line, env->ip[i], h);
		return TRI_YES;
	}
	/* TRANSLATORS: the relay's address, then its PTR name. */
	doctor_add(r, AREA_PTR, DOCTOR_PASS, _("%s has the PTR %s, which resolves back to it and"
	    " is hikyaku's hostname."), env->ip[i], good);
	return TRI_YES;
}

static void
check_ptr(struct doctor_env *env, struct doctor_report *r)
{
	enum tri all = env->nips > 0 ? TRI_YES : TRI_NO, t;

	if (env->nips == 0) {
		doctor_add(r, AREA_PTR, env->ip_temp ? DOCTOR_WARN : DOCTOR_FAIL, "%s",
		    env->ip_problem);	/* translated in hostname_ips */
		all = env->ip_temp ? TRI_UNKNOWN : TRI_NO;
	}
	for (size_t i = 0; i < env->nips; i++) {
		t = ptr_one(env, r, i);
		if (t == TRI_NO || (t == TRI_UNKNOWN && all == TRI_YES))
			all = t;
	}
	r->fcrdns = all;
}

/* --- blocklists --- */

static void
dnsbl_listed(struct doctor_env *env, struct doctor_report *r, size_t i, const char *zone,
    const char *q, const uint8_t *a)
{
	char text[300] = "";
	size_t len;
	struct doctor_check *c;
	const char *t;

	if (query(env, r, q, DNS_T_TXT) == DNS_OK) {
		t = dns_answer_data(env->ans, 0, &len);
		util_escape(t, len, text, sizeof(text));
	}
	if (text[0] != '\0')
		/* TRANSLATORS: the relay's address, the blocklist's zone, the code it
		 * answered (127.0.0.x), the list's own text (in its language). */
		c = doctor_add(r, AREA_DNSBL, DOCTOR_FAIL, _("%s is listed on the blocklist %s"
		    " (%u.%u.%u.%u): %s"), env->ip[i], zone, a[0], a[1], a[2], a[3], text);
	else
		/* TRANSLATORS: the relay's address, the blocklist's zone, the code it
		 * answered (127.0.0.x). */
		c = doctor_add(r, AREA_DNSBL, DOCTOR_FAIL, _("%s is listed on the blocklist %s"
		    " (%u.%u.%u.%u): the list gives no text."), env->ip[i], zone, a[0], a[1], a[2],
		    a[3]);
	/* TRANSLATORS: %s is the blocklist's zone, e.g. zen.spamhaus.org. */
	snprintf(c->fix, sizeof(c->fix), _("Find out why (an open relay, a compromised account,"
	    " or an earlier tenant of the address), fix it, then ask %s for removal at its"
	    " web site; the text above usually names the page. A new address from your VPS"
	    " provider is the quick way out."), zone);
	if (r->listed != TRI_YES) {
		snprintf(r->listed_ip, sizeof(r->listed_ip), "%s", env->ip[i]);
		snprintf(r->listed_zone, sizeof(r->listed_zone), "%s", zone);
	}
	r->listed = TRI_YES;
}

/* dnsbl_one - relay IP i on zone: 0 not listed, 1 listed, -1 unknown. */
static int
dnsbl_one(struct doctor_env *env, struct doctor_report *r, size_t i, const char *zone)
{
	char q[DNS_NAME_MAX + 80];
	uint8_t code[4];
	const uint8_t *a;
	size_t len;
	enum dns_status st;

	if (dns_reverse_name(env->ips[i].family, env->ips[i].addr, zone, q, sizeof(q)) == -1)
		return 0;
	if ((st = query(env, r, q, DNS_T_A)) == DNS_TEMPFAIL) {
		/* TRANSLATORS: the blocklist's zone, the relay's address, the resolver's
		 * reason (English). */
		doctor_add(r, AREA_DNSBL, DOCTOR_WARN, _("The blocklist %s could not be asked about"
		    " %s: %s"), zone, env->ip[i], env->ans->why);
		return -1;
	}
	if (st != DNS_OK)
		return 0;
	a = (const uint8_t *)dns_answer_data(env->ans, 0, &len);
	if (len != sizeof(code))
		return 0;
	memcpy(code, a, sizeof(code));	/* the TXT query of a listing reuses the answer */
	a = code;
	if (a[0] != 127 || (a[1] == 255 && a[2] == 255)) {
		/* TRANSLATORS: the blocklist's zone, the address it answered, the relay's
		 * address. */
		doctor_add(r, AREA_DNSBL, DOCTOR_WARN, _("The blocklist %s answered %u.%u.%u.%u"
		    " about %s, which is not a listing but an error (the list may refuse queries"
		    " that come through a public resolver)."), zone, a[0], a[1], a[2], a[3],
		    env->ip[i]);
		return -1;
	}
	dnsbl_listed(env, r, i, zone, q, a);
	return 1;
}

static void
check_dnsbl(struct doctor_env *env, struct doctor_report *r)
{
	const struct config *cfg = env->cfg;
	const char *const *zones = cfg->ndnsbl > 0 ? (const char *const *)cfg->dnsbl :
	    config_default_dnsbl;
	size_t nz = cfg->ndnsbl, i, z;
	int unknown = 0, listed = 0, rc;

	if (cfg->ndnsbl == 0)
		for (nz = 0; config_default_dnsbl[nz] != NULL; nz++)
			;
	r->listed = env->nips == 0 && env->ip_temp ? TRI_UNKNOWN : TRI_NO;
	if (cfg->dnsbl_none || env->nips == 0)
		return;
	for (i = 0; i < env->nips; i++) {
		int here = 0;

		for (z = 0; z < nz; z++) {
			rc = dnsbl_one(env, r, i, zones[z]);
			here += rc == 1;
			unknown += rc == -1;
		}
		if (here == 0)
			/* TRANSLATORS: the relay's address, the number of blocklists asked. */
			doctor_add(r, AREA_DNSBL, DOCTOR_PASS, ngettext("%s is not on the %zu"
			    " blocklist checked.", "%s is on none of the %zu blocklists checked.",
			    (unsigned long)nz), env->ip[i], nz);
		listed += here;
	}
	if (listed == 0 && unknown > 0)
		r->listed = TRI_UNKNOWN;
}

/* --- MX, MTA-STS, TLS-RPT --- */

static void
check_mx(struct doctor_env *env, struct doctor_report *r)
{
	char hosts[3 * (DNS_NAME_MAX + 2) + 8] = "", line[DNS_NAME_MAX + 200];
	struct doctor_check *c;
	size_t len, n, i, o = 0;
	enum dns_status st = query(env, r, r->domain, DNS_T_MX);

	if (st == DNS_TEMPFAIL) {
		/* TRANSLATORS: the domain, then the resolver's reason (English). */
		doctor_add(r, AREA_MX, DOCTOR_WARN, _("The MX of %s could not be checked: %s"),
		    r->domain, env->ans->why);
		return;
	}
	n = st == DNS_OK ? env->ans->n : 0;
	if (n == 1 && dns_answer_data(env->ans, 0, &len)[0] == '\0') {
		c = doctor_add(r, AREA_MX, DOCTOR_FAIL, _("%s has a null MX (\"MX 0 .\"): it says"
		    " it receives no mail, so replies and bounces to your mail are lost."),
		    r->domain);
		zone_mx(r->domain, line, sizeof(line));
		/* TRANSLATORS: %s is the MX record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Replace it with %s."), line);
		return;
	}
	if (n == 0) {
		c = doctor_add(r, AREA_MX, DOCTOR_FAIL, _("%s has no MX record: replies and bounces"
		    " to your mail may not reach you, and some receivers refuse senders whose"
		    " domain cannot receive."), r->domain);
		zone_mx(r->domain, line, sizeof(line));
		/* TRANSLATORS: %s is the MX record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Publish %s."), line);
		return;
	}
	for (i = 0; i < n && i < 3; i++)
		o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "%s%s", i ? ", " : "",
		    dns_answer_data(env->ans, i, &len));
	if (n > 3)
		snprintf(hosts + o, sizeof(hosts) - o, ", ...");
	/* TRANSLATORS: the domain, the number of MX records, the first names they give. */
	doctor_add(r, AREA_MX, DOCTOR_PASS, ngettext("%s receives mail: %zu MX record (%s).",
	    "%s receives mail: %zu MX records (%s).", (unsigned long)n), r->domain, n, hosts);
}

/* policy_txt - the one record at name for which is_rec holds: 1, 0 none, -1 temp, -2 several. */
/* tlsrec_why - what is wrong with an MTA-STS or TLS-RPT record, for people. */
static const char *
tlsrec_why(enum tlsrec_error why, const char *version)
{
	switch (why) {
	case TLSREC_VERSION:
		return strcmp(version, "v=STSv1") == 0 ? _("the record does not start with v=STSv1") :
		    _("the record does not start with v=TLSRPTv1");
	case TLSREC_SYNTAX:
		return _("a field is not name=value, or two fields are not separated by ';'");
	case TLSREC_ID:
		return _("id= is not 1 to 32 letters and digits");
	case TLSREC_NO_ID:
		return _("the record has no id= tag");
	case TLSREC_RUA:
		return _("rua= has an empty entry");
	case TLSREC_NO_RUA:
		return _("the record has no rua= tag (where reports go)");
	case TLSREC_RUA_UNUSABLE:
		return _("rua= names no valid mailto: address and no https: URL");
	case TLSREC_OK:
		break;
	}
	return "?";
}

static int
policy_txt(struct doctor_env *env, struct doctor_report *r, const char *name,
    bool (*is_rec)(const char *), char *out, size_t outsz)
{
	char one[DNSREC_MAX + 1];
	size_t len, i;
	const char *txt;
	int found = 0;
	enum dns_status st = query(env, r, name, DNS_T_TXT);

	if (st == DNS_TEMPFAIL)
		return -1;
	for (i = 0; st == DNS_OK && i < env->ans->n; i++) {
		txt = dns_answer_data(env->ans, i, &len);
		snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1),
		    txt);
		if (is_rec(one) && found++ == 0)
			util_strlcpy(out, one, outsz);
	}
	return found > 1 ? -2 : found;
}

static void
check_mtasts(struct doctor_env *env, struct doctor_report *r)
{
	char name[DNS_NAME_MAX + 16], text[DNSREC_MAX + 1], id[STS_ID_MAX + 1];
	char line[DNS_NAME_MAX + 64];
	struct doctor_check *c;
	enum tlsrec_error why;
	int got;

	snprintf(name, sizeof(name), "_mta-sts.%s", r->domain);
	got = policy_txt(env, r, name, sts_txt_is_sts, text, sizeof(text));
	if (got == -1)
		/* TRANSLATORS: the record's DNS name, then the resolver's reason (English). */
		doctor_add(r, AREA_MTASTS, DOCTOR_WARN, _("The MTA-STS record %s could not be"
		    " checked: %s"), name, env->ans->why);
	else if (got == 0)
		doctor_add(r, AREA_MTASTS, DOCTOR_PASS, _("%s publishes no MTA-STS record (optional;"
		    " it protects mail sent to you)."), r->domain);
	else if (got == -2) {
		c = doctor_add(r, AREA_MTASTS, DOCTOR_FAIL, _("%s has more than one MTA-STS record,"
		    " so senders ignore the policy."), name);
		zone_txt(name, "v=STSv1; id=20240101T000000", line, sizeof(line));
		/* TRANSLATORS: %s is the record to keep (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("Keep one: %s"), line);
	} else if (sts_txt_parse(text, id, &why) == -1) {
		/* TRANSLATORS: the record's DNS name, then what is wrong with it. */
		c = doctor_add(r, AREA_MTASTS, DOCTOR_FAIL, _("The MTA-STS record %s is malformed:"
		    " %s."), name, tlsrec_why(why, "v=STSv1"));
		zone_txt(name, "v=STSv1; id=20240101T000000", line, sizeof(line));
		/* TRANSLATORS: %s is the record to publish (a zone-file line). */
		snprintf(c->fix, sizeof(c->fix), _("%s (change id= whenever the policy file"
		    " changes)"), line);
	} else
		/* TRANSLATORS: the record's DNS name, then its id= value. */
		doctor_add(r, AREA_MTASTS, DOCTOR_PASS, _("The MTA-STS record %s is valid (id=%s);"
		    " the policy file itself is not fetched here."), name, id);
}

static void
check_tlsrpt(struct doctor_env *env, struct doctor_report *r)
{
	char name[DNS_NAME_MAX + 16], text[DNSREC_MAX + 1];
	struct doctor_check *c;
	struct tlsrpt_rua rua;
	enum tlsrec_error why = TLSREC_OK;
	int got, n;

	snprintf(name, sizeof(name), "_smtp._tls.%s", r->domain);
	got = policy_txt(env, r, name, tlsrpt_txt_is_rpt, text, sizeof(text));
	if (got == 1 && tlsrpt_txt_parse(text, &rua, &why) == 0) {
		n = (int)rua.n;
		/* TRANSLATORS: the record's DNS name, the number of addresses in its rua=. */
		doctor_add(r, AREA_TLSRPT, DOCTOR_PASS, ngettext("The TLS-RPT record %s is valid"
		    " (%d report address).", "The TLS-RPT record %s is valid (%d report"
		    " addresses).", (unsigned long)n), name, n);
		return;
	}
	if (got == -1) {
		/* TRANSLATORS: the record's DNS name, then the resolver's reason (English). */
		doctor_add(r, AREA_TLSRPT, DOCTOR_WARN, _("The TLS-RPT record %s could not be"
		    " checked: %s"), name, env->ans->why);
		return;
	}
	if (got == 0) {
		doctor_add(r, AREA_TLSRPT, DOCTOR_PASS, _("%s publishes no TLS-RPT record"
		    " (optional)."), r->domain);
		return;
	}
	if (got == -2)
		c = doctor_add(r, AREA_TLSRPT, DOCTOR_FAIL, _("%s has more than one TLS-RPT record,"
		    " so senders send no reports."), name);
	else
		/* TRANSLATORS: the record's DNS name, then what is wrong with it. */
		c = doctor_add(r, AREA_TLSRPT, DOCTOR_FAIL, _("The TLS-RPT record %s is malformed:"
		    " %s."), name, tlsrec_why(why, "v=TLSRPTv1"));
	snprintf(text, sizeof(text), "v=TLSRPTv1; rua=mailto:postmaster@%s", r->domain);
	zone_txt(name, text, c->fix, sizeof(c->fix));	/* the record alone: data */
}

void
doctor_run(struct doctor_env *env, const char *domain, struct doctor_report *r)
{
	struct dkim_state ds = { false, false, "" };

	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	r->nips = env->nips;
	memcpy(r->ip, env->ip, sizeof(r->ip));
	check_spf(env, r);
	check_dkim(env, r, &ds);
	check_dmarc(env, r, &ds);
	check_ptr(env, r);
	check_dnsbl(env, r);
	check_mx(env, r);
	check_mtasts(env, r);
	check_tlsrpt(env, r);
}

/* --- the granted domains --- */

struct domains {
	char (*d)[DNS_NAME_MAX + 1];
	size_t n, max;
};

static void
collect_domain(void *arg, const char *const *cols, int ncols)
{
	struct domains *g = arg;
	const char *at = strrchr(cols[1], '@');
	char d[DNS_NAME_MAX + 1];
	size_t i;

	if (at == NULL || strlen(at + 1) == 0 || strlen(at + 1) > DNS_NAME_MAX || g->n >= g->max)
		return;
	for (i = 0; at[1 + i] != '\0'; i++)
		d[i] = (char)tolower((unsigned char)at[1 + i]);
	d[i] = '\0';
	for (i = 0; i < g->n; i++)
		if (strcmp(g->d[i], d) == 0)
			return;
	memcpy(g->d[g->n++], d, sizeof(d));
}

static int
cmp_domain(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
doctor_domains(struct store *st, char (*out)[DNS_NAME_MAX + 1], size_t max)
{
	struct domains g = { out, 0, max };

	if (store_grant_list(st, NULL, collect_domain, &g) != STORE_OK)
		return -1;
	qsort(out, g.n, sizeof(out[0]), cmp_domain);
	return (int)g.n;
}
