/*
 * hmap.h - a map from NUL-terminated string keys to pointers, for the
 * scheduler's in-memory tables (destinations, recipients loaded).
 *
 * The map copies each key and owns its nodes; it never owns the values.
 * The hash is keyed with a seed the caller draws at random, so that
 * addresses chosen by a client cannot be made to collide on purpose.
 * Lookups, inserts and deletes are O(1) on average; the table doubles
 * when it is three quarters full. Allocation failure aborts.
 */
#ifndef HIKYAKU_HMAP_H
#define HIKYAKU_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

/* hmap_new - an empty map hashing with seed. */
struct hmap *hmap_new(uint64_t seed);
/* hmap_free - free the map and its keys (not the values). NULL is fine. */
void hmap_free(struct hmap *m);

/* hmap_get - the value for key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);
/* hmap_put - set key to value (value must not be NULL); returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *value);
/* hmap_del - remove key; returns its value, or NULL when it was not there. */
void *hmap_del(struct hmap *m, const char *key);
/* hmap_count - the number of keys. */
size_t hmap_count(const struct hmap *m);

/*
 * hmap_each - call fn for every key and value, in no particular order. fn
 * must not change the map.
 */
void hmap_each(const struct hmap *m, void (*fn)(void *arg, const char *key, void *value),
    void *arg);

#endif
