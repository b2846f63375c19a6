/*
 * utf8.h - well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF. Used where UTF-8 is allowed (RFC 6531 addresses)
 * and where text leaves as JSON.
 *
 * No I/O, no globals, no allocation.
 */
#ifndef HIKYAKU_UTF8_H
#define HIKYAKU_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* utf8_seq - length of the well-formed sequence of 2 to 4 bytes at s[0..len), or 0. */
size_t utf8_seq(const unsigned char *s, size_t len);

/* utf8_valid - whether s[0..len) is well-formed UTF-8 (ASCII included). */
bool utf8_valid(const char *s, size_t len);

#endif
