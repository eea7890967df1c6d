#include "vmstatus.h"

#include <stdio.h>
#include <string.h>

const char *const vr_vm_status_names[VR_VM_NSTATUS] = {
    [VR_VM_DOWN] = "down", [VR_VM_WAITFORLAUNCH] = "waitforlaunch", [VR_VM_POWERINGUP] = "poweringup",
    [VR_VM_UP] = "up", [VR_VM_PAUSED] = "paused", [VR_VM_POWERINGDOWN] = "poweringdown",
    [VR_VM_NOTRESPONDING] = "notresponding", [VR_VM_UNKNOWN] = "unknown",
    [VR_VM_MIGRATINGFROM] = "migratingfrom", [VR_VM_IMAGELOCKED] = "imagelocked",
    [VR_VM_SAVINGSTATE] = "savingstate", [VR_VM_SUSPENDED] = "suspended"};

int vr_vm_status_parse(const char *s)
{
    for (int i = 0; s && i < VR_VM_NSTATUS; i++)
        if (!strcmp(s, vr_vm_status_names[i]))
            return i;
    return -1;
}

/* Moves a host's monitor may make: everything but into or out of
 * waitforlaunch (the start job owns those) and nothing from down except
 * adopting a VM found running (a start whose reply was lost). */
static bool allowed(vr_vm_status from, vr_vm_status to)
{
    if (from == to || from == VR_VM_WAITFORLAUNCH || to == VR_VM_WAITFORLAUNCH)
        return false;
    if (from == VR_VM_MIGRATINGFROM || to == VR_VM_MIGRATINGFROM) /* the migrate job's */
        return false;
    if (from == VR_VM_SAVINGSTATE || to == VR_VM_SAVINGSTATE || from == VR_VM_SUSPENDED ||
        to == VR_VM_SUSPENDED) /* the suspend job's and the start job's */
        return false;
    return true;
}

/* Stopping unasked or not responding is a warning, whichever path (event
 * or poll) sees it first. */
static const char *severity(vr_vm_status from, vr_vm_status to)
{
    return (to == VR_VM_DOWN && from != VR_VM_POWERINGDOWN) || to == VR_VM_NOTRESPONDING ? "warning" : "normal";
}

int vr_vm_move(vr_engine *e, const char *vm_id, const char *name, const char *host_id, vr_vm_status from,
               vr_vm_status to, const char *user, const char *why)
{
    return vr_vm_move_down_for(e, vm_id, name, host_id, from, to, NULL, user, why);
}

int vr_vm_move_down_for(vr_engine *e, const char *vm_id, const char *name, const char *host_id, vr_vm_status from,
                        vr_vm_status to, const char *reason, const char *user, const char *why)
{
    if (!allowed(from, to))
        return 0;
    if (to == VR_VM_DOWN && reason) {
        int n = vr_db_exec(e->db, "UPDATE vms SET status = 'down', host_id = NULL, stop_reason = ?,"
                           " stop_requested = 0 WHERE id = ? AND status = ? AND host_id = ?",
                           DB_ARGS(DB_TEXT(reason), DB_TEXT(vm_id), DB_TEXT(vr_vm_status_names[from]),
                                   DB_TEXT(host_id)), NULL);
        if (n > 0)
            vr_event(e, severity(from, to), user ? user : "", "vm", vm_id, "VM '%s' is down (%s)%s",
                     name ? name : vm_id, reason, why ? why : "");
        return n;
    }
    const char *sql = to == VR_VM_DOWN
        ? "UPDATE vms SET status = ?, host_id = NULL WHERE id = ? AND status = ? AND host_id = ?"
        : from == VR_VM_DOWN /* adoption: the row may name no host yet */
        ? "UPDATE vms SET status = ?, host_id = ? WHERE id = ? AND status = ? AND (host_id IS NULL OR host_id = ?)"
        : "UPDATE vms SET status = ? WHERE id = ? AND status = ? AND host_id = ?";
    int n = from == VR_VM_DOWN && to != VR_VM_DOWN
        ? vr_db_exec(e->db, sql, DB_ARGS(DB_TEXT(vr_vm_status_names[to]), DB_TEXT(host_id), DB_TEXT(vm_id),
                                         DB_TEXT(vr_vm_status_names[from]), DB_TEXT(host_id)), NULL)
        : vr_db_exec(e->db, sql, DB_ARGS(DB_TEXT(vr_vm_status_names[to]), DB_TEXT(vm_id),
                                         DB_TEXT(vr_vm_status_names[from]), DB_TEXT(host_id)), NULL);
    if (n <= 0)
        return n;
    vr_event(e, severity(from, to), user ? user : "", "vm", vm_id, "VM '%s' is %s%s", name ? name : vm_id,
             vr_vm_status_names[to], why ? why : "");
    return 1;
}

/* The disk behind the guest's target: "ALIAS (TARGET)" when the VM's stored
 * devices give that target a volume path (.../images/<disk id>/<volume>) of
 * a disk the engine knows, else the target itself. */
static void disk_name(vr_engine *e, const char *vm_id, const char *target, char *out, size_t len)
{
    snprintf(out, len, "%s", *target ? target : "?");
    json_t *vm = vr_db_query_one(e->db, "SELECT devices_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    json_t *devs = json_object_get(vm, "devices"), *dev; /* (the _json column, parsed) */
    size_t i;
    json_array_foreach(*target ? devs : NULL, i, dev) {
        const char *path = json_string_value(json_object_get(dev, "path")) ?: "";
        const char *img = strstr(path, "/images/");
        if (strcmp(json_string_value(json_object_get(dev, "target")) ?: "", target) || !img ||
            strlen(img) < 8 + 36)
            continue;
        char id[37];
        snprintf(id, sizeof(id), "%.36s", img + 8);
        json_t *d = vr_db_query_one(e->db, "SELECT alias FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
        if (d)
            snprintf(out, len, "%s (%s)", json_string_value(json_object_get(d, "alias")) ?: "", target);
        json_decref(d);
        break;
    }
    json_decref(vm);
}

void vr_vm_note_pause(vr_engine *e, const char *vm_id, const char *name, const char *host_id, json_t *agent_vm)
{
    const char *why = json_string_value(json_object_get(agent_vm, "pause_reason")) ?: "";
    const char *disk = json_string_value(json_object_get(agent_vm, "pause_disk")) ?: "";
    if (strlen(why) > 32) /* a name, never a story */
        return;
    /* Compare-and-set: only the poll that sees the change tells it. */
    int n = vr_db_exec(e->db, "UPDATE vms SET pause_reason = ? WHERE id = ? AND host_id = ? AND pause_reason <> ?",
                       DB_ARGS(DB_TEXT(why), DB_TEXT(vm_id), DB_TEXT(host_id), DB_TEXT(why)), NULL);
    if (n <= 0)
        return;
    char dn[200];
    if (!strcmp(why, "enospc") || !strcmp(why, "ioerror"))
        disk_name(e, vm_id, disk, dn, sizeof(dn));
    if (!strcmp(why, "enospc"))
        vr_event(e, "warning", "", "vm", vm_id, "VM '%s' has been paused due to no storage space error (disk %s)",
                 name, dn);
    else if (!strcmp(why, "ioerror"))
        vr_event(e, "warning", "", "vm", vm_id, "VM '%s' has been paused due to a storage I/O error (disk %s)", name,
                 dn);
}
