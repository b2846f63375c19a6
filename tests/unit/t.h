/*
 * t.h - a minimal TAP producer for the unit tests (run by meson test).
 */
#ifndef HIKYAKU_T_H
#define HIKYAKU_T_H

#include <stdio.h>
#include <string.h>

static int t_count, t_failed;

#define T_OK(cond, ...)                                                      \
	do {                                                                 \
		t_count++;                                                   \
		if (cond) {                                                  \
			printf("ok %d - ", t_count);                         \
		} else {                                                     \
			t_failed++;                                          \
			printf("not ok %d - %s:%d: ", t_count, __FILE__,     \
			    __LINE__);                                       \
		}                                                            \
		printf(__VA_ARGS__);                                         \
		printf("\n");                                                \
	} while (0)

#define T_STREQ(a, b, ...) T_OK(strcmp((a), (b)) == 0, __VA_ARGS__)

static inline int
t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed != 0;
}

#endif
