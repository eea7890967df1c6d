/* Writing a VM's OVF with libxml2's text writer (ovf.h): every name and
 * value goes through the writer, which escapes it. */
#include "ovf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1/"
#define NS_RASD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define NS_VSSD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_VIREO "urn:vireo:ovf:1"
#define BLANK "00000000-0000-0000-0000-000000000000"

typedef struct w {
    xmlTextWriterPtr x;
    int bad; /* a writer call failed */
} w;

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long n(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static void start(w *t, const char *name)
{
    t->bad |= xmlTextWriterStartElement(t->x, BAD_CAST name) < 0;
}

static void end(w *t)
{
    t->bad |= xmlTextWriterEndElement(t->x) < 0;
}

static void attr(w *t, const char *name, const char *value)
{
    t->bad |= xmlTextWriterWriteAttribute(t->x, BAD_CAST name, BAD_CAST value) < 0;
}

static void attr_ll(w *t, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    attr(t, name, buf);
}

static void elem(w *t, const char *name, const char *text)
{
    t->bad |= xmlTextWriterWriteElement(t->x, BAD_CAST name, BAD_CAST text) < 0;
}

static void elem_ll(w *t, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    elem(t, name, buf);
}

static void section(w *t, const char *type, const char *info)
{
    start(t, "Section");
    attr(t, "xsi:type", type);
    elem(t, "Info", info);
}

static bool engine_disk(json_t *d)
{
    return *s(d, "disk") != '\0';
}

/* The volumes of engine disk d the OVF names: its chain's, base first,
 * each {volume, parent}; or the one (collapsed) volume. A new reference. */
static json_t *volumes(json_t *d)
{
    json_t *chain = json_object_get(d, "chain");
    if (json_array_size(chain))
        return json_incref(chain);
    return json_pack("[{s:s, s:s}]", "volume", s(d, "volume"), "parent", "");
}

static void references(w *t, json_t *model)
{
    json_t *d, *v, *vols;
    size_t i, k;
    start(t, "References");
    json_array_foreach(json_object_get(model, "disks"), i, d) if (engine_disk(d)) {
        vols = volumes(d);
        json_array_foreach(vols, k, v) {
            char href[80];
            snprintf(href, sizeof(href), "%s/%s", s(d, "disk"), s(v, "volume"));
            start(t, "File");
            attr(t, "ovf:href", href);
            attr(t, "ovf:id", s(v, "volume"));
            attr_ll(t, "ovf:size", n(d, "size"));
            attr(t, "ovf:description", s(d, "alias"));
            end(t);
        }
        json_decref(vols);
    }
    end(t);
}

static void networks(w *t, json_t *model)
{
    json_t *nic, *seen = json_object();
    size_t i;
    section(t, "ovf:NetworkSection_Type", "List of networks");
    json_array_foreach(json_object_get(model, "nics"), i, nic) {
        if (!*s(nic, "network") || json_object_get(seen, s(nic, "network")))
            continue;
        json_object_set_new(seen, s(nic, "network"), json_true());
        start(t, "Network");
        attr(t, "ovf:name", s(nic, "network"));
        end(t);
    }
    json_decref(seen);
    end(t);
}

static void disks(w *t, json_t *model)
{
    json_t *d, *v, *vols;
    size_t i, k;
    section(t, "ovf:DiskSection_Type", "List of Virtual Disks");
    json_array_foreach(json_object_get(model, "disks"), i, d) if (engine_disk(d)) {
        vols = volumes(d);
        json_array_foreach(vols, k, v) { /* parentRef: the volume under it in the chain ("" a base) */
            char href[80];
            snprintf(href, sizeof(href), "%s/%s", s(d, "disk"), s(v, "volume"));
            start(t, "Disk");
            attr(t, "ovf:diskId", s(v, "volume"));
            attr_ll(t, "ovf:size", (n(d, "size") + (1LL << 30) - 1) >> 30); /* GiB, as oVirt writes it */
            attr_ll(t, "vireo:size-bytes", n(d, "size"));
            attr(t, "ovf:fileRef", href);
            attr(t, "ovf:parentRef", s(v, "parent"));
            attr(t, "ovf:format", "http://www.gnome.org/~markmc/qcow-image-format.html");
            attr(t, "ovf:volume-format", !strcmp(s(d, "format"), "raw") ? "RAW" : "COW");
            attr(t, "ovf:volume-type", "Sparse");
            attr(t, "ovf:disk-interface", s(d, "bus"));
            attr(t, "ovf:boot", n(d, "bootable") ? "true" : "false");
            attr(t, "ovf:disk-alias", s(d, "alias"));
            attr(t, "ovf:disk-description", s(d, "description"));
            end(t);
        }
        json_decref(vols);
    }
    end(t);
}

static void item_start(w *t, const char *caption, const char *instance, int type)
{
    start(t, "Item");
    elem(t, "rasd:Caption", caption);
    elem(t, "rasd:InstanceId", instance);
    elem_ll(t, "rasd:ResourceType", type);
}

static void hardware(w *t, json_t *model)
{
    char info[96], cap[96];
    json_t *d;
    size_t i;
    snprintf(info, sizeof(info), "%lld CPU, %lld Memory", n(model, "vcpus"), n(model, "memory_mib"));
    section(t, "ovf:VirtualHardwareSection_Type", info);
    snprintf(cap, sizeof(cap), "%lld virtual cpu", n(model, "vcpus"));
    item_start(t, cap, "1", 3);
    elem(t, "rasd:Description", "Number of virtual CPU");
    elem_ll(t, "rasd:num_of_sockets", 1);
    elem_ll(t, "rasd:cpu_per_socket", n(model, "vcpus"));
    end(t);
    snprintf(cap, sizeof(cap), "%lld MB of memory", n(model, "memory_mib"));
    item_start(t, cap, "2", 4);
    elem(t, "rasd:Description", "Memory Size");
    elem(t, "rasd:AllocationUnits", "MegaBytes");
    elem_ll(t, "rasd:VirtualQuantity", n(model, "memory_mib"));
    end(t);
    json_array_foreach(json_object_get(model, "disks"), i, d) {
        if (engine_disk(d)) {
            char href[80];
            snprintf(href, sizeof(href), "%s/%s", s(d, "disk"), s(d, "volume"));
            item_start(t, s(d, "alias"), s(d, "volume"), 17);
            elem(t, "rasd:HostResource", href);
            elem(t, "rasd:Parent", BLANK);
            elem(t, "rasd:Template", BLANK);
            elem(t, "rasd:StorageId", s(d, "storage_domain"));
        } else { /* a disk given by path on the hosts: Vireo's own */
            item_start(t, s(d, "path"), "", 17);
            elem(t, "vireo:Path", s(d, "path"));
            if (*s(d, "format"))
                elem(t, "vireo:Format", s(d, "format"));
            if (*s(d, "device"))
                elem(t, "vireo:Device", s(d, "device"));
        }
        elem(t, "vireo:Bus", s(d, "bus"));
        elem(t, "vireo:ReadOnly", n(d, "readonly") ? "true" : "false");
        end(t);
    }
    json_array_foreach(json_object_get(model, "nics"), i, d) {
        snprintf(cap, sizeof(cap), "Ethernet adapter on %.60s", *s(d, "network") ? s(d, "network") : "no network");
        item_start(t, cap, s(d, "name"), 10);
        elem(t, "rasd:OtherResourceType", s(d, "profile"));
        elem(t, "rasd:ResourceSubType", s(d, "model"));
        elem(t, "rasd:Connection", s(d, "network"));
        elem(t, "rasd:Name", s(d, "name"));
        elem(t, "rasd:MACAddress", s(d, "mac"));
        end(t);
    }
    end(t);
}

static void boot(w *t, json_t *b)
{
    json_t *o;
    size_t i;
    if (!json_is_object(b))
        return;
    start(t, "vireo:Boot");
    if (*s(b, "kernel"))
        attr(t, "kernel", s(b, "kernel"));
    if (*s(b, "initrd"))
        attr(t, "initrd", s(b, "initrd"));
    if (json_is_string(json_object_get(b, "cmdline")))
        attr(t, "cmdline", s(b, "cmdline"));
    json_array_foreach(json_object_get(b, "order"), i, o) {
        start(t, "vireo:Device");
        attr(t, "name", json_string_value(o) ?: "");
        end(t);
    }
    end(t);
}

static void date_of(json_t *o, char *date, size_t size)
{
    time_t when = (time_t)n(o, "created_at");
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, size, "%Y/%m/%d %H:%M:%S", &tm);
}

