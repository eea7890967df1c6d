/* Shared pieces of the libFuzzer targets (docs/testing.md, "Fuzzing").
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput; tests/fuzz/meson.build
 * builds it when meson is configured with -Dfuzz=true (clang), and
 * tests/run.py runs it over a copy of tests/fuzz/corpus/NAME/. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "utf8.h"

/* A property the code under test promised and broke: report it like a
 * crash, so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* libFuzzer's own byte-level mutator (always available to custom ones). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* Structure-aware mutation for targets whose input is JSON: if data parses,
 * change one value, member or element of the document (types, boundary
 * numbers, long and non-ASCII strings, names from the spec's vocabulary),
 * else, or at random, fall back to LLVMFuzzerMutate. Deterministic for a
 * given seed, as libFuzzer requires. */
size_t vr_fuzz_json_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed);

/* The error message of a failed call must be usable in a JSON-RPC reply:
 * NUL-terminated within its buffer, non-empty, valid UTF-8. */
static inline void vr_fuzz_check_message(const char *message, size_t size)
{
    size_t len = strnlen(message, size);
    FUZZ_ASSERT(len < size && len > 0);
    FUZZ_ASSERT(vr_utf8_valid(message, len));
}

/* The bytes as a JSON document, read the way the agent and the engine read
 * requests (duplicate keys refused). NULL if they are not one. */
static inline json_t *vr_fuzz_load(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    return json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
}
