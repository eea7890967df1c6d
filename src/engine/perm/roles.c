/* The catalogue: action groups, the predefined roles made of them, and
 * the action group every operation of every kind needs - one table here
 * rather than a line in each kind, so kinds stay free of authorization. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "perm.h"

const char *const vr_action_groups[] = {
    /* system */
    "manipulate_users", "manipulate_roles", "manipulate_permissions", "configure_engine", "configure_mac_pool",
    /* data centers */
    "create_storage_pool", "edit_storage_pool_configuration", "delete_storage_pool",
    "create_storage_pool_network", "configure_storage_pool_network", "delete_storage_pool_network",
    /* clusters */
    "create_cluster", "edit_cluster_configuration", "delete_cluster", "configure_cluster_network",
    "manipulate_affinity_groups",
    /* hosts */
    "create_host", "edit_host_configuration", "delete_host", "manipulate_host", "configure_host_network",
    /* storage */
    "create_storage_domain", "edit_storage_domain_configuration", "delete_storage_domain",
    "manipulate_storage_domain", "create_disk", "edit_disk_properties", "delete_disk", "configure_disk_storage",
    /* VMs */
    "create_vm", "delete_vm", "edit_vm_properties", "vm_basic_operations", "connect_to_vm", "migrate_vm",
    "manipulate_vm_snapshots", "configure_vm_network", "configure_vm_storage",
    /* templates and pools */
    "create_template", "edit_template_properties", "delete_template",
    "create_vm_pool", "edit_vm_pool_configuration", "delete_vm_pool", "vm_pool_basic_operations",
    /* quotas */
    "configure_quota", "consume_quota",
};
const size_t vr_naction_groups = VR_ARRAY_SIZE(vr_action_groups);

bool vr_action_group_known(const char *name)
{
    for (size_t i = 0; i < vr_naction_groups; i++)
        if (!strcmp(vr_action_groups[i], name))
            return true;
    return false;
}

#define VM_USE "vm_basic_operations", "connect_to_vm", "vm_pool_basic_operations"
#define VM_MANAGE VM_USE, "delete_vm", "edit_vm_properties", "manipulate_vm_snapshots", "configure_vm_network", \
    "configure_vm_storage", "manipulate_permissions"
#define VM_ADMIN VM_MANAGE, "create_vm", "migrate_vm"
#define POOL_ADMIN "create_vm_pool", "edit_vm_pool_configuration", "delete_vm_pool", "vm_pool_basic_operations"
#define TEMPLATE_ADMIN "create_template", "edit_template_properties", "delete_template"
#define HOST_ADMIN "edit_host_configuration", "delete_host", "manipulate_host", "configure_host_network"
#define NETWORK_ADMIN "create_storage_pool_network", "configure_storage_pool_network", "delete_storage_pool_network", \
    "configure_cluster_network", "configure_host_network", "configure_vm_network"
#define STORAGE_ADMIN "create_storage_domain", "edit_storage_domain_configuration", "delete_storage_domain", \
    "manipulate_storage_domain", "create_disk", "edit_disk_properties", "delete_disk", "configure_disk_storage"
#define CLUSTER_ADMIN "edit_cluster_configuration", "delete_cluster", "configure_cluster_network", "create_host", \
    "manipulate_affinity_groups", \
    HOST_ADMIN, VM_ADMIN, POOL_ADMIN, TEMPLATE_ADMIN, "create_disk", "edit_disk_properties", "delete_disk", \
    "configure_disk_storage"
#define GROUPS(...) ((const char *const[]){__VA_ARGS__, NULL})

