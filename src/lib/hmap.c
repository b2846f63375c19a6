/*
 * hmap.c - string-keyed hash map with chaining and a seeded hash.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hmap.h"

#define HMAP_MIN_BUCKETS 64

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
	void *value;
	char key[];
};

struct hmap {
	struct hmap_node **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	uint64_t seed;
};

static void *
must(void *p)
{
	if (p == NULL) {
		fputs("hmap: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* hash - FNV-1a over the key from a seeded basis, then a 64-bit finaliser. */
static uint64_t
hash(const struct hmap *m, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ m->seed;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

struct hmap *
hmap_new(uint64_t seed)
{
	struct hmap *m = must(calloc(1, sizeof(*m)));

	m->seed = seed;
	m->nbuckets = HMAP_MIN_BUCKETS;
	m->buckets = must(calloc(m->nbuckets, sizeof(*m->buckets)));
	return m;
}

void
hmap_free(struct hmap *m)
{
	struct hmap_node *n, *next;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (n = m->buckets[i]; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(m->buckets);
	free(m);
}

static struct hmap_node **
find(const struct hmap *m, const char *key, uint64_t h)
{
	struct hmap_node **p = &m->buckets[h & (m->nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->next)
		if ((*p)->hash == h && strcmp((*p)->key, key) == 0)
			break;
	return p;
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_node *n = *find(m, key, hash(m, key));

	return n ? n->value : NULL;
}

static void
grow(struct hmap *m)
{
	size_t nb = m->nbuckets * 2;
	struct hmap_node **b = must(calloc(nb, sizeof(*b)));
	struct hmap_node *n, *next;

	for (size_t i = 0; i < m->nbuckets; i++) {
		for (n = m->buckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
}

void *
hmap_put(struct hmap *m, const char *key, void *value)
{
	uint64_t h = hash(m, key);
	struct hmap_node **p = find(m, key, h), *n;
	size_t klen;
	void *old;

	if (*p != NULL) {
		old = (*p)->value;
		(*p)->value = value;
		return old;
	}
	klen = strlen(key);
	n = must(malloc(sizeof(*n) + klen + 1));
	memcpy(n->key, key, klen + 1);
	n->hash = h;
	n->value = value;
	n->next = NULL;
	*p = n;
	if (++m->count > m->nbuckets / 4 * 3)
		grow(m);
	return NULL;
}

void *
hmap_del(struct hmap *m, const char *key)
{
	struct hmap_node **p = find(m, key, hash(m, key)), *n = *p;
	void *value;

	if (n == NULL)
		return NULL;
	*p = n->next;
	value = n->value;
	free(n);
	m->count--;
	return value;
}

size_t
hmap_count(const struct hmap *m)
{
	return m->count;
}

void
hmap_each(const struct hmap *m, void (*fn)(void *arg, const char *key, void *value), void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct hmap_node *n = m->buckets[i]; n != NULL; n = n->next)
			fn(arg, n->key, n->value);
}
