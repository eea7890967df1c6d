/* `vireo disk upload` and `vireo disk download` (transfer_cmd.c): disk
 * images streamed to and from the engine. */
#pragma once

/* argv[0] "disk", argv[1] "upload" or "download"; returns the exit code,
 * or -1 for any other command. */
int vr_transfer_cmd(int argc, char **argv);
