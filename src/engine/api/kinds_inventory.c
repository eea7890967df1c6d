/* Data centers and clusters: plain kinds, described by their tables. */
#include <string.h>

#include "jsonx.h"
#include "kind.h"
#include "fencepolicy.h"
#include "hareserve.h"
#include "migpolicy.h"
#include "osupgrade.h"
#include "policy.h"

/* Members every named kind has. */
#define ID_FIELD {"id", VR_FT_ID, 0, .doc = "Assigned by the engine."}
#define NAME_FIELD {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, \
    .doc = "Unique among its kind: 1-64 letters, digits, '.', '-', '_'."}
#define DESC_FIELD {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""}
#define CREATED_FIELD {"created_at", VR_FT_TIME, VR_F_SORT, .doc = "When it was created."}

static const vr_field dc_fields[] = {
    ID_FIELD, NAME_FIELD, DESC_FIELD, CREATED_FIELD,
    {"spm_host", VR_FT_ID, VR_F_NULL, .doc = "The host that is its SPM (Storage Pool Manager); null when none."},
    {"master_storage_domain", VR_FT_ID, VR_F_NULL, .doc = "Its master storage domain; null before the first data"
     " domain is attached."},
    {"storage_status", VR_FT_STR, 0, .doc = "Its storage pool as the SPM election sees it (uninitialized, up,"
     " contending, nonresponsive...)."},
    {"quota_mode", VR_FT_ENUM, VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("disabled", "audit", "enforced"),
     .dflt = "\"disabled\"", .doc = "What its quotas do (docs/permissions.md \"Quotas\"): nothing (disabled), warn"
     " of overruns with an event and let them through (audit), or refuse what goes beyond a quota's grace"
     " (enforced)."},
};

const vr_kind vr_kind_datacenters = {
    .collection = "datacenters", .type = "datacenter", .title = "data center", .schema = "DataCenter",
    .tag = "Data centers", .store = &vr_store_datacenters,
    .fields = dc_fields, .nfields = VR_ARRAY_SIZE(dc_fields),
    .delete_in_use = "it still has clusters",
};

/* A CPU model name as libvirt spells them. */
#define CPU_PATTERN "^[A-Za-z0-9_.-]{1,64}$"

