/* Host verbs: ping, capabilities and statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "dominfo.h"
#include "hostinfo.h"
#include "hyp.h"
#include "jsonx.h"
#include "log.h"
#include "osrelease.h"
#include "verbs.h"

/* Where libvirt's QEMU driver reads its lock manager (Host.getCapabilities). */
#define VR_QEMU_CONF "/etc/libvirt/qemu.conf"

static const char *const no_keys[] = {NULL};

static int host_ping(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0)
        return -1;
    *result = json_pack("{s:b}", "pong", true);
    return 0;
}

static char *version_string(unsigned long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lu.%lu.%lu", v / 1000000, (v / 1000) % 1000, v % 1000);
    return strdup(buf);
}

/* CPU models a guest of this host's default domain type can be given
 * (libvirt's domain capabilities for the host's architecture,
 * usable='yes'): what a cluster's CPU type is checked against. NULL when
 * libvirt cannot tell: "unknown" must not read as "none". */
static json_t *usable_cpu_models(vr_agent *a)
{
    char *xml = virConnectGetDomainCapabilities(a->conn, NULL, NULL, NULL, a->default_domain_type, 0);
    if (!xml) {
        VR_WARN("cannot read libvirt's domain capabilities: %s", virGetLastErrorMessage());
        virResetLastError();
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domcaps.xml", NULL, XML_PARSE_NONET);
    free(xml);
    if (!doc)
        return NULL;
    json_t *models = vr_dom_xpath_strings(
        doc, "/domainCapabilities/cpu/mode[@name='custom'][@supported='yes']/model[@usable='yes']");
    xmlFreeDoc(doc);
    return models;
}

static int host_capabilities(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0)
        return -1;
    char *caps = virConnectGetCapabilities(a->conn);
    if (!caps)
        return vr_libvirt_error(err, "cannot read host capabilities");
    xmlDocPtr doc = xmlReadMemory(caps, (int)strlen(caps), "caps.xml", NULL, XML_PARSE_NONET);
    free(caps);
    if (!doc)
        return vr_error_set(err, VR_ERR_INTERNAL, "libvirt capabilities are not valid XML");
    virNodeInfo ni;
    if (virNodeGetInfo(a->conn, &ni) < 0) {
        xmlFreeDoc(doc);
        return vr_libvirt_error(err, "cannot read node info");
    }
    unsigned long libver = 0, hvver = 0;
    virConnectGetLibVersion(a->conn, &libver);
    virConnectGetVersion(a->conn, &hvver);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    json_t *uuid = vr_dom_xpath_strings(doc, "/capabilities/host/uuid");
    json_t *model = vr_dom_xpath_strings(doc, "/capabilities/host/cpu/model");
    json_t *machines = vr_dom_xpath_strings(
        doc, "/capabilities/guest[arch/@name='x86_64']/arch/machine");
    int numa = vr_dom_xpath_count(doc, "/capabilities/host/topology/cells/cell");
    xmlFreeDoc(doc);
    /* Several emulator entries repeat machine names; keep each once. */
    json_t *uniq = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(machines, i, m) {
        size_t j;
        json_t *u;
        bool seen = false;
        json_array_foreach(uniq, j, u) seen |= json_equal(u, m);
        if (!seen)
            json_array_append(uniq, m);
    }
    json_decref(machines);
    /* virNodeGetInfo's memory can reflect a cgroup limit; report what the
     * kernel has, as Host.getStats does. */
    struct sysinfo si;
    sysinfo(&si);
    long long total_kib = (long long)si.totalram * si.mem_unit / 1024;
    char *lv = version_string(libver), *qv = version_string(hvver);
    *result = json_pack(
        "{s:s, s:O, s:O, s:o, s:{s:i, s:i, s:i, s:i, s:i}, s:I, s:i, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o?}",
        "hostname", host, "host_uuid", json_array_get(uuid, 0) ?: json_null(), "cpu_model",
        json_array_get(model, 0) ?: json_null(), "cpu_flags", vr_host_cpu_flags(), "cpu_topology",
        "sockets", (int)(ni.sockets * ni.nodes), "cores_per_socket", (int)ni.cores,
        "threads_per_core", (int)ni.threads, "cpus", (int)ni.cpus, "mhz", (int)ni.mhz,
        "memory_kib", (json_int_t)total_kib, "numa_nodes", numa > 0 ? numa : 1,
        "virt_mode", vr_virt_mode_name(a->mode), "default_domain_type", a->default_domain_type,
        "max_vcpus", a->max_vcpus, "libvirt_version", lv, "qemu_version", qv, "machine_types",
        uniq, "nics", vr_host_nics(), "cpu_models", usable_cpu_models(a));
    char lm[64];
    json_object_set_new(*result, "lock_manager", json_string(vr_host_lock_manager(VR_QEMU_CONF, lm, sizeof(lm))));
    json_object_set_new(*result, "storage_root", json_string(a->storage_root)); /* VM.migrate's dest.storage_root */
    json_object_set_new(*result, "os", vr_host_os(NULL)); /* InClusterUpgrade compares hosts' OS versions */
    free(lv);
    free(qv);
    json_decref(uuid);
    json_decref(model);
    return 0;
}

