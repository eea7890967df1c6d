/* The fleet's figures for GET /metrics: what the host monitors stored
 * (each host's last Host.getStats, its status), the VMs' last statistics
 * (monitor/vmstats.c), counts per status, storage domain space. */
#include <stdio.h>
#include <string.h>

#include "hoststatus.h"
#include "jobs.h"
#include "metrics.h"
#include "names.h"
#include "vmstats.h"
#include "vmstatus.h"

/* A number at obj[key] (or obj[sub][key]); false when absent, not a
 * number, or negative where the agent uses -1 for "unreadable". */
static bool num(json_t *obj, const char *sub, const char *key, double *out)
{
    json_t *o = sub ? json_object_get(obj, sub) : obj;
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return *out >= 0;
}

static const char *str(json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key)) ?: "";
}

/* Counts per status: every status of the machine (0 included), then any
 * other status found in the rows. */
static void per_status(vr_prom *p, const char *name, const char *help, const char *const *names, size_t n,
                       json_t *rows, const char *count_key)
{
    json_t *counts = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(counts, names[i], json_integer(0));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *st = str(r, "status");
        json_int_t add = count_key ? json_integer_value(json_object_get(r, count_key)) : 1;
        json_object_set_new(counts, st, json_integer(json_integer_value(json_object_get(counts, st)) + add));
    }
    vr_prom_family(p, name, "gauge", help);
    const char *st;
    json_t *c;
    json_object_foreach(counts, st, c) vr_prom_sample(p, name, VR_LABELS("status", st), (double)json_integer_value(c));
    json_decref(counts);
}

/* One gauge per row: its column times scale, labelled with the row's id
 * and name (as id_label, name_label). */
static void row_gauge(vr_prom *p, json_t *rows, const char *id_label, const char *name_label, const char *metric,
                      const char *help, const char *column, double scale)
{
    vr_prom_family(p, metric, "gauge", help);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        vr_prom_sample(p, metric, VR_LABELS(id_label, str(r, "id"), name_label, str(r, "name")),
                       (double)json_integer_value(json_object_get(r, column)) * scale);
    }
}

/* ---- hosts ---- */

typedef struct figure {
    const char *name, *help;
    const char *sub, *key; /* where in the statistics object */
    double scale;          /* to the metric's unit */
} figure;

static const figure host_figures[] = {
    {"vireo_host_cpu_usage_ratio", "Share of the host's CPU time busy since its previous poll (0-1).",
     NULL, "cpu_percent", 0.01},
    {"vireo_host_memory_total_bytes", "The host's RAM.", "memory", "total_kib", 1024},
    {"vireo_host_memory_free_bytes", "The host's free RAM (MemFree).", "memory", "free_kib", 1024},
    {"vireo_host_memory_available_bytes", "The host's available RAM (MemAvailable).", "memory",
     "available_kib", 1024},
    {"vireo_host_memory_vms_bytes", "Current memory of all domains running on the host.", "memory",
     "used_by_vms_kib", 1024},
    {"vireo_host_running_domains", "Domains running on the host, Vireo's or not.", NULL, "vm_count", 1},
    {"vireo_host_uptime_seconds", "Time since the host booted.", NULL, "uptime_s", 1},
};

static void host_figure_rows(vr_prom *p, json_t *hosts, const figure *f)
{
    vr_prom_family(p, f->name, "gauge", f->help);
    size_t i;
    json_t *h;
    double v;
    json_array_foreach(hosts, i, h) {
        if (num(json_object_get(h, "stats"), f->sub, f->key, &v))
            vr_prom_sample(p, f->name, VR_LABELS("host_id", str(h, "id"), "host", str(h, "name")), v * f->scale);
    }
}

