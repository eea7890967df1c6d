#include "domxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <libxml/xmlwriter.h>

#include "net/nicqos.h"
#include "net/vmnic.h"

/* Writer calls return -1 on failure; we chain them and check once. */
#define W(call) do { if ((call) < 0) goto fail; } while (0)
#define ELEM(w, name) xmlTextWriterStartElement(w, BAD_CAST(name))
#define END(w) xmlTextWriterEndElement(w)
#define ATTR(w, k, v) xmlTextWriterWriteAttribute(w, BAD_CAST(k), BAD_CAST(v))
#define TEXT(w, name, v) xmlTextWriterWriteElement(w, BAD_CAST(name), BAD_CAST(v))

static int attrf(xmlTextWriterPtr w, const char *k, long long v)
{
    return xmlTextWriterWriteFormatAttribute(w, BAD_CAST k, "%lld", v);
}

static int write_address(xmlTextWriterPtr w, json_t *addr)
{
    if (!addr)
        return 0;
    if (ELEM(w, "address") < 0)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(addr, key, v) {
        if (ATTR(w, key, json_string_value(v)) < 0)
            return -1;
    }
    return END(w);
}

static int write_disk(xmlTextWriterPtr w, const vr_disk *d)
{
    const char *bus = !strcmp(d->bus, "virtio-scsi") ? "scsi" : d->bus;
    W(ELEM(w, "disk"));
    W(ATTR(w, "type", "file"));
    W(ATTR(w, "device", d->device));
    W(ELEM(w, "driver"));
    W(ATTR(w, "name", "qemu"));
    W(ATTR(w, "type", d->format));
    W(ATTR(w, "cache", d->cache));
    W(ATTR(w, "io", d->io));
    if (!strcmp(d->device, "disk")) {
        /* A full file system pauses the guest (reason enospc) instead of
         * failing its I/O; the agent resumes it once there is space again
         * (storage/enospc.c). */
        W(ATTR(w, "error_policy", "stop"));
        W(ATTR(w, "rerror_policy", "stop"));
    }
    W(END(w));
    W(ELEM(w, "source"));
    W(ATTR(w, "file", d->path));
    W(END(w));
    W(ELEM(w, "target"));
    W(ATTR(w, "dev", d->target));
    W(ATTR(w, "bus", bus));
    W(END(w));
    if (d->has_iotune) {
        W(ELEM(w, "iotune"));
        for (int i = 0; i < VR_IOTUNE_N; i++)
            if (d->iotune[i])
                W(xmlTextWriterWriteFormatElement(w, BAD_CAST vr_iotune_names[i], "%lld",
                                                  d->iotune[i]));
        W(END(w));
    }
    if (d->readonly) {
        W(ELEM(w, "readonly"));
        W(END(w));
    }
    if (d->serial)
        W(TEXT(w, "serial", d->serial));
    W(write_address(w, d->address));
    return END(w);
fail:
    return -1;
}

static int write_nic(xmlTextWriterPtr w, const vr_nic *n)
{
    /* A network is plugged into its bridge, named for it (docs/networks.md). */
    const char *bridge = n->network ? n->network : n->bridge;
    int mtu = 0;
    vr_error ignored;
    if (n->network)
        vr_net_nic_check(n, &mtu, &ignored); /* checked before rendering */
    W(ELEM(w, "interface"));
    W(ATTR(w, "type", bridge ? "bridge" : "user"));
    W(ELEM(w, "mac"));
    W(ATTR(w, "address", n->mac));
    W(END(w));
    if (bridge) {
        W(ELEM(w, "source"));
        W(ATTR(w, "bridge", bridge));
        W(END(w));
    }
    /* No <bandwidth>: libvirt's shaping needs sfq and police, which this
     * kernel lacks, and the guest would not start; the agent shapes the
     * tap itself (net/nicqos.h), the spec in the metadata keeps it. */
    W(ELEM(w, "model"));
    W(ATTR(w, "type", n->model));
    W(END(w));
    if (n->filter) { /* against MAC and IP spoofing; IP learnt from traffic */
        W(ELEM(w, "filterref"));
        W(ATTR(w, "filter", "clean-traffic"));
        W(ELEM(w, "parameter"));
        W(ATTR(w, "name", "MAC"));
        W(ATTR(w, "value", n->mac));
        W(END(w));
        W(END(w));
    }
    if (n->link_down) {
        W(ELEM(w, "link"));
        W(ATTR(w, "state", "down"));
        W(END(w));
    }
    if (mtu > 0) { /* the tap and, for virtio, the guest see the network's MTU */
        W(ELEM(w, "mtu"));
        W(attrf(w, "size", mtu));
        W(END(w));
    }
    W(write_address(w, n->address));
    return END(w);
fail:
    return -1;
}

