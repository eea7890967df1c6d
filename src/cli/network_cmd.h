/* `vireo network ...` and `vireo vnicprofile ...` (network_cmd.c). */
#pragma once

/* argv[0] is "network" or "vnicprofile"; returns the exit code, or -1
 * when argv[0] is neither. */
int vr_network_cmd(int argc, char **argv);
