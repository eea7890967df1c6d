/* The host's operating system as os-release(5) and uname(2) tell it, for
 * the engine's InClusterUpgrade policy (docs/availability.md). */
#pragma once

#include <jansson.h>

/* {"id", "version", "pretty_name", "kernel"} read from path (the standard
 * /etc/os-release, then /usr/lib/os-release, when path is NULL) and the
 * kernel release. A missing or unreadable file is no error: id "unknown",
 * version and pretty_name "". New reference. */
json_t *vr_host_os(const char *path);

/* The value of KEY in os-release text (one line per KEY=VALUE; '#'
 * comments; values unquoted or in single or double quotes with the shell's
 * backslash escapes) into buf; 0 when found, -1 otherwise (buf ""). */
int vr_os_release_value(const char *text, const char *key, char *buf, size_t len);
