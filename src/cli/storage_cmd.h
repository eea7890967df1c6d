/* `vireo sd ...` and `vireo disk ...`: storage domains and disks
 * (storage_cmd.c). */
#pragma once

#include "http_client.h"

/* The id of the disk named ref (its id, or its alias when exactly one
 * disk has it) into *id (malloc'ed). 0, 1 with a message on stderr when
 * no or several disks match, 3 when the engine cannot be asked. */
int vr_cli_resolve_disk(const vr_session *s, const char *ref, char **id);

/* argv[0] is "sd" or "disk"; returns the exit code, or -1 when argv[0] is
 * neither. */
int vr_storage_cmd(int argc, char **argv);
