/* Moving the master role of a data center to another data domain
 * (docs/storage.md "Moving the master role"). */
#pragma once

#include "engine.h"
#include "jobs.h"

/* The master domain row sd goes to maintenance: lock it and start the job
 * that has the SPM move the master role (and its SDM lease) to the active
 * data domain of the data center with the most free space, then records
 * the swap (sd in maintenance). VR_ERR_CONFLICT when none is active. */
int vr_sd_master_move_submit(vr_engine *e, json_t *sd, const char *user, char job_id[37], vr_error *err);

/* The storage thread's check for dc (a row of vr_store_dcs_with_master):
 * a master that became inactive while another data domain is active gets
 * a move job of its own (system user), with a warning event; the old
 * master stays inactive, a regular domain once it is seen again. */
void vr_sd_master_lost_round(vr_engine *e, json_t *dc);

/* After an engine restart: run the unfinished move job again (each step
 * may be asked twice; storage tells what the lost answer was). */
void vr_sd_master_move_resume(vr_engine *e, json_t *job);