static int write_os(xmlTextWriterPtr w, const vr_vm_spec *s)
{
    W(ELEM(w, "os"));
    W(ELEM(w, "type"));
    W(ATTR(w, "arch", "x86_64"));
    if (s->machine)
        W(ATTR(w, "machine", s->machine));
    W(xmlTextWriterWriteString(w, BAD_CAST "hvm"));
    W(END(w));
    if (s->kernel) {
        W(TEXT(w, "kernel", s->kernel));
        if (s->initrd)
            W(TEXT(w, "initrd", s->initrd));
        if (s->cmdline)
            W(TEXT(w, "cmdline", s->cmdline));
    }
    for (int i = 0; i < s->nboot; i++) {
        W(ELEM(w, "boot"));
        W(ATTR(w, "dev", s->boot_order[i]));
        W(END(w));
    }
    if (!s->kernel && s->nboot == 0) {
        W(ELEM(w, "boot"));
        W(ATTR(w, "dev", "hd"));
        W(END(w));
    }
    return END(w);
fail:
    return -1;
}

static int write_cpu(xmlTextWriterPtr w, const vr_vm_spec *s)
{
    if (!s->cpu_model)
        return 0;
    W(ELEM(w, "cpu"));
    if (!strcmp(s->cpu_model, "host-passthrough") || !strcmp(s->cpu_model, "host-model")) {
        W(ATTR(w, "mode", s->cpu_model));
    } else {
        W(ATTR(w, "mode", "custom"));
        W(ATTR(w, "match", "exact"));
        W(ELEM(w, "model"));
        W(ATTR(w, "fallback", "forbid"));
        W(xmlTextWriterWriteString(w, BAD_CAST s->cpu_model));
        W(END(w));
    }
    return END(w);
fail:
    return -1;
}

static int write_devices(xmlTextWriterPtr w, const vr_vm_spec *s, const char *console_log)
{
    bool scsi = false;
    W(ELEM(w, "devices"));
    for (int i = 0; i < s->ndisks; i++) {
        W(write_disk(w, &s->disks[i]));
        scsi |= !strcmp(s->disks[i].bus, "virtio-scsi");
    }
    if (s->lease_domain) {
        /* libvirt's sanlock lock manager acquires it for QEMU before the
         * guest runs, and sanlock kills QEMU if it loses it. */
        W(ELEM(w, "lease"));
        W(TEXT(w, "lockspace", s->lease_domain));
        W(TEXT(w, "key", s->uuid));
        W(ELEM(w, "target"));
        W(ATTR(w, "path", s->lease_path));
        W(ATTR(w, "offset", "0"));
        W(END(w));
        W(END(w));
    }
    if (scsi) {
        W(ELEM(w, "controller"));
        W(ATTR(w, "type", "scsi"));
        W(ATTR(w, "index", "0"));
        W(ATTR(w, "model", "virtio-scsi"));
        W(END(w));
    }
    /* No USB: nothing uses it and it would take a PCI slot. */
    W(ELEM(w, "controller"));
    W(ATTR(w, "type", "usb"));
    W(ATTR(w, "model", "none"));
    W(END(w));
    for (int i = 0; i < s->nnics; i++)
        W(write_nic(w, &s->nics[i]));
    if (s->serial_console) {
        W(ELEM(w, "serial"));
        W(ATTR(w, "type", "pty"));
        /* virtlogd keeps the console output so it survives agent restarts. */
        W(ELEM(w, "log"));
        W(ATTR(w, "file", console_log));
        W(ATTR(w, "append", "off"));
        W(END(w));
        W(ELEM(w, "target"));
        W(ATTR(w, "port", "0"));
        W(END(w));
        W(END(w));
        W(ELEM(w, "console"));
        W(ATTR(w, "type", "pty"));
        W(ELEM(w, "target"));
        W(ATTR(w, "type", "serial"));
        W(ATTR(w, "port", "0"));
        W(END(w));
        W(END(w));
    }
    if (s->guest_agent) {
        W(ELEM(w, "channel"));
        W(ATTR(w, "type", "unix"));
        W(ELEM(w, "target"));
        W(ATTR(w, "type", "virtio"));
        W(ATTR(w, "name", "org.qemu.guest_agent.0"));
        W(END(w));
        W(END(w));
    }
    if (s->vnc) {
        W(ELEM(w, "graphics"));
        W(ATTR(w, "type", "vnc"));
        W(ATTR(w, "port", "-1"));
        W(ATTR(w, "autoport", "yes"));
        W(ATTR(w, "listen", s->vnc_listen ? s->vnc_listen : "127.0.0.1"));
        /* Nobody may connect until the engine sets a ticket (VM.setTicket):
         * a random password that expired long ago. QEMU then starts with
         * VNC password authentication, which a later ticket needs. */
        unsigned char rnd[4]; /* libvirt takes at most 8 characters for VNC */
        char pw[9];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            goto fail;
        for (size_t i = 0; i < sizeof(rnd); i++)
            snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
        W(ATTR(w, "passwd", pw));
        W(ATTR(w, "passwdValidTo", "1970-01-01T00:00:01"));
        W(END(w));
    }
    W(ELEM(w, "memballoon"));
    W(ATTR(w, "model", s->balloon ? "virtio" : "none"));
    if (s->balloon) {
        W(ELEM(w, "stats"));
        W(ATTR(w, "period", "2"));
        W(END(w));
    }
    W(END(w));
    if (s->rng) {
        W(ELEM(w, "rng"));
        W(ATTR(w, "model", "virtio"));
        W(ELEM(w, "backend"));
        W(ATTR(w, "model", "random"));
        W(xmlTextWriterWriteString(w, BAD_CAST "/dev/urandom"));
        W(END(w));
        W(END(w));
    }
    return END(w);
fail:
    return -1;
}

