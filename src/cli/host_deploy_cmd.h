/* `vireo host remove NAME-or-ID [--clean [--force]] [--wait]` and the
 * end of `vireo host create ... --wait` (docs/cli.md, docs/operations.md). */
#pragma once

#include "engine_cmd.h"
#include "http_client.h"

/* argv[0] = "host", argv[1] = "remove". Returns the exit code. */
int vr_host_remove_cmd(int argc, char **argv);

/* After POST /api/hosts answered 202 with an install job (r): wait for the
 * job, then for the host to leave installing and initializing (within
 * a->timeout in all), and print the host. 1 when the install failed (the
 * host is then installfailed, printed with its reason) or the time ran out. */
int vr_host_create_wait(const vr_session *s, const vr_response *r, const args *a);
