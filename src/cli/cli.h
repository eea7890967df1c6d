/* Subcommands of the vireo CLI. Each returns the process exit code:
 * 0 success, 1 the server refused (message printed), 2 usage error,
 * 3 cannot reach the server. */
#pragma once

int vr_cli_agent(int argc, char **argv);
