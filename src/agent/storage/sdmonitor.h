/* The storage monitor: a thread that every 10 s looks at every domain
 * connected on this host (a scan of the storage root, so it follows
 * connects and disconnects by itself): reads dom_md/metadata with O_DIRECT
 * (the page cache would hide a dead NFS server), times that read, checks
 * the checksum, and takes statvfs's total and free. Storage.status returns
 * the last round; a domain whose valid flag flips is announced with a
 * Storage.changed notification. */
#pragma once

#include <jansson.h>

#include "agent.h"
#include "error.h"

#define VR_SD_MONITOR_INTERVAL_S 10

/* Start the thread (once, from main). */
int vr_sd_monitor_start(vr_agent *a, vr_error *err);

/* Stop the thread (waiting at most 5 s for a round stuck on unresponsive
 * storage); no notification is sent after it returns. */
void vr_sd_monitor_stop(void);

/* Run a round now rather than at the next tick (after connect, format...). */
void vr_sd_monitor_kick(void);

/* The last round's results: {domains:[{domain, valid, delay_ms, total,
 * free, checked_at, error?}]} (new reference). */
json_t *vr_sd_monitor_json(void);
