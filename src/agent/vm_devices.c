/* VM device verbs: balloon, vCPU hot add, I/O limits, disk and NIC hotplug. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dominfo.h"
#include "domxml.h"
#include "host_claims.h"
#include "hyp.h"
#include "jsonx.h"
#include "log.h"
#include "net/nicqos.h"
#include "net/vmnic.h"
#include "verbs.h"
#include "vm_jobs.h"
#include "vmspec.h"

static int vm_set_balloon(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "memory_mib", NULL};
    long long mib;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_int(params, "params", "memory_mib", true, 16, 4 * 1024 * 1024, &mib, err) < 0 ||
        vr_vm_job_begin_lookup(a, params, "VM.setBalloonTarget", &dom, err) < 0)
        return -1;
    int rc = -1;
    unsigned long max_kib = virDomainGetMaxMemory(dom);
    if (max_kib && (unsigned long long)mib * 1024 > max_kib)
        vr_error_set(err, VR_ERR_LIMIT, "balloon target %lld MiB exceeds the VM's maximum of %lu MiB",
                     mib, max_kib / 1024);
    else if (virDomainSetMemoryFlags(dom, (unsigned long)mib * 1024, VIR_DOMAIN_AFFECT_LIVE) < 0)
        vr_libvirt_error(err, "cannot set balloon target of VM %s", virDomainGetName(dom));
    else {
        rc = 0;
        *result = json_pack("{s:I}", "memory_mib", (json_int_t)mib);
    }
    vr_vm_job_end_free(dom);
    return rc;
}

static int vm_set_vcpus(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "vcpus", NULL};
    long long n;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_int(params, "params", "vcpus", true, 1, 4096, &n, err) < 0 ||
        vr_vm_job_begin_lookup(a, params, "VM.setVcpus", &dom, err) < 0)
        return -1;
    int rc = -1;
    int cur = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE);
    int max = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_VCPU_MAXIMUM);
    if (cur < 0 || max < 0)
        vr_libvirt_error(err, "cannot read vCPUs of VM %s", virDomainGetName(dom));
    else if (n < cur)
        vr_error_set(err, VR_ERR_UNSUPPORTED,
                     "VM %s has %d vCPUs; removing vCPUs from a running VM is not supported",
                     virDomainGetName(dom), cur);
    else if (n > max)
        vr_error_set(err, VR_ERR_LIMIT, "VM %s was started with at most %d vCPUs; %lld requested",
                     virDomainGetName(dom), max, n);
    else if (n > cur && virDomainSetVcpusFlags(dom, (unsigned)n, VIR_DOMAIN_AFFECT_LIVE) < 0)
        vr_libvirt_error(err, "cannot add vCPUs to VM %s", virDomainGetName(dom));
    else {
        rc = 0;
        *result = json_pack("{s:I}", "vcpus", (json_int_t)n);
    }
    vr_vm_job_end_free(dom);
    return rc;
}

static int vm_set_iotune(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "target", "iotune", NULL};
    const char *target;
    json_t *iotune;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "target", true, &target, err) < 0 ||
        vr_json_obj(params, "params", "iotune", true, &iotune, err) < 0 ||
        vr_json_check_keys(iotune, "iotune", VR_NAMES(vr_iotune_names), err) < 0)
        return -1;
    virTypedParameter tp[VR_IOTUNE_N];
    int np = 0;
    for (int i = 0; i < VR_IOTUNE_N; i++) {
        long long v = -1;
        if (vr_json_int(iotune, "iotune", vr_iotune_names[i], false, 0, 1LL << 50, &v, err) < 0)
            return -1;
        if (v < 0)
            continue;
        memset(&tp[np], 0, sizeof(tp[np]));
        snprintf(tp[np].field, sizeof(tp[np].field), "%s", vr_iotune_names[i]);
        tp[np].type = VIR_TYPED_PARAM_ULLONG;
        tp[np].value.ul = (unsigned long long)v;
        np++;
    }
    if (np == 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "iotune must set at least one limit");
    if (vr_vm_job_begin_lookup(a, params, "VM.setIoTune", &dom, err) < 0)
        return -1;
    int rc = virDomainSetBlockIoTune(dom, target, tp, np, VIR_DOMAIN_AFFECT_LIVE);
    if (rc < 0)
        vr_libvirt_error(err, "cannot set I/O limits of disk %s of VM %s", target,
                         virDomainGetName(dom));
    else
        *result = json_pack("{s:s, s:O}", "target", target, "iotune", iotune);
    vr_vm_job_end_free(dom);
    return rc < 0 ? -1 : 0;
}

/* The device entry (with its assigned address) matching key=value. */
static json_t *find_device(virDomainPtr dom, const char *key, const char *value)
{
    xmlDocPtr doc;
    if (vr_dom_doc(dom, &doc, NULL) < 0)
        return json_null();
    json_t *devs = vr_dom_devices(doc), *found = NULL, *d;
    xmlFreeDoc(doc);
    size_t i;
    json_array_foreach(devs, i, d) {
        const char *v = json_string_value(json_object_get(d, key));
        if (!found && v && !strcmp(v, value))
            found = json_incref(d);
    }
    json_decref(devs);
    return found ? found : json_null();
}

