/*
 * home_config.c - write a home MTA's configuration for sending through
 * hikyaku. Every value printed was checked by the caller (host names,
 * account names, paths) or here (the password), so nothing can break out
 * of the line it is written into.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "home/home_config.h"
#include "lib/i18n.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static const char *const mta_names[] = { "postfix", "opensmtpd", "exim", "msmtp", "nullmailer" };

int
home_config_mta(const char *name, enum home_mta *out)
{
	size_t i;

	for (i = 0; i < sizeof(mta_names) / sizeof(mta_names[0]); i++)
		if (strcmp(name, mta_names[i]) == 0) {
			*out = (enum home_mta)i;
			return 0;
		}
	return -1;
}

bool
home_config_password_ok(const char *pw)
{
	if (*pw == '\0')
		return false;
	for (; *pw; pw++)
		if (!isalnum((unsigned char)*pw) && !strchr("-_.+=!%@/,~*", *pw))
			return false;
	return true;
}

static const char *
password(const struct home_config *hc)
{
	return hc->password != NULL && home_config_password_ok(hc->password) ? hc->password
	    : "PASSWORD";
}

static const char *
ca_file(const struct home_config *hc)
{
	return hc->cafile ? hc->cafile : SYSTEM_CA_BUNDLE;
}

static void
block(FILE *out, const char *what)
{
	fprintf(out, "# --- %s ---\n", what);
}

/* comment - text as "# " lines. */
static void
comment(FILE *out, const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		fprintf(out, "# %.*s\n", nl ? (int)(nl - text) : (int)strlen(text), text);
		if (nl == NULL)
			break;
	}
}

static void
header(const struct home_config *hc, FILE *out)
{
	static const char *const titles[] = { "Postfix", "OpenSMTPD", "Exim", "msmtp",
		"nullmailer" };
	char relay[300];

	diagnose_target_format(&hc->relay, relay, sizeof(relay));
	fprintf(out, _("# hikyaku home-config for %s: relay %s (%s), account %s\n"),
	    titles[hc->mta], relay, hc->implicit_tls ? _("implicit TLS") : _("STARTTLS"),
	    hc->account);
	if (hc->password == NULL || !home_config_password_ok(hc->password))
		comment(out, _("Write the account's password where it says PASSWORD."));
	if (hc->relay.ip)
		comment(out, _("Warning: a certificate names a host, not an address, so TLS cannot be "
		    "verified for an IP address: use the relay's host name."));
	if (hc->relay_cert != NULL) {
		fprintf(out, _("# The relay uses its self-signed certificate %s: copy it to the home "
		    "server\n# and name the copy with --ca-file FILE.\n"), hc->relay_cert);
	}
}

static void
write_postfix(const struct home_config *hc, FILE *out)
{
	char key[300];

	snprintf(key, sizeof(key), hc->relay.ipv6 ? "[ipv6:%s]:%u" : "[%s]:%u", hc->relay.host,
	    hc->relay.port);
	block(out, "/etc/postfix/main.cf");
	comment(out, _("Add these lines (change them where they are already set)."));
	fprintf(out, "relayhost = %s\n"
	    "smtp_sasl_auth_enable = yes\n"
	    "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
	    "smtp_sasl_security_options = noanonymous\n"
	    "smtp_sasl_tls_security_options = noanonymous\n"
	    "smtp_tls_security_level = secure\n"
	    "smtp_tls_mandatory_protocols = >=TLSv1.2\n"
	    "smtp_tls_CAfile = %s\n"
	    "smtp_tls_wrappermode = %s\n", key, ca_file(hc), hc->implicit_tls ? "yes" : "no");
	block(out, "/etc/postfix/sasl_passwd");
	comment(out, _("The key is spelled exactly like relayhost."));
	fprintf(out, "%s %s:%s\n", key, hc->account, password(hc));
	block(out, "shell");
	comment(out, _("Postfix needs the SASL mechanisms (Debian, Ubuntu: apt install "
	    "libsasl2-modules)."));
	fputs("chmod 600 /etc/postfix/sasl_passwd\n"
	    "postmap /etc/postfix/sasl_passwd\n"
	    "postfix reload\n", out);
}

static void
write_opensmtpd(const struct home_config *hc, FILE *out)
{
	char host[300];

	snprintf(host, sizeof(host), hc->relay.ipv6 ? "[%s]" : "%s", hc->relay.host);
	block(out, "/etc/smtpd.conf");
	comment(out, _("Add these lines; they replace the rule that sends mail to other domains."));
	fputs("table hikyaku_secrets file:/etc/smtpd/hikyaku-secrets\n", out);
	if (hc->cafile)
		fprintf(out, "ca hikyaku-relay cert \"%s\"\n", hc->cafile);
	fprintf(out, "action \"hikyaku\" relay host %s://hikyaku@%s:%u auth <hikyaku_secrets>%s\n",
	    hc->implicit_tls ? "smtps" : "smtp+tls", host, hc->relay.port,
	    hc->cafile ? " ca hikyaku-relay" : "");
	fputs("match from local for any action \"hikyaku\"\n", out);
	block(out, "/etc/smtpd/hikyaku-secrets");
	fprintf(out, "hikyaku %s:%s\n", hc->account, password(hc));
	block(out, "shell");
	comment(out, _("The certificate of the relay is verified (smtp+tls and smtps do so)."));
	fputs("chown root:opensmtpd /etc/smtpd/hikyaku-secrets\n"
	    "chmod 640 /etc/smtpd/hikyaku-secrets\n"
	    "smtpd -n\n"
	    "systemctl restart opensmtpd\n", out);
}