int vr_domxml_render(int (*fill)(xmlTextWriterPtr, const void *, const void *), const void *a,
                  const void *b, char **out, vr_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    int rc = -1;
    if (!w)
        goto done;
    xmlTextWriterSetIndent(w, 1);
    if (fill(w, a, b) < 0 || xmlTextWriterEndDocument(w) < 0)
        goto done;
    xmlFreeTextWriter(w);
    w = NULL;
    *out = strdup((const char *)xmlBufferContent(buf));
    rc = *out ? 0 : -1;
done:
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    if (rc < 0)
        vr_error_set(err, VR_ERR_INTERNAL, "cannot build libvirt XML");
    return rc;
}

static int fill_domain(xmlTextWriterPtr w, const void *spec, const void *log)
{
    const vr_vm_spec *s = spec;
    char *json = json_dumps(s->json, JSON_COMPACT | JSON_SORT_KEYS);
    if (!json)
        return -1;
    W(ELEM(w, "domain"));
    W(ATTR(w, "type", s->domain_type));
    W(TEXT(w, "name", s->name));
    W(TEXT(w, "uuid", s->uuid));
    W(ELEM(w, "metadata"));
    W(xmlTextWriterStartElementNS(w, BAD_CAST VR_META_PREFIX, BAD_CAST "vm", BAD_CAST VR_META_NS));
    W(xmlTextWriterWriteElementNS(w, BAD_CAST VR_META_PREFIX, BAD_CAST "spec", NULL, BAD_CAST json));
    W(END(w));
    W(END(w));
    W(ELEM(w, "memory"));
    W(ATTR(w, "unit", "MiB"));
    W(xmlTextWriterWriteFormatString(w, "%lld", s->max_memory_mib));
    W(END(w));
    W(ELEM(w, "currentMemory"));
    W(ATTR(w, "unit", "MiB"));
    W(xmlTextWriterWriteFormatString(w, "%lld", s->memory_mib));
    W(END(w));
    W(ELEM(w, "vcpu"));
    W(ATTR(w, "placement", "static"));
    W(attrf(w, "current", s->vcpus));
    W(xmlTextWriterWriteFormatString(w, "%lld", s->max_vcpus));
    W(END(w));
    W(write_os(w, s));
    W(ELEM(w, "features"));
    W(ELEM(w, "acpi"));
    W(END(w));
    W(ELEM(w, "apic"));
    W(END(w));
    W(END(w));
    W(write_cpu(w, s));
    W(ELEM(w, "clock"));
    W(ATTR(w, "offset", "utc"));
    W(END(w));
    W(TEXT(w, "on_poweroff", "destroy"));
    W(TEXT(w, "on_reboot", "restart"));
    W(TEXT(w, "on_crash", "destroy"));
    /* A leased VM whose host loses the lease (its storage): powered off,
     * as RHV's sanlock does to it, so that it can run elsewhere once the
     * lease expires; sanlock runs libvirt's helper (killpath) to do it
     * through libvirtd, and kills QEMU itself if that fails. */
    if (s->lease_domain)
        W(TEXT(w, "on_lockfailure", "poweroff"));
    W(write_devices(w, s, log));
    W(END(w));
    free(json);
    return 0;
fail:
    free(json);
    return -1;
}

static int fill_disk(xmlTextWriterPtr w, const void *d, const void *unused)
{
    return write_disk(w, d);
}

static int fill_nic(xmlTextWriterPtr w, const void *n, const void *unused)
{
    return write_nic(w, n);
}

int vr_domxml_domain(const vr_vm_spec *spec, const char *console_log, char **out, vr_error *err)
{
    int mtu;
    for (int i = 0; i < spec->nnics; i++)
        if (vr_net_nic_check(&spec->nics[i], &mtu, err) < 0)
            return -1;
    for (int i = 0; i < spec->nnics; i++)
        vr_nicqos_want(&spec->nics[i]); /* shaping and mirroring once its tap exists */
    return vr_domxml_render(fill_domain, spec, console_log, out, err);
}

int vr_domxml_disk(const vr_disk *d, char **out, vr_error *err)
{
    return vr_domxml_render(fill_disk, d, NULL, out, err);
}

int vr_domxml_nic(const vr_nic *n, char **out, vr_error *err)
{
    int mtu;
    if (vr_net_nic_check(n, &mtu, err) < 0)
        return -1;
    /* Its shaping and mirroring: vr_nicqos_want once libvirt took it. */
    return vr_domxml_render(fill_nic, n, NULL, out, err);
}
