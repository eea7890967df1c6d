/* `vireo vm placement NAME-or-ID [--json]` (docs/cli.md): the scheduler's
 * dry run for a VM, GET /api/vms/ID/placement. */
#pragma once

/* argv[0] = "vm", argv[1] = "placement". Returns the exit code. */
int vr_vm_placement_cmd(int argc, char **argv);