static void host_nics(vr_prom *p, json_t *hosts, const char *name, const char *help, const char *key)
{
    vr_prom_family(p, name, "counter", help);
    size_t i, j;
    json_t *h, *nic;
    double v;
    json_array_foreach(hosts, i, h) {
        json_array_foreach(json_object_get(json_object_get(h, "stats"), "nics"), j, nic) {
            if (num(nic, NULL, key, &v))
                vr_prom_sample(p, name, VR_LABELS("host_id", str(h, "id"), "host", str(h, "name"), "nic",
                                                  str(nic, "name")), v);
        }
    }
}

static void hosts_part(vr_prom *p, json_t *hosts)
{
    per_status(p, "vireo_hosts", "Hosts per status.", vr_host_status_names, VR_HOST_NSTATUS, hosts, NULL);
    size_t i;
    json_t *h;
    vr_prom_family(p, "vireo_host_info", "gauge", "One per host: its cluster, address and status.");
    json_array_foreach(hosts, i, h) {
        vr_prom_sample(p, "vireo_host_info",
                       VR_LABELS("host_id", str(h, "id"), "host", str(h, "name"), "cluster", str(h, "cluster"),
                                 "address", str(h, "address"), "status", str(h, "status")), 1);
    }
    row_gauge(p, hosts, "host_id", "host", "vireo_host_last_seen_timestamp_seconds",
              "When the host's agent last answered a poll (0: never).", "last_seen", 1);
    row_gauge(p, hosts, "host_id", "host", "vireo_host_memory_committed_bytes",
              "Memory of the VMs placed on the host (the scheduler's booking).", "committed_mib", 1048576.0);
    for (size_t f = 0; f < VR_ARRAY_SIZE(host_figures); f++)
        host_figure_rows(p, hosts, &host_figures[f]);
    static const char *const periods[] = {"1m", "5m", "15m"};
    vr_prom_family(p, "vireo_host_load_average", "gauge", "The host's load average over the period.");
    json_array_foreach(hosts, i, h) {
        json_t *la = json_object_get(json_object_get(h, "stats"), "load_average");
        for (size_t k = 0; k < 3 && json_is_number(json_array_get(la, k)); k++)
            vr_prom_sample(p, "vireo_host_load_average",
                           VR_LABELS("host_id", str(h, "id"), "host", str(h, "name"), "period", periods[k]),
                           json_number_value(json_array_get(la, k)));
    }
    host_nics(p, hosts, "vireo_host_network_receive_bytes_total", "Bytes received by the host's NIC.", "rx_bytes");
    host_nics(p, hosts, "vireo_host_network_transmit_bytes_total", "Bytes sent by the host's NIC.", "tx_bytes");
}

/* ---- VMs ---- */

static const figure vm_figures[] = {
    {"vireo_vm_cpu_seconds_total", "CPU time the VM used (all vCPUs).", NULL, "cpu_time_ns", 1e-9},
    {"vireo_vm_vcpus", "The VM's online vCPUs.", NULL, "vcpus_current", 1},
    {"vireo_vm_memory_balloon_bytes", "The VM's current memory (balloon).", "balloon", "current_kib", 1024},
    {"vireo_vm_memory_rss_bytes", "Resident memory of the VM's QEMU process.", "balloon", "rss_kib", 1024},
    {"vireo_vm_memory_usable_bytes", "Memory the guest could use without swapping (guest-reported).",
     "balloon", "usable_kib", 1024},
    {"vireo_vm_memory_unused_bytes", "Memory the guest leaves unused (guest-reported).", "balloon",
     "unused_kib", 1024},
};

typedef struct device_figure {
    const char *name, *help, *type, *key;
} device_figure;

