/* `vireo vm migrate NAME-or-ID [--host H] [--bandwidth-mibps N] [--wait]`
 * (docs/cli.md, docs/migration.md). */
#pragma once

/* argv[0] = "vm", argv[1] = "migrate". Returns the exit code. */
int vr_vm_migrate_cmd(int argc, char **argv);
