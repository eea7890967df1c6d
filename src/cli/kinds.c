#include "kinds.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const vr_column dc_cols[] = {{"NAME", "name", 0}, {"DESCRIPTION", "description", 0},
                                    {"QUOTA-MODE", "quota_mode", 0}, {"ID", "id", 0}};
static const vr_column cl_cols[] = {{"NAME", "name", 0}, {"DATACENTER", "datacenter|datacenter_id", 0},
                                    {"CPU-TYPE", "cpu_type", 0}, {"VIRT-MODE", "virt_mode", 0}, {"ID", "id", 0}};
static const vr_column host_cols[] = {{"NAME", "name", 0}, {"STATUS", "status", 0}, {"ADDRESS", "address", 0},
                                      {"CLUSTER", "cluster|cluster_id", 0}, {"ID", "id", 0}};
static const vr_column vm_cols[] = {{"NAME", "name", 0}, {"STATUS", "status", 0}, {"HOST", "host|host_id", 0},
                                    {"MEMORY", "memory_mib", VR_FMT_MIB}, {"VCPUS", "vcpus", 0}, {"ID", "id", 0}};
static const vr_column job_cols[] = {{"ACTION", "action", 0}, {"OBJECT", "object_type", 0},
                                     {"STATUS", "status", 0}, {"DETAIL", "detail", 0}, {"ID", "id", 0}};
static const vr_column event_cols[] = {{"TIME", "time", VR_FMT_TIME}, {"SEVERITY", "severity", 0},
                                       {"USER", "user|user_name", 0}, {"MESSAGE", "message", 0}};

static const create_opt dc_create[] = {{"description", "description", "TEXT", 's', NULL, false},
                                       {"quota-mode", "quota_mode", "disabled|audit|enforced", 's', NULL, false},
                                       {0}};
static const create_opt cl_create[] = {
    {"datacenter", "datacenter_id", "DATACENTER", 'r', "datacenter", true},
    {"cpu-type", "cpu_type", "MODEL", 's', NULL, false}, {"virt-mode", "virt_mode", "any|kvm", 's', NULL, false},
    {"description", "description", "TEXT", 's', NULL, false},
    {"scheduling-policy", "name", "NAME", 'p', NULL, false}, {"policy-property", "properties", "KEY=N", 'p', NULL, false},
    /* members of migration_policy (docs/migration.md) */
    {"migration-policy", "policy", "NAME", 'm', NULL, false},
    {"migration-bandwidth", "bandwidth_mibps", "MIBPS", 'm', NULL, false},
    {"migration-downtime", "max_downtime_ms", "MS", 'm', NULL, false},
    {"migration-step", "convergence_step_s", "SECONDS", 'm', NULL, false},
    {"migration-stall-timeout", "stall_timeout_s", "SECONDS", 'm', NULL, false},
    {"migration-max-outgoing", "max_outgoing", "N", 'm', NULL, false},
    {"migration-max-incoming", "max_incoming", "N", 'm', NULL, false},
    /* members of fencing_policy (docs/fencing.md "Fencing policy") */
    {"fencing", "enabled", "on|off", 'f', NULL, false},
    {"fence-skip-if-sd-active", "skip_if_sd_active", "on|off", 'f', NULL, false},
    {"fence-skip-if-connectivity-broken", "skip_if_connectivity_broken", "on|off", 'f', NULL, false},
    {"fence-threshold", "threshold", "PERCENT", 'f', NULL, false},
    {"ha-reservation", "enabled", "on|off", 'a', NULL, false}, /* docs/fencing.md "HA reservation" */
    {0}};
static const create_opt host_create[] = {
    {"address", "address", "ADDR", 's', NULL, true}, {"cluster", "cluster_id", "CLUSTER", 'r', "cluster", true},
    {"port", "port", "PORT", 'i', NULL, false}, {"description", "description", "TEXT", 's', NULL, false},
    /* Install over SSH (docs/operations.md): members of "ssh". */
    {"ssh-password-file", "password", "FILE|-", 'x', NULL, false}, {"ssh-key", "use_engine_key", "", 'x', NULL, false},
    {"ssh-port", "port", "PORT", 'x', NULL, false}, {"ssh-fingerprint", "fingerprint", "SHA256:...", 'x', NULL, false},
    {"soft-fencing", "soft_fencing", "on|off", 'x', NULL, false}, /* docs/fencing.md "Soft fencing" */
    {0}};
