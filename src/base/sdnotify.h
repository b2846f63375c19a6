/*
 * sdnotify.h - tell systemd how the daemon is doing (Type=notify), with the
 * documented datagram protocol of sd_notify(3): one datagram of
 * "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET. The only module
 * that speaks it; without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef HIKYAKU_SDNOTIFY_H
#define HIKYAKU_SDNOTIFY_H

/*
 * sdnotify_init - remember $NOTIFY_SOCKET and remove it from the
 * environment (no child inherits it). Call once, before any thread starts.
 */
void sdnotify_init(void);

/*
 * sdnotify - send state ("READY=1", "RELOADING=1", "STOPPING=1",
 * "STATUS=..."; several joined by newlines). 0 when sent or when not
 * under systemd, -1 (errno set) when the socket refused it.
 */
int sdnotify(const char *state);

#endif
