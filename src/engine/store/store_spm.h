/* The SQL behind storage monitoring and SPM election (src/engine/storage):
 * host ids per data center, what each host sees of each domain, and the
 * SPM columns of data centers. Rows come back as JSON (db.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "db.h"

/* Data center of a host (through its cluster) into dc; -1 if none. */
int vr_store_host_dc(vr_db *db, const char *host_id, char dc[37]);

/* Domains a host of dc must be connected to: attached and locked (being
 * attached, not detached), active or inactive. New reference; NULL on error. */
json_t *vr_store_dc_domains_to_connect(vr_db *db, const char *dc);

/* Every domain attached to dc, whatever its status, with the columns of a
 * connection (vr_storage_conn) and `detaching` (1 while its detach job
 * runs). New reference; NULL on error. */
json_t *vr_store_dc_domains_attached(vr_db *db, const char *dc);

/* The host's sanlock host id in dc, assigned (lowest free 1..250) on first
 * use. -1 with err when none is free or the database fails. */
int vr_store_host_spm_id(vr_db *db, const char *dc, const char *host_id, int *spm_id,
                         vr_error *err);

/* Record what a host saw of a domain at `now`; invalid_since keeps the
 * start of an unbroken run of invalid reports. */
int vr_store_host_domain_seen(vr_db *db, const char *host_id, const char *domain_id, bool valid,
                              double delay_ms, long long total, long long free_b, const char *error,
                              long long now);

/* Seconds since `host_id` last saw `domain_id` valid while some other Up
 * host of its data center sees it valid now (fresh since `fresh_since`): 0
 * when it sees it, or when nobody does (then the domain, not the host, is
 * at fault). error gets the host's last reason. */
long long vr_store_host_blind_for(vr_db *db, const char *host_id, const char *domain_id,
                                  long long now, long long fresh_since, char *error, size_t len);

/* Data centers with a master domain: id, name, master_domain_id, spm_host_id,
 * spm_id, spm_lver, storage_status. New reference. */
json_t *vr_store_dcs_with_master(vr_db *db);

/* Data centers with an SPM but no master domain any more (its last domain
 * was detached): the same columns. New reference. */
json_t *vr_store_dcs_without_master(vr_db *db);

/* Up hosts of dc that may be SPM (spm_priority >= 0), highest priority
 * first, in random order among equals; with their host id in the
 * lockspace (spm_id, NULL if not assigned yet). */
json_t *vr_store_spm_candidates(vr_db *db, const char *dc);

/* dc's master was seen written with MASTER_VERSION version: keep the
 * highest (datacenters.master_version). */
int vr_store_dc_raise_master_version(vr_db *db, const char *dc, long long version);

/* Set dc's SPM (host_id NULL = none) and storage status. */
int vr_store_dc_set_spm(vr_db *db, const char *dc, const char *host_id, long long spm_id,
                        long long lver, const char *storage_status);

/* The hosts row (id, name, address, port, status) of host_id; NULL if gone. */
json_t *vr_store_host_brief(vr_db *db, const char *host_id);

/* Attached active or inactive domains of dc, each with `seen` (Up hosts
 * with a valid report since fresh_since), `up_hosts` (Up hosts of dc), the
 * freshest valid report's total and free bytes (`r_total`, `r_free`), and
 * `committed` (provisioned bytes of its disks). New reference. */
json_t *vr_store_dc_domain_views(vr_db *db, const char *dc, long long fresh_since);

/* Set a domain's status, inactive_since and space; only from `from`
 * (compare-and-set: an administrator's maintenance meanwhile wins).
 * Returns rows changed (0: the status had moved), -1 on error. */
int vr_store_sd_update_view(vr_db *db, const char *id, const char *from, const char *to,
                            long long inactive_since, long long total, long long free_b,
                            long long committed);
