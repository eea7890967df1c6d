/* VM.blockCopy (vm_blockcopy.c): a running VM's disk mirrored to a volume
 * of another storage domain, then pivoted onto it. */
#pragma once

#include "agent.h"

extern const vr_verb vr_blockcopy_verbs[];

/* The agent is stopping: running copies abort their mirror (the VM stays
 * on the source) and end; waits up to about wait_ms for them. */
void vr_blockcopies_stop(int wait_ms);