static const create_opt vm_create[] = {
    {"cluster", "cluster_id", "CLUSTER", 'r', "cluster", true}, {"memory", "memory_mib", "MIB", 'i', NULL, true},
    {"vcpus", "vcpus", "N", 'i', NULL, false}, {"max-vcpus", "max_vcpus", "N", 'i', NULL, false},
    {"max-memory", "max_memory_mib", "MIB", 'i', NULL, false}, {"kernel", "kernel", "PATH", 'b', NULL, false},
    {"initrd", "initrd", "PATH", 'b', NULL, false}, {"cmdline", "cmdline", "ARGS", 'b', NULL, false},
    {"disk", "disks", "PATH[,ro]", 'd', NULL, false}, {"nic", "nics", "BRIDGE|user", 'n', NULL, false},
    {"description", "description", "TEXT", 's', NULL, false}, {"ha", "enabled", "on|off", 'h', NULL, false},
    {"ha-priority", "priority", "0-100", 'h', NULL, false}, {"lease", "lease", "SD-ID|none", 'l', NULL, false},
    {"quota", "quota", "QUOTA-ID", 's', NULL, false}, {0}};

static const char *const vm_actions[] = {"start", "stop", "shutdown", "reboot", "pause", "resume", "suspend"};
static const char *const host_actions[] = {"activate", "deactivate", "install", "enrollcertificate"};
static const char *const job_actions[] = {"cancel"};

static const kind kinds[] = {
    {"datacenter", "datacenters", dc_cols, N(dc_cols), dc_create, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"cluster", "clusters", cl_cols, N(cl_cols), cl_create, VR_NO_NAMES, false, false, "datacenter", "datacenter_id",
     "datacenters"},
    {"host", "hosts", host_cols, N(host_cols), host_create, VR_NAMES(host_actions), true, false, "cluster",
     "cluster_id", "clusters"},
    {"vm", "vms", vm_cols, N(vm_cols), vm_create, VR_NAMES(vm_actions), true, false, "host", "host_id", "hosts"},
    {"job", "jobs", job_cols, N(job_cols), NULL, VR_NAMES(job_actions), false, true, NULL, NULL, NULL},
};

const kind vr_kind_events = {"event", "events", event_cols, N(event_cols), NULL, VR_NO_NAMES, false, true,
                             NULL, NULL, NULL};

/* Each create option above, once: getopt must know all of them before it
 * knows the kind (a kind's own list then says which apply). */
const vr_xopt vr_create_opts[VR_NCREATE_NAMES] = {
    {"description", false}, {"datacenter", false}, {"cpu-type", false}, {"virt-mode", false}, {"address", false},
    {"port", false}, {"cluster", false}, {"memory", false}, {"vcpus", false}, {"max-vcpus", false},
    {"max-memory", false}, {"kernel", false}, {"initrd", false}, {"cmdline", false}, {"disk", false},
    {"nic", false}, {"ha", false}, {"ha-priority", false}, {"ssh-password-file", false}, {"ssh-key", true},
    {"ssh-port", false}, {"ssh-fingerprint", false}, {"scheduling-policy", false}, {"policy-property", false},
    {"lease", false}, {"quota-mode", false}, {"quota", false}, {"soft-fencing", false}, {"migration-policy", false},
    {"migration-bandwidth", false}, {"migration-downtime", false}, {"migration-step", false},
    {"migration-stall-timeout", false}, {"fencing", false},
    {"fence-skip-if-sd-active", false}, {"fence-skip-if-connectivity-broken", false}, {"fence-threshold", false},
    {"ha-reservation", false}, {"migration-max-outgoing", false}, {"migration-max-incoming", false}};

const kind *vr_kind_find(const char *name)
{
    for (size_t i = 0; i < N(kinds); i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

const create_opt *vr_kind_create_opt(const kind *k, const char *opt)
{
    for (const create_opt *o = k->create; o->opt; o++)
        if (!strcmp(o->opt, opt))
            return o;
    return NULL;
}
