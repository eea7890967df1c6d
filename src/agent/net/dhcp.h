/* DHCP clients of host networks with boot_protocol dhcp (docs/networks.md
 * "Addresses"): busybox's udhcpc, one per network bridge, started as an
 * argv array with vireo-dhcp-hook as its event script. Per bridge DEV the
 * files are <run-dir>/dhcp/DEV.pid (the client), DEV.lease (JSON written
 * by the hook: the address held now) and DEV.log (the client's output).
 * The clients outlive the agent (SIGTERM, a crash); converging finds them
 * by their pid files. */
#pragma once

#include <jansson.h>

#include "error.h"

/* Where the files go: <run_dir>/dhcp (made when needed). */
void vr_dhcp_init(const char *run_dir);

/* Stop, releasing its lease (udhcpc -R), the client of every bridge that
 * `target` does not name as a dhcp network, and remove its files. Done
 * before the bridges go, so the release reaches the server. */
void vr_dhcp_stop_unwanted(json_t *target);

/* Start a client on each dhcp network of `target` that has none running;
 * each start waits for its first lease (a few seconds at most; without one
 * the client keeps trying in the background). -32013 when no client
 * program or hook can be found or started. */
int vr_dhcp_ensure(json_t *target, vr_error *err);

/* The lease the hook recorded for bridge `dev` ({"address": "a.b.c.d/n",
 * "router", "server", "lease_s", "obtained"}), or NULL (new reference). */
json_t *vr_dhcp_lease(const char *dev);
