/* The storage thread: once per poll, for every data center with a master
 * domain, refresh its domains' status and space (domainmon.h) and make sure
 * it has an SPM (spm.h). One thread for all data centers, so elections
 * never race each other. */
#pragma once

#include "engine.h"

/* Start the storage thread (a registered engine thread; it ends when
 * e->stopping is set). */
int vr_storagemon_start(vr_engine *e, vr_error *err);
