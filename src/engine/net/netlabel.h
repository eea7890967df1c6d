/* Network labels (docs/networks.md "Labels", RHV 4.0 ch. 3.9): a label on
 * a host NIC and on networks; the networks of a host's cluster that carry
 * a NIC's label are attached to that NIC by the host's network setup
 * (with its confirmation and rollback), and follow when a NIC or a
 * network gains or loses the label. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "engine.h"

/* A setupnetworks body (every member present) with its "labels" {NIC:
 * label or ""} checked against host (a row with id, name) and turned into
 * attachments and removals: a NIC's new label brings the labelled networks
 * of the host's cluster onto it, its old label takes away those it
 * carried; networks the body names itself are left as it says. A new body
 * (labels kept, as given), or NULL with a 400 in err. */
json_t *vr_netlabel_expand(vr_engine *e, json_t *host, json_t *body, vr_error *err);

/* Network net_id's label changed from old_label (or a labelled network
 * was attached to a cluster): a job that puts the network on the labelled
 * NICs of the hosts of its clusters and takes it off the NICs labelled
 * old_label. With detached_from (a cluster id; old_label its label), the
 * network was detached from that cluster: the job takes it off that
 * cluster's hosts' NICs labelled old_label. job receives its id. */
int vr_netlabel_start(vr_engine *e, const char *net_id, const char *old_label, const char *detached_from,
                      const char *user, char job[37], vr_error *err);

/* After an engine restart: an unfinished label job runs again (it works
 * from the database, so running it twice is harmless); false when job is
 * not one. */
bool vr_netlabel_resume(vr_engine *e, json_t *job);