/* The VM's snapshots, oldest first, as oVirt lists them (a
 * SnapshotsSection), each with the VM's definition then in Vireo's
 * Configuration: a VirtualHardwareSection whose disks name the volumes
 * that hold them as they were, and the boot settings. */
static void snapshots(w *t, json_t *list)
{
    json_t *sn;
    size_t i;
    if (!json_array_size(list))
        return;
    section(t, "ovf:SnapshotsSection_Type", "List of snapshots");
    json_array_foreach(list, i, sn) {
        char date[32];
        date_of(sn, date, sizeof(date));
        start(t, "Snapshot");
        attr(t, "ovf:id", s(sn, "id"));
        elem(t, "Type", "REGULAR");
        elem(t, "Description", s(sn, "description"));
        elem(t, "CreationDate", date);
        elem_ll(t, "vireo:CreatedAt", n(sn, "created_at"));
        start(t, "vireo:Configuration");
        hardware(t, sn);
        boot(t, json_object_get(sn, "boot"));
        end(t);
        end(t);
    }
    end(t);
}

static void content(w *t, json_t *model)
{
    char date[32];
    date_of(model, date, sizeof(date));
    start(t, "Content");
    attr(t, "ovf:id", "out");
    attr(t, "xsi:type", "ovf:VirtualSystem_Type");
    elem(t, "Name", s(model, "name"));
    elem(t, "Description", s(model, "description"));
    elem(t, "CreationDate", date);
    elem(t, "ExportDate", "");
    elem(t, "TemplateId", BLANK);
    elem(t, "IsTemplate", n(model, "template") ? "true" : "false");
    start(t, "Section");
    attr(t, "ovf:id", s(model, "id"));
    attr(t, "ovf:required", "false");
    attr(t, "xsi:type", "ovf:OperatingSystemSection_Type");
    elem(t, "Info", "Guest Operating System");
    elem(t, "Description", "other_linux");
    end(t);
    hardware(t, model);
    boot(t, json_object_get(model, "boot"));
    snapshots(t, json_object_get(model, "snapshots"));
    end(t);
}

