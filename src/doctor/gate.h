/*
 * gate.h - the readiness gate in the daemon. It runs the doctor's checks
 * for every granted domain at start, every doctor-interval and when asked
 * (SIGUSR1, from "hikyaku doctor --refresh"), on a thread of its own, and
 * keeps each domain's verdict (report.h: ready, not ready with the reply
 * that names the fix, unknown while DNS cannot be asked) in the store and
 * in memory. The session asks it at the end of DATA, on the loop thread.
 */
#ifndef HIKYAKU_GATE_H
#define HIKYAKU_GATE_H

#include "lib/reply.h"

struct config;
struct event_base;
struct mailbox;
struct store;
struct doctor_gate;

/*
 * doctor_gate_new - a gate for cfg whose runs use the database at dbpath
 * and report back through mb on base's loop; the verdicts stored by earlier
 * runs are read from st (the loop's connection) and apply until the first
 * run of this one ends. It starts that run. Each run keeps a reference to
 * the configuration it started with.
 */
struct doctor_gate *doctor_gate_new(const struct config *cfg, const char *dbpath,
    struct event_base *base, struct mailbox *mb, struct store *st);

/*
 * doctor_gate_set_config - after a reload: runs from now on use cfg (a
 * reference is taken), and one starts. NULL g is allowed.
 */
void doctor_gate_set_config(struct doctor_gate *g, const struct config *cfg);

/* doctor_gate_refresh - check every domain again now (after the run in progress, if any). */
void doctor_gate_refresh(struct doctor_gate *g);

/*
 * doctor_gate_check - the verdict on mail whose From: domain is domain
 * (loop thread): REPLY_OK when it is ready; else r is the refusal,
 * "550 5.7.26" naming the fix, or "451 4.7.26" while its readiness is
 * unknown (DNS unreachable, or not checked yet: then a run is started, at
 * most every 30 seconds).
 */
enum reply_kind doctor_gate_check(struct doctor_gate *g, const char *domain,
    struct reply *r);

/*
 * doctor_gate_stop - at shutdown: cancel the run in progress (its DNS
 * queries fail at once), join its thread, start no new runs. Its completion
 * is then in the mailbox. NULL is allowed (no gate).
 */
void doctor_gate_stop(struct doctor_gate *g);
/* doctor_gate_free - after doctor_gate_stop and once the mailbox has been flushed. */
void doctor_gate_free(struct doctor_gate *g);

#endif
