/* The engine's view of each attached domain, made from what the hosts of
 * its data center report (host_domain_status, filled by hoststorage.c):
 *
 *   active -> inactive   no Up host of the data center has seen it valid
 *                        for longer than the grace (ch. 2.7); hosts then
 *                        retry connecting once per autorecovery period
 *   inactive -> active   a host sees it valid again (autorecovery)
 *   space                total and free bytes from the freshest valid
 *                        report; committed = provisioned sizes of its
 *                        disks; an event when free space falls under the
 *                        domain's warning percentage or critical GiB.
 *
 * Run by the storage thread (storagemon.c) once per poll. */
#pragma once

#include <jansson.h>

#include "engine.h"

/* One round for the domains of data center dc (a datacenters row).
 * warned: the thread's memory of low-space events already sent (domain id
 * -> level), so each crossing is told once. */
void vr_domains_round(vr_engine *e, json_t *dc, json_t *warned);