const vr_role_def vr_predefined_roles[] = {
    {VR_SUPERUSER_ROLE_ID, "SuperUser", "Every action on every object (system administrator)", true, NULL},
    {"00000000-0000-4000-8000-000000000002", "DataCenterAdmin",
     "Every object of a data center except its storage: clusters, hosts, networks, templates, pools, VMs", true,
     GROUPS("edit_storage_pool_configuration", "delete_storage_pool", "create_cluster", CLUSTER_ADMIN,
            "create_storage_pool_network", "configure_storage_pool_network", "delete_storage_pool_network",
            "manipulate_permissions", "configure_quota", "consume_quota")},
    {"00000000-0000-4000-8000-000000000003", "ClusterAdmin",
     "Every object of a cluster: hosts, VMs, templates, pools", true, GROUPS(CLUSTER_ADMIN, "consume_quota")},
    {"00000000-0000-4000-8000-000000000004", "HostAdmin", "Configure, manage and remove a host", true,
     GROUPS(HOST_ADMIN)},
    {"00000000-0000-4000-8000-000000000005", "StorageAdmin", "Create, configure, manage and remove storage domains"
     " and their disks", true, GROUPS(STORAGE_ADMIN, "consume_quota")},
    {"00000000-0000-4000-8000-000000000006", "NetworkAdmin", "Configure and manage the networks of a data center,"
     " cluster, host or VM", true, GROUPS(NETWORK_ADMIN)},
    {"00000000-0000-4000-8000-000000000007", "TemplateAdmin", "Create, configure and remove templates", true,
     GROUPS(TEMPLATE_ADMIN)},
    {"00000000-0000-4000-8000-000000000008", "VmPoolAdmin", "Create, configure and remove VM pools and use their VMs",
     true, GROUPS(POOL_ADMIN, "vm_basic_operations", "connect_to_vm")},
    {"00000000-0000-4000-8000-000000000009", "UserRole", "Use VMs and pools: see them, start, stop, take a VM from a"
     " pool", false, GROUPS(VM_USE, "consume_quota")},
    {"00000000-0000-4000-8000-00000000000a", "PowerUserRole", "Create VMs, templates and disks where given, and use"
     " them, within the quotas they may consume", false,
     GROUPS("create_vm", "create_template", "create_disk", VM_USE, "consume_quota")},
    {"00000000-0000-4000-8000-00000000000b", "UserVmManager", "Manage a VM: edit, remove, snapshots, devices, its"
     " permissions", false, GROUPS(VM_MANAGE, "consume_quota")},
    {"00000000-0000-4000-8000-00000000000c", "VmCreator", "Create VMs", false, GROUPS("create_vm", "consume_quota")},
    {"00000000-0000-4000-8000-00000000000d", "TemplateCreator", "Create templates", false,
     GROUPS("create_template")},
    {"00000000-0000-4000-8000-00000000000e", "DiskCreator", "Create disks", false,
     GROUPS("create_disk", "consume_quota")},
    {"00000000-0000-4000-8000-00000000000f", "DiskOperator", "Edit, copy, extend and remove a disk", false,
     GROUPS("edit_disk_properties", "delete_disk", "configure_disk_storage")},
    {"00000000-0000-4000-8000-000000000010", "QuotaConsumer", "Consume a quota: VMs and disks that count against"
     " it (given on the quota)", false, GROUPS("consume_quota")},
};
const size_t vr_npredefined_roles = VR_ARRAY_SIZE(vr_predefined_roles);

/* What each operation needs: kind (type + collection), action. A NULL
 * action is the kind's default for whatever the other lines do not say. */
static const struct {
    const char *type, *collection, *action, *group;
} needs[] = {
    {"datacenter", "datacenters", "create", "create_storage_pool"},
    {"datacenter", "datacenters", "update", "edit_storage_pool_configuration"},
    {"datacenter", "datacenters", "delete", "delete_storage_pool"},
    {"cluster", "clusters", "create", "create_cluster"},
    {"cluster", "clusters", "update", "edit_cluster_configuration"},
    {"cluster", "clusters", "delete", "delete_cluster"},
    {"cluster", "networks", NULL, "configure_cluster_network"},
    {"affinitygroup", "affinitygroups", NULL, "manipulate_affinity_groups"},
    {"host", "hosts", "create", "create_host"},
    {"host", "hosts", "update", "edit_host_configuration"},
    {"host", "hosts", "delete", "delete_host"},
    {"host", "hosts", "setupnetworks", "configure_host_network"},
    {"host", "hosts", NULL, "manipulate_host"}, /* activate, deactivate */
    {"vm", "vms", "create", "create_vm"},
    {"vm", "vms", "delete", "delete_vm"},
    {"vm", "vms", "update", "edit_vm_properties"},
    {"vm", "vms", "balloon", "edit_vm_properties"},
    {"vm", "vms", "migrate", "migrate_vm"},
    {"vm", "vms", "clone", "create_vm"},
    {"vm", "vms", "ticket", "connect_to_vm"}, /* a console (ch. 1.3: console access is its own permission) */
    {"vm", "vms", NULL, "vm_basic_operations"}, /* start, stop, shutdown, reboot, pause, resume */
    {"vm", "nics", NULL, "configure_vm_network"},
    {"vm", "disks", NULL, "configure_vm_storage"},
    {"snapshot", "snapshots", NULL, "manipulate_vm_snapshots"},
    {"storagedomain", "storagedomains", "create", "create_storage_domain"},
    {"storagedomain", "storagedomains", "update", "edit_storage_domain_configuration"},
    {"storagedomain", "storagedomains", "delete", "delete_storage_domain"},
    {"storagedomain", "storagedomains", NULL, "manipulate_storage_domain"}, /* attach, detach, activate... */
    {"disk", "disks", "create", "create_disk"},
    {"disk", "disks", "update", "edit_disk_properties"},
    {"disk", "disks", "delete", "delete_disk"},
    {"disk", "disks", NULL, "configure_disk_storage"}, /* copy, extend, upload, download */
    {"template", "templates", "create", "create_template"},
    {"template", "templates", "update", "edit_template_properties"},
    {"template", "templates", "delete", "delete_template"},
    {"template", "templates", "createvm", "create_vm"},
    {"template", "templates", "export", "create_template"}, /* a copy of it elsewhere (RHV: import_export_vm) */
    {"vmpool", "vmpools", "create", "create_vm_pool"},
    {"vmpool", "vmpools", "update", "edit_vm_pool_configuration"},
    {"vmpool", "vmpools", "delete", "delete_vm_pool"},
    {"vmpool", "vmpools", NULL, "vm_pool_basic_operations"}, /* allocatevm, releasevm */
    {"network", "networks", "create", "create_storage_pool_network"},
    {"network", "networks", "delete", "delete_storage_pool_network"},
    {"network", "networks", NULL, "configure_storage_pool_network"},
    {"vnicprofile", "vnicprofiles", NULL, "configure_storage_pool_network"},
    {"user", "users", NULL, "manipulate_users"},
    {"group", "groups", NULL, "manipulate_users"},
    {"group", "members", NULL, "manipulate_users"},
    {"role", "roles", NULL, "manipulate_roles"},
    {"permission", "permissions", NULL, "manipulate_permissions"},
    {"domain", "domains", NULL, "configure_engine"},
    {"macpool", "macpools", NULL, "configure_mac_pool"}, /* system-wide objects, as oVirt's */
    {"quota", "quotas", NULL, "configure_quota"},
};

