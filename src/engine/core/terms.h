/* Translated words quoted into messages (terms.c). */
#pragma once

#include <stddef.h>

extern const char *const vr_terms[];
extern const size_t vr_nterms;
