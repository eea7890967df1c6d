/* The engine's timeouts, derived (sanlock's timeouts.c is the model).
 *
 *   A = agent call (--agent-timeout-s, default 10 s)
 *   P = poll interval (--poll-ms, default 3 s)
 *   G = host grace (--grace-s, default 30 s)
 *
 *   TLS handshake      = A          part of one call, so never longer
 *   VM-job call        = max(A, 25) verbs that take the VM's job on the
 *                                   agent wait up to 10 s for it, and an
 *                                   unplug waits for the guest to let the
 *                                   device go (libvirt: ~5 s, more under
 *                                   TCG); a call must outlast both; a
 *                                   launch too (VM.create, VM.restore:
 *                                   libvirt starts QEMU and waits for its
 *                                   monitor, seconds on a loaded host)
 *   destroy call       = max(A, 30) libvirt sends QEMU SIGTERM, waits ~10 s,
 *                                   then SIGKILL (and waits again): a hung
 *                                   QEMU takes that long to die
 *   storage call       = max(A, 60) mounts, formatting a domain (sanlock
 *                                   writes its lockspace and lease areas
 *                                   with O_DIRECT), creating a volume and
 *                                   taking the SPM lease (sanlock's paxos
 *                                   rounds take a few io_timeouts) are
 *                                   slow on slow storage; the engine's
 *                                   storage thread and jobs wait that long
 *   fence call         = max(A, 60) the proxy's fence agent may take 50 s
 *                                   (its own timeout, fencejob.c): an
 *                                   IPMI power cycle waits for the power
 *                                   state to change; no longer than a
 *                                   storage call, so shutdown stays bounded
 *   job step           = call + 5   the call plus its database writes
 *   host NonResponsive = G >= P + A a host is declared lost only after a
 *                                   whole poll and a whole call failed, so
 *                                   one slow answer never marks its VMs
 *                                   Unknown
 *   HTTP idle          = 30 s       API threads never wait on agents (long
 *                                   operations are jobs), so no handler
 *                                   needs longer than a database statement
 *   shutdown           = max(destroy, storage, 5 A) + P + 5
 *                                   every engine thread is at most one step
 *                                   from noticing the stop: a job's longest
 *                                   step is a destroy call, a monitor's
 *                                   makes up to five calls (connect,
 *                                   subscribe, three verbs); the longest
 *                                   sleep is a poll */
#include "timeouts.h"

#include <string.h>

#define DESTROY_MIN_S 30
#define VM_JOB_MIN_S 25
#define STORAGE_MIN_S 60
#define FENCE_MIN_S 60
#define HTTP_IDLE_S 30
#define STEP_MARGIN_S 5

/* The agent's verbs that run as a job of their VM (docs/agent-api.md),
 * and the launches. */
static bool takes_vm_job(const char *verb)
{
    static const char *const verbs[] = {"VM.shutdown", "VM.reboot", "VM.pause", "VM.cont", "VM.setBalloonTarget",
                                        "VM.setVcpus", "VM.setIoTune", "VM.hotplugDisk", "VM.hotunplugDisk",
                                        "VM.hotplugNic", "VM.hotunplugNic", "VM.create", "VM.restore"};
    for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(verb, verbs[i]))
            return true;
    return false;
}

/* Agent verbs that touch storage structure or leases (docs/storage.md). */
static bool storage_slow(const char *verb)
{
    static const char *const verbs[] = {"SPM.start", "SPM.stop", "Storage.connect", "Storage.format",
                                        "Storage.attach", "Storage.detach", "Storage.find", "Volume.create",
                                        "Volume.delete", "Volume.extend", "Volume.list",
                                        "Volume.merge", "VM.snapshot", "VM.merge"};
    for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(verb, verbs[i]))
            return true;
    return false;
}

int vr_timeout_agent_call_s(const vr_engine *e, const char *verb)
{
    if (storage_slow(verb) && e->agent_timeout_s < STORAGE_MIN_S)
        return STORAGE_MIN_S;
    if (verb && !strcmp(verb, "Host.fence") && e->agent_timeout_s < FENCE_MIN_S)
        return FENCE_MIN_S;
    if (verb && !strcmp(verb, "VM.destroy") && e->agent_timeout_s < DESTROY_MIN_S)
        return DESTROY_MIN_S;
    if (takes_vm_job(verb) && e->agent_timeout_s < VM_JOB_MIN_S)
        return VM_JOB_MIN_S;
    return e->agent_timeout_s;
}

unsigned vr_timeout_tls_handshake_ms(const vr_engine *e)
{
    return (unsigned)e->agent_timeout_s * 1000;
}

unsigned vr_timeout_http_idle_s(const vr_engine *e)
{
    (void)e;
    return HTTP_IDLE_S;
}

int vr_timeout_job_step_s(const vr_engine *e, const char *verb)
{
    return vr_timeout_agent_call_s(e, verb) + STEP_MARGIN_S;
}

int vr_timeout_shutdown_s(const vr_engine *e)
{
    int destroy = vr_timeout_agent_call_s(e, "VM.destroy"), monitor_step = 5 * e->agent_timeout_s;
    int storage = vr_timeout_agent_call_s(e, "SPM.start"), longest = destroy > storage ? destroy : storage;
    return (longest > monitor_step ? longest : monitor_step) + e->poll_ms / 1000 + STEP_MARGIN_S;
}

int vr_timeouts_check(const vr_engine *e, vr_error *err)
{
    if (e->agent_timeout_s < 1 || e->poll_ms < 100)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "--agent-timeout-s must be >= 1 and --poll-ms >= 100");
    /* Tests use short graces on purpose; 0 means "at the first failure". */
    if (e->grace_s > 0 && e->grace_s * 1000 < e->poll_ms)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "--grace-s %d is shorter than one poll (%d ms): a host "
                            "would be lost between two polls", e->grace_s, e->poll_ms);
    return 0;
}