const char *vr_action_group_for(const char *type, const char *collection, const char *action)
{
    const char *dflt = NULL;
    for (size_t i = 0; i < VR_ARRAY_SIZE(needs); i++) {
        if (strcmp(needs[i].type, type) || (collection && strcmp(needs[i].collection, collection)))
            continue;
        if (!needs[i].action && !dflt)
            dflt = needs[i].group;
        else if (needs[i].action && !strcmp(needs[i].action, action))
            return needs[i].group;
    }
    return dflt ? dflt : "configure_engine";
}

static int write_role(vr_engine *e, const vr_role_def *r, vr_error *err)
{
    json_t *groups = json_array();
    for (size_t i = 0; r->groups ? r->groups[i] != NULL : i < vr_naction_groups; i++) {
        const char *g = r->groups ? r->groups[i] : vr_action_groups[i];
        bool dup = false; /* the roles are built of overlapping lists */
        for (size_t j = 0; j < json_array_size(groups); j++)
            dup = dup || !strcmp(json_string_value(json_array_get(groups, j)), g);
        if (!dup)
            json_array_append_new(groups, json_string(g));
    }
    char *text = json_dumps(groups, JSON_COMPACT);
    int rc = -1;
    if (text &&
        vr_db_exec(e->db, "INSERT INTO roles (id, name, description, administrative, predefined, action_groups_json,"
                   " created_at) VALUES (?,?,?,?,1,?,0) ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                   " description = excluded.description, administrative = excluded.administrative,"
                   " action_groups_json = excluded.action_groups_json",
                   DB_ARGS(DB_TEXT(r->id), DB_TEXT(r->name), DB_TEXT(r->description), DB_INT(r->administrative),
                           DB_TEXT(text)), err) >= 0 &&
        vr_db_exec(e->db, "DELETE FROM role_action_groups WHERE role_id = ?", DB_ARGS(DB_TEXT(r->id)), err) >= 0) {
        rc = 0;
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
            if (vr_db_exec(e->db, "INSERT INTO role_action_groups (role_id, action_group) VALUES (?,?)",
                           DB_ARGS(DB_TEXT(r->id), DB_TEXT(json_string_value(g))), err) < 0) {
                rc = -1;
                break;
            }
    }
    free(text);
    json_decref(groups);
    return rc;
}

int vr_perm_bootstrap(vr_engine *e, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    for (size_t i = 0; i < vr_npredefined_roles; i++)
        if (write_role(e, &vr_predefined_roles[i], err) < 0)
            goto fail;
    json_t *admin = vr_db_query_one(e->db, "SELECT id FROM users WHERE name = ?", DB_ARGS(DB_TEXT(VR_ADMIN_USER)),
                                    err);
    if (!admin) {
        if (!err->code)
            vr_error_set(err, VR_ERR_INTERNAL, "no user %s to give SuperUser to", VR_ADMIN_USER);
        goto fail;
    }
    char id[37];
    vr_uuid_new(id);
    int n = vr_db_exec(e->db, "INSERT INTO permissions (id, user_id, group_id, role_id, object_type, object_id,"
                       " created_at) SELECT ?, ?, NULL, ?, 'system', ?, ? WHERE NOT EXISTS (SELECT 1 FROM permissions"
                       " WHERE user_id = ? AND role_id = ? AND object_id = ?)",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(json_string_value(json_object_get(admin, "id"))),
                               DB_TEXT(VR_SUPERUSER_ROLE_ID), DB_TEXT(VR_SYSTEM_ID), DB_INT(vr_now()),
                               DB_TEXT(json_string_value(json_object_get(admin, "id"))),
                               DB_TEXT(VR_SUPERUSER_ROLE_ID), DB_TEXT(VR_SYSTEM_ID)),
                       err);
    json_decref(admin);
    if (n < 0)
        goto fail;
    return vr_db_commit(e->db, err);
fail:
    vr_db_rollback(e->db);
    return -1;
}