char *vr_ovf_write(json_t *model, vr_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    w t = {buf ? xmlNewTextWriterMemory(buf, 0) : NULL, 0};
    if (!t.x) {
        xmlBufferFree(buf);
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory writing an OVF");
        return NULL;
    }
    xmlTextWriterSetIndent(t.x, 1);
    t.bad |= xmlTextWriterStartDocument(t.x, "1.0", "UTF-8", NULL) < 0;
    start(&t, "ovf:Envelope");
    attr(&t, "xmlns:ovf", NS_OVF);
    attr(&t, "xmlns:rasd", NS_RASD);
    attr(&t, "xmlns:vssd", NS_VSSD);
    attr(&t, "xmlns:xsi", NS_XSI);
    attr(&t, "xmlns:vireo", NS_VIREO);
    attr(&t, "ovf:version", "1.0");
    references(&t, model);
    networks(&t, model);
    disks(&t, model);
    content(&t, model);
    end(&t);
    t.bad |= xmlTextWriterEndDocument(t.x) < 0;
    xmlFreeTextWriter(t.x); /* flushes into buf */
    char *out = NULL;
    if (t.bad)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF of VM '%s' cannot be written (a name or value is not"
                     " valid UTF-8 text)", s(model, "name"));
    else if (xmlBufferLength(buf) > VR_OVF_MAX_BYTES)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF of VM '%s' would be %d bytes; at most %d",
                     s(model, "name"), xmlBufferLength(buf), VR_OVF_MAX_BYTES);
    else if (!(out = strdup((const char *)xmlBufferContent(buf))))
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory writing an OVF");
    xmlBufferFree(buf);
    return out;
}
