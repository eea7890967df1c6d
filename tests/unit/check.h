/* Tiny assertion helpers for the C unit tests: a failed CHECK prints where
 * and why, and the test exits non-zero at the end. */
#pragma once

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                          \
    do {                                                                         \
        const char *hay_ = (hay); /* once, and arrays too */                     \
        if (!hay_ || !strstr(hay_, (needle))) {                                  \
            fprintf(stderr, "%s:%d: '%s' not found in: %s\n", __FILE__, __LINE__, \
                    (needle), hay_ ? hay_ : "(null)");                           \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)
