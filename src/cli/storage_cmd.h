/* `vireo sd ...` and `vireo disk ...`: storage domains and disks
 * (storage_cmd.c). */
#pragma once

/* argv[0] is "sd" or "disk"; returns the exit code, or -1 when argv[0] is
 * neither. */
int vr_storage_cmd(int argc, char **argv);
