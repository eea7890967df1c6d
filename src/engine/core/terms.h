/* Translated words quoted into messages (terms.c). */
#pragma once

#include <stddef.h>

extern const char *const vr_terms[];
extern const size_t vr_nterms;

/* Messages no longer made, kept in the catalog for rows that name them. */
extern const char *const vr_retired_messages[];
extern const size_t vr_nretired_messages;
