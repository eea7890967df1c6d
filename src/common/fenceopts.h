/* A fence agent's description ({type, address, port, username, password,
 * options}), checked alike by the engine (a host's power_management) and
 * by the proxy agent that runs it (Host.fence): the values become
 * key=value lines on the fence agent's stdin, so none may break a line,
 * and no option may make it run another program or write a file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "error.h"

/* 1..max of [a-z0-9_]: a fence agent type or an option name. */
bool vr_fence_word_ok(const char *s, size_t max);

/* At most max bytes, no control character. */
bool vr_fence_value_ok(const char *s, size_t max);

/* Options set by Vireo itself, or that run a program or write a file. */
bool vr_fence_option_reserved(const char *key);

/* Check agent (named `where` in messages): type, address required; port
 * 1-65535, username, password, options optional; `extra` names further
 * members the caller allows (NULL-terminated, may be NULL). */
int vr_fence_agent_check(json_t *agent, const char *where, const char *const *extra, vr_error *err);

/* One option's value as text for its key=value line (out of `size`), or
 * -1 when it is not a string, integer or boolean. */
int vr_fence_option_text(json_t *v, char *out, size_t size);
