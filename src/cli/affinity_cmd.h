/* `vireo affinitygroup list|show|create|update|delete`: a cluster's
 * affinity groups (docs/availability.md, docs/cli.md). */
#pragma once

/* argv[0] is "affinitygroup": run it and return the exit code (cli.h);
 * -1 when argv[0] is another command. */
int vr_affinity_cmd(int argc, char **argv);