static int vm_hotplug_disk(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "disk", NULL};
    json_t *jd;
    vr_disk d;
    virDomainPtr dom;
    xmlDocPtr doc = NULL;
    char *xml = NULL, volpath[1025];
    int rc = -1;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "disk", true, &jd, err) < 0 ||
        vr_disk_parse(jd, "disk", &d, err) < 0 ||
        (d.volume && vr_vm_disk_resolve(a, jd, "disk", &d, volpath, sizeof(volpath), err) < 0))
        return -1;
    if (strcmp(d.bus, "virtio") && strcmp(d.bus, "virtio-scsi"))
        return vr_error_set(err, VR_ERR_UNSUPPORTED,
                            "disk.bus %s cannot be hot plugged; use virtio or virtio-scsi", d.bus);
    if (vr_vm_job_begin_lookup(a, params, "VM.hotplugDisk", &dom, err) < 0)
        return -1;
    if (vr_dom_doc(dom, &doc, err) < 0)
        goto out;
    json_t *targets = vr_dom_xpath_strings(doc, "/domain/devices/disk/target/@dev");
    const char *used[VR_MAX_STORAGE];
    int nused = 0;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t) if (nused < VR_MAX_STORAGE) used[nused++] = json_string_value(t);
    if (json_array_size(targets) >= VR_MAX_STORAGE)
        vr_error_set(err, VR_ERR_LIMIT, "VM %s already has %d storage devices", virDomainGetName(dom),
                     VR_MAX_STORAGE);
    else if (!strcmp(d.bus, "virtio") && vr_dom_pci_count(doc) >= VR_MAX_PCI)
        vr_error_set(err, VR_ERR_LIMIT, "VM %s has no free PCI slot (limit %d)", virDomainGetName(dom),
                     VR_MAX_PCI);
    else if (!strcmp(d.bus, "virtio-scsi") &&
             !vr_dom_xpath_count(doc, "/domain/devices/controller[@type='scsi'][@model='virtio-scsi']"))
        vr_error_set(err, VR_ERR_UNSUPPORTED,
                     "VM %s has no virtio-scsi controller; start it with a virtio-scsi disk",
                     virDomainGetName(dom));
    else if (vr_disk_assign_target(&d, used, nused, err) == 0 && vr_domxml_disk(&d, &xml, err) == 0) {
        if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
            vr_libvirt_error(err, "cannot hot plug disk %s into VM %s", d.path, virDomainGetName(dom));
        else
            rc = 0;
    }
    json_decref(targets);
    if (rc == 0) {
        VR_INFO("VM %s: disk %s plugged as %s", virDomainGetName(dom), d.path, d.target);
        *result = find_device(dom, "target", d.target);
    }
out:
    free(xml);
    if (doc)
        xmlFreeDoc(doc);
    vr_vm_job_end_free(dom);
    return rc;
}

/* Detach the device xpath matches with the value as its $v; `what` names it. */
static int unplug(vr_agent *a, json_t *params, const char *key, const char *xpath,
                  const char *what, json_t **result, vr_error *err)
{
    const char *job = !strcmp(key, "mac") ? "VM.hotunplugNic" : "VM.hotunplugDisk";
    static const char *const keys_target[] = {"uuid", "target", NULL};
    static const char *const keys_mac[] = {"uuid", "mac", NULL};
    const char *given;
    char value[32];
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", !strcmp(key, "mac") ? VR_NAMES(keys_mac) : VR_NAMES(keys_target), err) < 0 ||
        vr_json_str(params, "params", key, true, &given, err) < 0)
        return -1;
    size_t i = 0;
    for (; given[i] && i < sizeof(value) - 1; i++)
        value[i] = (char)tolower((unsigned char)given[i]); /* libvirt stores MACs lowercase */
    value[i] = '\0';
    /* Only what a target or MAC holds: anything else is a clear refusal. */
    if (!*value || strlen(value) > 17 ||
        strlen(given) > 17 ||
        strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(value))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.%s '%s' is not valid", key, value);
    if (vr_vm_job_begin_lookup(a, params, job, &dom, err) < 0)
        return -1;
    xmlDocPtr doc = NULL;
    char *xml = NULL;
    int rc = -1;
    if (vr_dom_doc(dom, &doc, err) < 0)
        goto out;
    if (vr_dom_node_xml(doc, xpath, value, &xml) < 0) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "VM %s has no %s %s", virDomainGetName(dom), what,
                     value);
        goto out;
    }
    if (virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        vr_libvirt_error(err, "cannot unplug %s %s from VM %s", what, value, virDomainGetName(dom));
        goto out;
    }
    /* libvirt waits a few seconds for the guest to let go; if it has not,
     * removal completes later and a DeviceRemoved event says so. */
    if (!strcmp(key, "mac"))
        vr_net_spec_nic(dom, value, NULL);
    json_t *still = find_device(dom, key, value);
    *result = json_pack("{s:s, s:b}", key, value, "removed", json_is_null(still));
    json_decref(still);
    VR_INFO("VM %s: %s %s unplugged", virDomainGetName(dom), what, value);
    rc = 0;
