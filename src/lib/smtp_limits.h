/*
 * smtp_limits.h - protocol limits shared by every parser (RFC 5321 section 4.5.3.1).
 */
#ifndef HIKYAKU_LIMITS_H
#define HIKYAKU_LIMITS_H

#define SMTP_LINE_MAX 512	/* command line, including CRLF */
#define SMTP_TEXT_LINE_MAX 1000 /* text line in DATA, including CRLF */
#define SMTP_PATH_MAX 256	/* reverse-path / forward-path, including <> */
#define SMTP_LOCAL_MAX 64	/* local part */
#define SMTP_DOMAIN_MAX 255	/* domain */
#define ADDR_MAX 254		/* a mailbox without <>: local@domain */

#endif