static int check_cpu(const char *cpu, vr_error *err)
{
    if (cpu && (strlen(cpu) > 64 || !*cpu ||
                strspn(cpu, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(cpu)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "cpu_type is not a valid CPU model name");
    return 0;
}

/* A scheduling or migration policy given: checked, stored with every
 * parameter. */
static int check_policy(json_t *body, json_t *row, vr_error *err)
{
    json_t *p = json_object_get(body, "scheduling_policy"), *m = json_object_get(body, "migration_policy"),
           *f = json_object_get(body, "fencing_policy");
    /* fencing_policy members left out keep the cluster's value */
    return (p && vr_policy_normalize(p, err) < 0) || (m && vr_migpolicy_normalize(m, err) < 0) ||
           (f && vr_fence_policy_normalize(f, json_object_get(row, "fencing_policy"), err) < 0) ? -1 : 0;
}

/* The HA reservation switch: {"enabled": bool} is all a client may give
 * (ok and detail are the engine's verdict); not given, it keeps the
 * cluster's (off at create). Left in the body as {"enabled": bool}. */
static int check_ha(json_t *body, json_t *row, vr_error *err)
{
    json_t *given = json_object_get(body, "ha_reservation");
    json_t *cur = row ? json_object_get(row, "ha_reservation") : NULL;
    bool on = json_is_true(json_object_get(cur, "enabled"));
    /* vr_kind_check_body fills a PUT's members left out with the row's own
     * (the same object): that is not given */
    if (given && given != cur) {
        static const char *const members[] = {"enabled"};
        if (!json_is_object(given))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ha_reservation must be an object {\"enabled\": true"
                                " or false}");
        if (vr_json_check_keys(given, "ha_reservation", VR_NAMES(members), err) < 0)
            return -1;
        json_t *en = json_object_get(given, "enabled");
        if (!json_is_boolean(en))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ha_reservation.enabled must be true or false");
        on = json_is_true(en);
    }
    json_object_set_new(body, "ha_reservation", json_pack("{s:b}", "enabled", on));
    return 0;
}

static int cluster_check_create(vr_call *c, json_t *body, vr_error *err)
{
    return check_cpu(json_string_value(json_object_get(body, "cpu_type")), err) < 0 ||
                   check_policy(body, NULL, err) < 0 ? -1
                                                     : check_ha(body, NULL, err);
}

/* Switching to in_cluster_upgrade: its preconditions (osupgrade.h). A
 * cluster already under it keeps it whatever else changes. */
static int check_upgrade(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    vr_sched_policy now, asked;
    vr_policy_parse(json_object_get(row, "scheduling_policy"), &now);
    vr_policy_parse(json_object_get(body, "scheduling_policy"), &asked);
    if (asked.name != VR_POLICY_UPGRADE || now.name == VR_POLICY_UPGRADE)
        return 0;
    return vr_upgrade_preconditions(c->e, json_string_value(json_object_get(row, "id")) ?: "", err);
}

static int cluster_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    return check_cpu(json_string_value(json_object_get(body, "cpu_type")), err) < 0 ||
                   check_policy(body, row, err) < 0 || check_ha(body, row, err) < 0
               ? -1
               : check_upgrade(c, row, body, err);
}

/* A cluster links to its data center. */
static void cluster_present(vr_engine *e, json_t *row)
{
    const char *dc = json_string_value(json_object_get(row, "datacenter_id")) ?: "";
    char href[128];
    snprintf(href, sizeof(href), "/api/datacenters/%s", dc);
    json_object_set_new(row, "datacenter", json_pack("{s:s, s:s}", "id", dc, "href", href));
    if (!json_is_object(json_object_get(row, "scheduling_policy")))
        json_object_set_new(row, "scheduling_policy", vr_policy_default());
    /* a policy stored before a member existed shows that member's default */
    json_t *mig = json_object_get(row, "migration_policy");
    if (!json_is_object(mig) || vr_migpolicy_normalize(mig, &(vr_error){0}) < 0)
        json_object_set_new(row, "migration_policy", vr_migpolicy_default());
    json_t *fence = json_object_get(row, "fencing_policy");
    if (!json_is_object(fence) || vr_fence_policy_normalize(fence, NULL, &(vr_error){0}) < 0)
        json_object_set_new(row, "fencing_policy", vr_fence_policy_default());
    /* The HA reservation: the switch, and the verdict while it is on. */
    bool on = json_integer_value(json_object_get(row, "ha_reservation_enabled")) != 0;
    json_object_del(row, "ha_reservation_enabled");
    json_t *ha = on ? vr_ha_reserve_eval(e, json_string_value(json_object_get(row, "id")) ?: "")
                    : json_pack("{s:n, s:s}", "ok", "detail", "HA reservation is off for this cluster");
    if (!ha)
        ha = json_pack("{s:b, s:s}", "ok", 0, "detail", "not known: the database did not answer");
    json_object_set_new(ha, "enabled", json_boolean(on));
    json_object_set_new(row, "ha_reservation", ha);
}

static const vr_field cl_fields[] = {
    ID_FIELD, NAME_FIELD, DESC_FIELD,
    {"datacenter_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "datacenters",
     .doc = "Its data center (cannot change)."},
    {"cpu_type", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 1, 64, .schema = CPU_PATTERN, .dflt = "\"qemu64\"",
     .doc = "CPU model every VM of the cluster gets; hosts that cannot provide it are nonoperational."},
    {"virt_mode", VR_FT_ENUM, VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("any", "kvm"), .dflt = "\"any\"",
     .doc = "'kvm': hosts without hardware virtualization are nonoperational."},
    {"scheduling_policy", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "SchedulingPolicy",
     .doc = "How its load is balanced (none, evenly_distributed, vm_evenly_distributed, power_saving) with the"
            " policy's parameters; default none."},
    {"migration_policy", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "MigrationPolicy",
     .doc = "How its VMs migrate (minimal_downtime, suspend_workload, post_copy) with the bandwidth, the starting"
            " downtime limit, auto-convergence and compression; every member shown with its default."},
    {"fencing_policy", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "FencingPolicy",
     .doc = "When the engine fences a non-responsive host of the cluster on its own (docs/fencing.md): enabled,"
            " skip_if_sd_active (not while the host still renews its storage lease), skip_if_connectivity_broken"
            " with threshold (not while more than that percentage of its hosts are unreachable); members left"
            " out keep their value."},
    {"mac_pool_id", VR_FT_REF, VR_F_CREATE | VR_F_UPDATE, .ref = "macpools",
     .dflt = "\"00000000-0000-4000-8000-00000000ac01\"",
     .doc = "The MAC pool its VMs' NICs get addresses from (default: the Default pool). A change applies to NICs"
            " added afterwards; addresses already given stay."},
    CREATED_FIELD,
    {"datacenter", VR_FT_JSON, 0, .schema = "Link", .doc = "Link to its data center."},
    {"ha_reservation", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "HaReservation",
     .doc = "The HA reservation switch ({\"enabled\": bool}, default off) and, while on, whether its highly"
            " available VMs could all restart if any one host failed (docs/fencing.md)."},
};

const vr_kind vr_kind_clusters = {
    .collection = "clusters", .type = "cluster", .title = "cluster", .schema = "Cluster", .tag = "Clusters",
    .store = &vr_store_clusters, .fields = cl_fields, .nfields = VR_ARRAY_SIZE(cl_fields),
    .parent = "datacenters", .parent_field = "datacenter_id",
    .delete_in_use = "it still has hosts or VMs",
    .check_create = cluster_check_create, .check_update = cluster_check_update, .present = cluster_present,
};
