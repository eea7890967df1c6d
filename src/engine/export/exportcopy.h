/* The volume copies of an export job (exportcopy.c; docs/storage.md
 * "Export domains: faults"). */
#pragma once

#include <jansson.h>

#include "engine.h"

/* Disk d (an entry of the export's params.disks) copied by spm onto export
 * domain dst_sd: its chain volume by volume, base first (same ids and
 * parents), or collapsed into one volume; an image no earlier run began is
 * cleared first (an earlier export's). Each copy noted in p.copies and the
 * job's stored params; progress between lo and hi. 0, -1 (err) or
 * VR_VOLPLAN_STOPPED (the engine stops: the job stays for the next start). */
int vr_export_copy_disk(vr_engine *e, const char *job_id, json_t *p, json_t *spm, const char *dst_sd, json_t *d,
                        int lo, int hi, vr_error *err);

/* After a failed export: every volume of the images of disks goes from
 * dst_sd (the data center's SPM asked again for up to a minute while it
 * refuses or cannot be reached; what stays is ILLEGAL for the sweep). */
void vr_export_clear_after_failure(vr_engine *e, const char *job_id, const char *dst_sd, json_t *disks);