out:
    free(xml);
    if (doc)
        xmlFreeDoc(doc);
    vr_vm_job_end_free(dom);
    return rc;
}

static int vm_hotunplug_disk(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    return unplug(a, params, "target", "/domain/devices/disk[target/@dev=$v]", "disk", result, err);
}

static int vm_hotplug_nic(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "nic", NULL};
    json_t *jn;
    vr_nic n;
    virDomainPtr dom;
    char *xml = NULL, owner[128];
    xmlDocPtr doc = NULL;
    vr_claims *claims = NULL;
    int rc = -1;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "nic", true, &jn, err) < 0 ||
        vr_nic_parse(jn, "nic", &n, err) < 0 || vr_domxml_nic(&n, &xml, err) < 0)
        return -1;
    if (vr_vm_job_begin_lookup(a, params, "VM.hotplugNic", &dom, err) < 0) {
        free(xml);
        return -1;
    }
    /* The MAC is claimed host-wide before it is checked (host_claims.h);
     * NIC count and PCI slots are this VM's own, guarded by its job. */
    char holder[128];
    snprintf(holder, sizeof(holder), "VM.hotplugNic into VM '%s'", virDomainGetName(dom));
    if (!(claims = vr_claims_new(holder))) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory plugging NIC %s", n.mac);
        goto out;
    }
    if (vr_claims_add(claims, VR_CLAIM_MAC, n.mac, err) < 0 || vr_dom_doc(dom, &doc, err) < 0)
        goto out;
    if (vr_dom_xpath_count(doc, "/domain/devices/interface") >= VR_MAX_NICS)
        vr_error_set(err, VR_ERR_LIMIT, "VM %s already has %d NICs", virDomainGetName(dom), VR_MAX_NICS);
    else if (vr_mac_in_use(a, n.mac, owner, sizeof(owner)))
        vr_error_set(err, VR_ERR_CONFLICT, "MAC %s is already used by VM '%s' on this host", n.mac,
                     owner);
    else if (vr_dom_pci_count(doc) >= VR_MAX_PCI)
        vr_error_set(err, VR_ERR_LIMIT, "VM %s has no free PCI slot (limit %d)", virDomainGetName(dom),
                     VR_MAX_PCI);
    else if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
        vr_libvirt_error(err, "cannot hot plug NIC %s into VM %s", n.mac, virDomainGetName(dom));
    else
        rc = 0;
    if (rc == 0) {
        vr_nicqos_want(&n); /* shaping and mirroring once its tap exists */
        vr_net_spec_nic(dom, n.mac, jn);
        VR_INFO("VM %s: NIC %s plugged", virDomainGetName(dom), n.mac);
        *result = find_device(dom, "mac", n.mac);
    }
out:
    vr_claims_free(claims);
    if (doc)
        xmlFreeDoc(doc);
    free(xml);
    vr_vm_job_end_free(dom);
    return rc;
}

static int vm_hotunplug_nic(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    return unplug(a, params, "mac", "/domain/devices/interface[mac/@address=$v]", "NIC", result, err);
}

const vr_verb vr_vm_device_verbs[] = {
    {"VM.setBalloonTarget", vm_set_balloon},
    {"VM.setVcpus", vm_set_vcpus},
    {"VM.setIoTune", vm_set_iotune},
    {"VM.hotplugDisk", vm_hotplug_disk},
    {"VM.hotunplugDisk", vm_hotunplug_disk},
    {"VM.hotplugNic", vm_hotplug_nic},
    {"VM.hotunplugNic", vm_hotunplug_nic},
    {NULL, NULL},
};
