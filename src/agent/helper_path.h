/* Finding the agent's own helper programs (vireo-ipmitool, vireo-dhcp-hook):
 * next to the running agent (a build tree) first, else where the package
 * installs them (VR_LIBEXECDIR, /usr/libexec/vireo). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Fill path with the executable helper `name`; false when there is none. */
bool vr_helper_path(const char *name, char *path, size_t size);