/* Previous samples for rate computations, shared by all clients. */
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long prev_busy, prev_total;
static json_t *prev_nic_bytes; /* {"eth0": [rx, tx]} */
static double prev_time;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU busy % since the previous call (since boot on the first). */
static double cpu_percent(void)
{
    char buf[512];
    unsigned long long v[8] = {0};
    if (vr_read_file("/proc/stat", buf, sizeof(buf)) < 0 ||
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 4)
        return 0;
    unsigned long long idle = v[3] + v[4], total = 0;
    for (int i = 0; i < 8; i++)
        total += v[i];
    unsigned long long busy = total - idle;
    double pct = 0;
    if (total > prev_total)
        pct = 100.0 * (double)(busy - prev_busy) / (double)(total - prev_total);
    prev_busy = busy;
    prev_total = total;
    return pct;
}

static json_t *nic_rates(double dt)
{
    json_t *nics = vr_host_nics(), *out = json_array(), *cur = json_object();
    size_t i;
    json_t *n;
    json_array_foreach(nics, i, n) {
        const char *name = json_string_value(json_object_get(n, "name"));
        char path[512];
        snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_bytes", name);
        long long rx = vr_read_ull(path);
        snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_bytes", name);
        long long tx = vr_read_ull(path);
        json_t *prev = prev_nic_bytes ? json_object_get(prev_nic_bytes, name) : NULL;
        double rxr = 0, txr = 0;
        if (prev && dt > 0) {
            rxr = (double)(rx - json_integer_value(json_array_get(prev, 0))) / dt;
            txr = (double)(tx - json_integer_value(json_array_get(prev, 1))) / dt;
        }
        json_object_set_new(cur, name, json_pack("[I,I]", (json_int_t)rx, (json_int_t)tx));
        json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:f, s:f}", "name", name,
                                             "rx_bytes", (json_int_t)rx, "tx_bytes", (json_int_t)tx,
                                             "rx_bytes_per_s", rxr, "tx_bytes_per_s", txr));
    }
    json_decref(nics);
    json_decref(prev_nic_bytes);
    prev_nic_bytes = cur;
    return out;
}

static int host_stats(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0)
        return -1;
    struct sysinfo si;
    sysinfo(&si);
    char buf[4096];
    long long avail_kib = -1;
    if (vr_read_file("/proc/meminfo", buf, sizeof(buf)) == 0) {
        char *p = strstr(buf, "MemAvailable:");
        if (p)
            avail_kib = strtoll(p + 13, NULL, 10);
    }
    /* Memory promised to running VMs (their current balloon size). */
    long long vm_kib = 0;
    virDomainPtr *doms = NULL;
    int nvm = virConnectListAllDomains(a->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    for (int i = 0; i < nvm; i++) {
        virDomainInfo info;
        if (virDomainGetInfo(doms[i], &info) == 0)
            vm_kib += (long long)info.memory;
        virDomainFree(doms[i]);
    }
    free(doms);
    if (nvm < 0)
        return vr_libvirt_error(err, "cannot list domains");
    pthread_mutex_lock(&sample_lock);
    double t = now_s(), dt = prev_time > 0 ? t - prev_time : 0;
    prev_time = t;
    double cpu = cpu_percent();
    json_t *nics = nic_rates(dt);
    pthread_mutex_unlock(&sample_lock);
    long long unit = si.mem_unit;
    *result = json_pack(
        "{s:f, s:{s:I, s:I, s:I, s:I}, s:{s:b, s:I, s:I}, s:[f,f,f], s:o, s:i, s:I}",
        "cpu_percent", cpu, "memory", "total_kib", (json_int_t)(si.totalram * unit / 1024),
        "free_kib", (json_int_t)(si.freeram * unit / 1024), "available_kib", (json_int_t)avail_kib,
        "used_by_vms_kib", (json_int_t)vm_kib, "ksm", "running",
        vr_read_ull("/sys/kernel/mm/ksm/run") == 1, "pages_shared",
        (json_int_t)vr_read_ull("/sys/kernel/mm/ksm/pages_shared"), "pages_sharing",
        (json_int_t)vr_read_ull("/sys/kernel/mm/ksm/pages_sharing"), "load_average",
        si.loads[0] / 65536.0, si.loads[1] / 65536.0, si.loads[2] / 65536.0, "nics", nics,
        "vm_count", nvm, "uptime_s", (json_int_t)si.uptime);
    return 0;
}

const vr_verb vr_host_verbs[] = {
    {"Host.ping", host_ping},
    {"Host.getCapabilities", host_capabilities},
    {"Host.getStats", host_stats},
    {NULL, NULL},
};
