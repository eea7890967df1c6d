/* `vireo vm export`, `vireo sd vms`, `vireo sd import-vm` (export_cmd.c). */
#pragma once

/* argv[0] is "vm", "sd" or "storagedomain", argv[1] the verb. Returns the
 * CLI exit code, or -1 when the command is none of these. */
int vr_export_cmd(int argc, char **argv);
