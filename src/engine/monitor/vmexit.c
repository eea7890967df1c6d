#include "vmexit.h"

#include <stdio.h>
#include <string.h>

#include "vmstart.h"
#include "i18n.h"

const char *vr_vm_stop_reason(const char *agent_reason, bool stop_requested)
{
    static const char *const known[] = {"crashed", "shutdown", "destroyed", "migrated", "saved", "snapshot",
                                        "host_fenced", "host_lost", "lease_lost"};
    if (stop_requested)
        return "user";
    for (size_t i = 0; agent_reason && i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(agent_reason, known[i]))
            return known[i];
    return "unknown";
}

int vr_vm_ended(vr_engine *e, const char *vm_id, const char *host_id, vr_vm_status from, const char *agent_reason,
                const char *why)
{
    json_t *vm = vr_db_query_one(e->db, "SELECT name, ha_enabled, stop_requested, (SELECT name FROM hosts WHERE"
                                 " id = ?) AS host FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(host_id), DB_TEXT(vm_id)),
                                 NULL);
    if (!vm)
        return 0;
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *host = json_string_value(json_object_get(vm, "host")) ?: "?";
    bool asked = json_integer_value(json_object_get(vm, "stop_requested")) != 0;
    const char *reason = vr_vm_stop_reason(agent_reason, asked);
    int rc = 0;
    /* Only a QEMU that died unasked comes back: a guest's own shutdown, a
     * destroy (through Vireo or virsh) and a stop are what someone wanted. */
    bool unasked = !strcmp(reason, "crashed") || !strcmp(reason, "host_fenced") || !strcmp(reason, "host_lost") ||
                   !strcmp(reason, "lease_lost"); /* sanlock powered it off: its host lost the storage */
    if (unasked && json_integer_value(json_object_get(vm, "ha_enabled"))) {
        char job[37];
        vr_error err = {0};
        rc = vr_vm_ha_restart_submit(e, vm_id, name, host_id, vr_vm_status_names[from], reason, job, &err);
        if (rc > 0 && !strcmp(reason, "lease_lost"))
            vr_event(e, "warning", "", "vm", vm_id, N_("highly available VM '%s' was powered off on host '%s': the host"
                     " lost its lease (it can no longer reach the lease's storage)%s; restarting it on another host once"
                     " the lease is free (job %s)"), name, host, why ? why : "", job);
        else if (rc > 0)
            vr_event(e, "warning", "", "vm", vm_id,
                     !strcmp(reason, "crashed") ? N_("highly available VM '%s' crashed on host '%s'%s; restarting it (job %s)")
                                                : N_("highly available VM '%s' was lost on host '%s'%s; restarting it (job %s)"),
                     name, host, why ? why : "", job);
        else if (rc < 0)
            vr_event(e, "error", "", "vm", vm_id, "highly available VM '%s' crashed on host '%s' but its restart"
                     " could not be recorded: %s", name, host, err.message);
    }
    if (rc == 0)
        rc = vr_vm_move_down_for(e, vm_id, name, host_id, from, VR_VM_DOWN, reason, "", why);
    json_decref(vm);
    return rc > 0;
}
