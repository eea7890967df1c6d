/* `vireo quota list|show|create|update|delete`: a data center's quotas
 * (docs/permissions.md "Quotas", docs/cli.md). */
#pragma once

/* argv[0] is "quota": run it and return the exit code (cli.h); -1 when
 * argv[0] is another command. */
int vr_quota_cmd(int argc, char **argv);
