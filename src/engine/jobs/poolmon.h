/* VM pools at work (docs/storage.md "Pools", RHV TR ch. 7): the pool
 * thread keeps every pool at its size (thin VMs of its template, named
 * POOL-N; a shrink removes only free, stopped VMs), keeps `prestarted` free
 * VMs running, gives an automatic pool's VM back when its user's session
 * ends (the VM went down after it had been up) and throws a stateless VM's
 * writes away once it is down. Allocation and release are immediate. */
#pragma once

#include "engine.h"

/* Start the pool thread (a registered engine thread; ends with e->stopping). */
int vr_poolmon_start(vr_engine *e, vr_error *err);

/* Give user a free VM of pool row p (a running one first), starting it if
 * it is down: *vm_id, and the start job in job_id ("" when it runs). 409
 * when the user has max_user_vms of it or none is free. */
int vr_pool_allocate(vr_engine *e, json_t *p, const char *user, char vm_id[37], char job_id[37], vr_error *err);

/* Take VM vm_id back into pool row p (an automatic pool's VM is stopped). */
int vr_pool_release(vr_engine *e, json_t *p, const char *vm_id, const char *user, vr_error *err);
