/* `vireo vm clone` (vm_clone_cmd.c). */
#pragma once

/* argv[0] is "vm", argv[1] "clone". Returns the CLI exit code. */
int vr_vm_clone_cmd(int argc, char **argv);