static void
write_exim_generic(const struct home_config *hc, FILE *out)
{
	comment(out, _("Other systems, one exim configure file: add these to its sections."));
	block(out, "begin routers");
	comment(out, _("before the dnslookup router"));
	fprintf(out, "hikyaku:\n  driver = manualroute\n  domains = ! +local_domains\n"
	    "  transport = hikyaku_smtp\n  route_list = * %s byname\n  no_more\n", hc->relay.host);
	block(out, "begin transports");
	fprintf(out, "hikyaku_smtp:\n  driver = smtp\n  port = %u\n%s"
	    "  hosts_require_tls = *\n  hosts_require_auth = *\n  tls_verify_hosts = *\n"
	    "  tls_verify_certificates = %s\n", hc->relay.port,
	    hc->implicit_tls ? "  protocol = smtps\n" : "", ca_file(hc));
	block(out, "begin authenticators");
	fprintf(out, "hikyaku_plain:\n  driver = plaintext\n  public_name = PLAIN\n"
	    "  client_send = ^%s^%s\n", hc->account, password(hc));
}

static void
write_exim(const struct home_config *hc, FILE *out)
{
	comment(out, _("Debian, Ubuntu (exim4): or answer \"dpkg-reconfigure exim4-config\" with "
	    "\"mail sent by smarthost\"\nand the smarthost below."));
	block(out, "/etc/exim4/update-exim4.conf.conf");
	comment(out, _("Change these two lines."));
	fprintf(out, "dc_eximconfig_configtype='smarthost'\ndc_smarthost='%s::%u'\n",
	    hc->relay.host, hc->relay.port);
	block(out, "/etc/exim4/exim4.conf.localmacros");
	fprintf(out, "REMOTE_SMTP_SMARTHOST_HOSTS_REQUIRE_TLS = *\n"
	    "REMOTE_SMTP_SMARTHOST_TLS_VERIFY_HOSTS = *\n"
	    "REMOTE_SMTP_SMARTHOST_TLS_VERIFY_CERTIFICATES = %s\n%s", ca_file(hc),
	    hc->implicit_tls ? "REMOTE_SMTP_SMARTHOST_PROTOCOL = smtps\n" : "");
	block(out, "/etc/exim4/passwd.client");
	fprintf(out, "%s:%s:%s\n", hc->relay.host, hc->account, password(hc));
	block(out, "shell");
	fputs("chown root:Debian-exim /etc/exim4/passwd.client\n"
	    "chmod 640 /etc/exim4/passwd.client\n"
	    "update-exim4.conf\n"
	    "systemctl restart exim4\n", out);
	write_exim_generic(hc, out);
}

static void
write_msmtp(const struct home_config *hc, FILE *out)
{
	block(out, "/etc/msmtprc");
	comment(out, _("Or ~/.msmtprc for one user."));
	fprintf(out, "defaults\nauth on\ntls on\ntls_starttls %s\ntls_trust_file %s\n\n"
	    "account hikyaku\nhost %s\nport %u\nuser %s\npassword %s\n",
	    hc->implicit_tls ? "off" : "on", ca_file(hc), hc->relay.host, hc->relay.port,
	    hc->account, password(hc));
	if (hc->from != NULL)
		fprintf(out, "from %s\n", hc->from);
	else
		comment(out, _("from you@example.jp  (the sender: an address the account is granted; "
		    "or run msmtp -f ADDR)"));
	fputs("\naccount default : hikyaku\n", out);
	block(out, "shell");
	fputs("chmod 600 /etc/msmtprc\n", out);
	comment(out, _("Test: printf 'Subject: test\\n\\nhello\\n' | msmtp you@example.org"));
}

static void
write_nullmailer(const struct home_config *hc, FILE *out)
{
	block(out, "/etc/nullmailer/remotes");
	fprintf(out, "%s smtp --port=%u %s --user=%s --pass=%s", hc->relay.host, hc->relay.port,
	    hc->implicit_tls ? "--tls" : "--starttls", hc->account, password(hc));
	if (hc->cafile)
		fprintf(out, " --x509cafile=%s", hc->cafile);
	fputc('\n', out);
	block(out, "shell");
	fputs("chown mail:mail /etc/nullmailer/remotes\n"
	    "chmod 600 /etc/nullmailer/remotes\n"
	    "systemctl restart nullmailer\n", out);
}

void
home_config_write(const struct home_config *hc, FILE *out)
{
	header(hc, out);
	switch (hc->mta) {
	case HOME_MTA_POSTFIX:
		write_postfix(hc, out);
		break;
	case HOME_MTA_OPENSMTPD:
		write_opensmtpd(hc, out);
		break;
	case HOME_MTA_EXIM:
		write_exim(hc, out);
		break;
	case HOME_MTA_MSMTP:
		write_msmtp(hc, out);
		break;
	case HOME_MTA_NULLMAILER:
		write_nullmailer(hc, out);
		break;
	}
}
