/*
 * test_hmap.c - the string-keyed hash map: put, get, replace, delete,
 * growth past many keys, and keys that differ only in their last byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/hmap.h"
#include "t.h"

static void
count_each(void *arg, const char *key, void *value)
{
	(*(size_t *)arg)++;
}

int
main(void)
{
	struct hmap *m = hmap_new(12345);
	char key[64];
	int vals[3] = { 1, 2, 3 };
	size_t i, n = 0;
	bool all = true;

	T_OK(hmap_get(m, "a") == NULL, "empty map finds nothing");
	T_OK(hmap_put(m, "a", &vals[0]) == NULL, "first put returns NULL");
	T_OK(hmap_get(m, "a") == &vals[0], "get finds the value");
	T_OK(hmap_put(m, "a", &vals[1]) == &vals[0], "put on an existing key returns the old value");
	T_OK(hmap_get(m, "a") == &vals[1], "and replaces it");
	T_OK(hmap_count(m) == 1, "one key");
	T_OK(hmap_put(m, "", &vals[2]) == NULL && hmap_get(m, "") == &vals[2], "the empty key works");
	T_OK(hmap_del(m, "a") == &vals[1], "del returns the value");
	T_OK(hmap_get(m, "a") == NULL && hmap_del(m, "a") == NULL, "and the key is gone");
	T_OK(hmap_count(m) == 1, "one key left");
	hmap_free(m);

	m = hmap_new(0);
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "MSGID%06zu rcpt%zu@example.org", i / 7, i);
		hmap_put(m, key, (void *)(uintptr_t)(i + 1));
	}
	T_OK(hmap_count(m) == 50000, "50000 keys after growing");
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "MSGID%06zu rcpt%zu@example.org", i / 7, i);
		if (hmap_get(m, key) != (void *)(uintptr_t)(i + 1))
			all = false;
	}
	T_OK(all, "every key finds its own value");
	hmap_each(m, count_each, &n);
	T_OK(n == 50000, "each visits every key once");
	for (i = 0; i < 50000; i += 2) {
		snprintf(key, sizeof(key), "MSGID%06zu rcpt%zu@example.org", i / 7, i);
		hmap_del(m, key);
	}
	all = true;
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "MSGID%06zu rcpt%zu@example.org", i / 7, i);
		if ((hmap_get(m, key) != NULL) != (i % 2 == 1))
			all = false;
	}
	T_OK(all && hmap_count(m) == 25000, "deleting half leaves exactly the other half");
	hmap_free(m);
	hmap_free(NULL);
	return t_done();
}
