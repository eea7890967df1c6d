/* `vireo vm console NAME-or-ID` (docs/cli.md, docs/rest-api.md "Consoles"). */
#pragma once

/* argv[0] = "vm", argv[1] = "console". Returns the exit code. */
int vr_vm_console_cmd(int argc, char **argv);
