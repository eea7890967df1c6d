/* `vireo host fence NAME-or-ID status|start|stop|restart [--wait]`
 * (docs/cli.md, docs/fencing.md). */
#pragma once

/* argv[0] = "host", argv[1] = "fence". Returns the exit code. */
int vr_host_fence_cmd(int argc, char **argv);