static const device_figure vm_nic_figures[] = {
    {"vireo_vm_network_receive_bytes_total", "Bytes received by the VM's NIC.", "counter", "rx.bytes"},
    {"vireo_vm_network_transmit_bytes_total", "Bytes sent by the VM's NIC.", "counter", "tx.bytes"},
    {"vireo_vm_network_receive_packets_total", "Packets received by the VM's NIC.", "counter", "rx.pkts"},
    {"vireo_vm_network_transmit_packets_total", "Packets sent by the VM's NIC.", "counter", "tx.pkts"},
    {"vireo_vm_network_receive_errors_total", "Receive errors of the VM's NIC.", "counter", "rx.errs"},
    {"vireo_vm_network_transmit_errors_total", "Transmit errors of the VM's NIC.", "counter", "tx.errs"},
    {"vireo_vm_network_receive_drops_total", "Received packets the VM's NIC dropped.", "counter", "rx.drop"},
    {"vireo_vm_network_transmit_drops_total", "Packets to send the VM's NIC dropped.", "counter", "tx.drop"},
};

static const device_figure vm_disk_figures[] = {
    {"vireo_vm_disk_read_bytes_total", "Bytes the VM read from the disk.", "counter", "rd.bytes"},
    {"vireo_vm_disk_write_bytes_total", "Bytes the VM wrote to the disk.", "counter", "wr.bytes"},
    {"vireo_vm_disk_read_requests_total", "Read requests of the VM to the disk.", "counter", "rd.reqs"},
    {"vireo_vm_disk_write_requests_total", "Write requests of the VM to the disk.", "counter", "wr.reqs"},
    {"vireo_vm_disk_capacity_bytes", "The disk's size as the guest sees it.", "gauge", "capacity"},
    {"vireo_vm_disk_allocation_bytes", "Bytes of the disk's image allocated on its storage.", "gauge",
     "allocation"},
};

/* The VM rows (id, name) that have statistics, with them: [{"vm": row, "stats": {...}, "at": ms}]. */
static json_t *with_stats(json_t *vms, json_t *snap)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(vms, i, v) {
        json_t *s = json_object_get(snap, str(v, "id"));
        if (s)
            json_array_append_new(out, json_pack("{s:O, s:O, s:O}", "vm", v, "stats", json_object_get(s, "stats"),
                                                 "at", json_object_get(s, "at")));
    }
    return out;
}

static void vm_devices(vr_prom *p, json_t *stated, const char *array, const char *label, const device_figure *f)
{
    vr_prom_family(p, f->name, f->type, f->help);
    size_t i, j;
    json_t *s, *dev;
    double v;
    json_array_foreach(stated, i, s) {
        json_t *vm = json_object_get(s, "vm");
        json_array_foreach(json_object_get(json_object_get(s, "stats"), array), j, dev) {
            if (json_object_get(dev, "name") && num(dev, NULL, f->key, &v))
                vr_prom_sample(p, f->name, VR_LABELS("vm_id", str(vm, "id"), "vm", str(vm, "name"), label,
                                                     str(dev, "name")), v);
        }
    }
}

static void vms_part(vr_engine *e, vr_prom *p, json_t *vms)
{
    per_status(p, "vireo_vms", "VMs per status.", vr_vm_status_names, VR_VM_NSTATUS, vms, NULL);
    size_t i;
    json_t *v;
    vr_prom_family(p, "vireo_vm_info", "gauge", "One per VM: its cluster, host (empty when down) and status.");
    json_array_foreach(vms, i, v) {
        vr_prom_sample(p, "vireo_vm_info",
                       VR_LABELS("vm_id", str(v, "id"), "vm", str(v, "name"), "cluster", str(v, "cluster"),
                                 "host", str(v, "host"), "status", str(v, "status")), 1);
    }
    row_gauge(p, vms, "vm_id", "vm", "vireo_vm_memory_configured_bytes", "The VM's configured memory.", "memory_mib",
              1048576.0);
    json_t *snap = vr_vmstats_snapshot(e->vmstats);
    json_t *stated = with_stats(vms, snap);
    json_decref(snap);
    vr_prom_family(p, "vireo_vm_stats_timestamp_seconds", "gauge",
                   "When the VM's statistics below were read from its host.");
    json_array_foreach(stated, i, v) {
        json_t *vm = json_object_get(v, "vm");
        vr_prom_sample(p, "vireo_vm_stats_timestamp_seconds", VR_LABELS("vm_id", str(vm, "id"), "vm", str(vm, "name")),
                       (double)json_integer_value(json_object_get(v, "at")) / 1000.0);
    }
    for (size_t f = 0; f < VR_ARRAY_SIZE(vm_figures); f++) {
        const figure *fg = &vm_figures[f];
        vr_prom_family(p, fg->name, strstr(fg->name, "_total") ? "counter" : "gauge", fg->help);
        double x;
        json_array_foreach(stated, i, v) {
            json_t *vm = json_object_get(v, "vm");
            if (num(json_object_get(v, "stats"), fg->sub, fg->key, &x))
                vr_prom_sample(p, fg->name, VR_LABELS("vm_id", str(vm, "id"), "vm", str(vm, "name")), x * fg->scale);
        }
    }
    for (size_t f = 0; f < VR_ARRAY_SIZE(vm_nic_figures); f++)
        vm_devices(p, stated, "nics", "nic", &vm_nic_figures[f]);
    for (size_t f = 0; f < VR_ARRAY_SIZE(vm_disk_figures); f++)
        vm_devices(p, stated, "disks", "disk", &vm_disk_figures[f]);
    json_decref(stated);
}

