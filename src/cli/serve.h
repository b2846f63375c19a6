/*
 * serve.h - "hikyaku serve": set up and run the daemon.
 */
#ifndef HIKYAKU_SERVE_H
#define HIKYAKU_SERVE_H

struct config;

/* serve_run - run until SIGTERM or SIGINT; returns the exit status. */
int serve_run(struct config *cfg);

#endif