/* ---- storage domains ---- */

static void storage_part(vr_prom *p, json_t *sds)
{
    per_status(p, "vireo_storage_domains", "Storage domains per status.", NULL, 0, sds, NULL);
    static const char *const cols[][3] = {
        {"vireo_storage_domain_size_bytes", "total_bytes", "The storage domain's size."},
        {"vireo_storage_domain_free_bytes", "free_bytes", "Free space on the storage domain."},
        {"vireo_storage_domain_committed_bytes", "committed_bytes",
         "Space the storage domain's disks may grow to (their virtual sizes)."},
    };
    for (size_t c = 0; c < VR_ARRAY_SIZE(cols); c++)
        row_gauge(p, sds, "storage_domain_id", "storage_domain", cols[c][0], cols[c][2], cols[c][1], 1);
}

int vr_metrics_fleet(vr_engine *e, vr_prom *p, vr_error *err)
{
    json_t *hosts = NULL, *vms = NULL, *jobs = NULL, *sds = NULL;
    int rc = -1;
    if (vr_db_query(e->db, "SELECT h.id AS id, h.name AS name, h.status AS status, h.address AS address,"
                    " h.last_seen AS last_seen, h.committed_mib AS committed_mib, h.stats_json AS stats_json,"
                    " c.name AS cluster FROM hosts h JOIN clusters c ON c.id = h.cluster_id ORDER BY h.name",
                    DB_NOARGS, &hosts, err) < 0 ||
        vr_db_query(e->db, "SELECT v.id AS id, v.name AS name, v.status AS status, v.memory_mib AS memory_mib,"
                    " c.name AS cluster, h.name AS host FROM vms v JOIN clusters c ON c.id = v.cluster_id"
                    " LEFT JOIN hosts h ON h.id = v.host_id ORDER BY v.name", DB_NOARGS, &vms, err) < 0 ||
        vr_db_query(e->db, "SELECT status, count(*) AS n FROM jobs GROUP BY status", DB_NOARGS, &jobs, err) < 0 ||
        vr_db_query(e->db, "SELECT id, name, status, total_bytes, free_bytes, committed_bytes FROM storage_domains"
                    " ORDER BY name", DB_NOARGS, &sds, err) < 0)
        goto out;
    hosts_part(p, hosts);
    vms_part(e, p, vms);
    per_status(p, "vireo_jobs", "Jobs recorded, per status (ended ones included).", vr_job_status_names,
               VR_JOB_NSTATUS, jobs, "n");
    storage_part(p, sds);
    rc = 0;
out:
    json_decref(hosts);
    json_decref(vms);
    json_decref(jobs);
    json_decref(sds);
    return rc;
}
