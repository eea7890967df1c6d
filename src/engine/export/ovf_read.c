/* Reading an OVF back into the model (ovf.h). The text comes from
 * storage, so from anyone who could write the domain: no network, no DTD
 * (a document that declares one is refused, so no entity is ever
 * defined, let alone expanded), a size cap, and every value checked for
 * its shape here; the VM's own rules (names, sizes, buses) are checked
 * again by the import as for any new VM. */
#include "ovf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "devspec.h"

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1/"
#define NS_VIREO "urn:vireo:ovf:1"
#define TEXT_MAX 4096 /* bytes of any one value */

static bool named(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (named(c, name))
            return c;
    return NULL;
}

/* An element's text, or an attribute's (ns NULL: no namespace), as a
 * new JSON string; "" when absent; NULL with err when not plain text. */
static json_t *text_of(xmlChar *v, const char *what, vr_error *err)
{
    json_t *out = NULL;
    size_t len = v ? strlen((const char *)v) : 0;
    if (len > TEXT_MAX)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's %s is longer than %d bytes", what, TEXT_MAX);
    else if (!(out = json_stringn(v ? (const char *)v : "", len)))
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's %s is not UTF-8 text", what);
    xmlFree(v);
    return out;
}

static json_t *elem_text(xmlNodePtr parent, const char *name, vr_error *err)
{
    xmlNodePtr c = child(parent, name);
    return text_of(c ? xmlNodeGetContent(c) : NULL, name, err);
}

static json_t *attr_text(xmlNodePtr n, const char *name, const char *ns, vr_error *err)
{
    return text_of(ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) : xmlGetNoNsProp(n, BAD_CAST name), name, err);
}

/* Set member k of o to v (stolen); false (err set) when v is NULL. */
static bool put(json_t *o, const char *k, json_t *v)
{
    if (!v)
        return false;
    json_object_set_new(o, k, v);
    return true;
}

static bool number(json_t *o, const char *k, json_t *textv, long long min, long long max, vr_error *err)
{
    const char *t = json_string_value(textv);
    char *end = NULL;
    errno = 0;
    long long v = t && *t ? strtoll(t, &end, 10) : 0;
    bool ok = t && *t && !*end && !errno && v >= min && v <= max;
    json_decref(textv);
    if (!t)
        return false;
    if (!ok) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's %s must be a number in %lld..%lld", k, min, max);
        return false;
    }
    json_object_set_new(o, k, json_integer(v));
    return true;
}

static bool is_true(json_t *v)
{
    bool t = v && !strcmp(json_string_value(v), "true");
    json_decref(v);
    return t;
}

static bool uuid_member(json_t *o, const char *k, const char *what, vr_error *err)
{
    const char *v = json_string_value(json_object_get(o, k));
    if (v && vr_valid_uuid(v))
        return true;
    if (!err->code)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's %s is not a UUID", what);
    return false;
}

static bool valid_mac(const char *m)
{
    if (strlen(m) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
            return false;
    return true;
}

/* The DiskSection's Disk whose fileRef is href. */
static xmlNodePtr disk_entry(xmlNodePtr env, const char *href)
{
    for (xmlNodePtr sec = env->children; sec; sec = sec->next)
        for (xmlNodePtr d = named(sec, "Section") ? sec->children : NULL; d; d = d->next) {
            if (!named(d, "Disk"))
                continue;
            xmlChar *ref = xmlGetNsProp(d, BAD_CAST "fileRef", BAD_CAST NS_OVF);
            bool same = ref && !strcmp((const char *)ref, href);
            xmlFree(ref);
            if (same)
                return d;
        }
    return NULL;
}

static bool read_disk(xmlNodePtr env, xmlNodePtr item, json_t *disks, vr_error *err)
{
    json_t *d = json_object();
    json_array_append_new(disks, d);
    if (!put(d, "bus", elem_text(item, "Bus", err)) || !put(d, "path", elem_text(item, "Path", err)))
        return false;
    json_object_set_new(d, "readonly", json_boolean(is_true(elem_text(item, "ReadOnly", err))));
    if (*json_string_value(json_object_get(d, "path"))) { /* a disk given by host path */
        json_t *f = elem_text(item, "Format", err), *dev = elem_text(item, "Device", err);
        if (f && *json_string_value(f))
            json_object_set(d, "format", f);
        if (dev && *json_string_value(dev))
            json_object_set(d, "device", dev);
        json_decref(f);
        json_decref(dev);
        return !err->code;
    }
    json_object_del(d, "path");
    json_t *href = elem_text(item, "HostResource", err);
    const char *h = json_string_value(href), *slash = h ? strchr(h, '/') : NULL;
    if (!href)
        return false;
    if (slash && slash - h < 40) {
        json_object_set_new(d, "disk", json_stringn(h, (size_t)(slash - h)));
        json_object_set_new(d, "volume", json_string(slash + 1));
    }
    xmlNodePtr de = disk_entry(env, h);
    json_decref(href);
    if (!uuid_member(d, "disk", "disk image id", err) || !uuid_member(d, "volume", "disk volume id", err))
        return false;
    if (!de)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's DiskSection has no disk %s",
                            json_string_value(json_object_get(d, "volume"))), false;
    json_t *fmt = attr_text(de, "volume-format", NS_OVF, err);
    bool raw = fmt && !strcmp(json_string_value(fmt), "RAW");
    if (fmt && !raw && strcmp(json_string_value(fmt), "COW"))
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's volume-format must be RAW or COW");
    json_decref(fmt);
    json_object_set_new(d, "format", json_string(raw ? "raw" : "cow"));
    json_object_set_new(d, "bootable", json_boolean(is_true(attr_text(de, "boot", NS_OVF, err))));
    return !err->code && put(d, "alias", attr_text(de, "disk-alias", NS_OVF, err)) &&
        put(d, "description", attr_text(de, "disk-description", NS_OVF, err)) &&
        number(d, "size", attr_text(de, "size-bytes", NS_VIREO, err), 512, 64LL << 40, err);
}

static bool read_nic(xmlNodePtr item, json_t *nics, vr_error *err)
{
    json_t *nic = json_object();
    json_array_append_new(nics, nic);
    if (!put(nic, "name", elem_text(item, "Name", err)) || !put(nic, "mac", elem_text(item, "MACAddress", err)) ||
        !put(nic, "model", elem_text(item, "ResourceSubType", err)) ||
        !put(nic, "profile", elem_text(item, "OtherResourceType", err)) ||
        !put(nic, "network", elem_text(item, "Connection", err)))
        return false;
    const char *mac = json_string_value(json_object_get(nic, "mac"));
    if (*mac && !valid_mac(mac))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's MAC address of NIC '%s' is not a MAC address",
                            json_string_value(json_object_get(nic, "name"))), false;
    return true;
}

static bool read_hardware(xmlNodePtr env, xmlNodePtr sec, json_t *m, vr_error *err)
{
    json_t *disks = json_array(), *nics = json_array();
    json_object_set_new(m, "disks", disks);
    json_object_set_new(m, "nics", nics);
    bool ok = true;
    for (xmlNodePtr it = sec->children; ok && it; it = it->next) {
        if (!named(it, "Item"))
            continue;
        json_t *type = elem_text(it, "ResourceType", err);
        const char *t = json_string_value(type);
        if (!t)
            ok = false;
        else if (!strcmp(t, "3"))
            ok = number(m, "vcpus", elem_text(it, "cpu_per_socket", err), 1, 240, err);
        else if (!strcmp(t, "4"))
            ok = number(m, "memory_mib", elem_text(it, "VirtualQuantity", err), 16, 4LL << 20, err);
        else if (!strcmp(t, "17"))
            ok = json_array_size(disks) < 32 ? read_disk(env, it, disks, err)
                : !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF has more than 32 disks");
        else if (!strcmp(t, "10"))
            ok = json_array_size(nics) < 32 ? read_nic(it, nics, err)
                : !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF has more than 32 NICs");
        json_decref(type);
    }
    return ok && !err->code;
}

static bool read_boot(xmlNodePtr b, json_t *m, vr_error *err)
{
    if (!b)
        return true;
    json_t *boot = json_object(), *order = json_array();
    json_object_set_new(m, "boot", boot);
    static const char *const keys[] = {"kernel", "initrd", "cmdline"};
    for (size_t i = 0; i < 3; i++) {
        xmlChar *v = xmlGetNoNsProp(b, BAD_CAST keys[i]);
        if (v && !put(boot, keys[i], text_of(v, keys[i], err)))
            return false;
    }
    for (xmlNodePtr c = b->children; c; c = c->next)
        if (named(c, "Device") && json_array_size(order) < 8) {
            json_t *name = attr_text(c, "name", NULL, err);
            if (!name)
                return false;
            json_array_append_new(order, name);
        }
    if (json_array_size(order))
        json_object_set(boot, "order", order);
    json_decref(order);
    return true;
}

#define CHAIN_MAX 64    /* volumes of one disk's chain */
#define SNAPSHOTS_MAX 32

/* The parentRef of the DiskSection's entry of image/volume: a new JSON
 * string, or NULL with err when there is no such entry. */
static json_t *parent_ref(xmlNodePtr env, const char *image, const char *volume, vr_error *err)
{
    char href[80];
    snprintf(href, sizeof(href), "%s/%s", image, volume);
    xmlNodePtr de = disk_entry(env, href);
    if (!de) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's DiskSection has no volume %s of disk %s", volume, image);
        return NULL;
    }
    return attr_text(de, "parentRef", NS_OVF, err);
}

/* Each engine disk whose leaf has a parentRef gets its chain, base first
 * ({volume, parent}): every volume in the DiskSection, a UUID, at most
 * CHAIN_MAX, no loop. */
static bool read_chains(xmlNodePtr env, json_t *m, vr_error *err)
{
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(m, "disks"), i, d) {
        const char *image = json_string_value(json_object_get(d, "disk"));
        if (!image)
            continue;
        json_t *chain = json_array(), *p = parent_ref(env, image, json_string_value(json_object_get(d, "volume")),
                                                      err);
        json_t *vol = json_incref(json_object_get(d, "volume"));
        while (p && *json_string_value(p)) {
            json_t *x;
            size_t k;
            bool seen = !vr_valid_uuid(json_string_value(p));
            json_array_foreach(chain, k, x) seen |= !strcmp(json_string_value(json_object_get(x, "volume")),
                                                             json_string_value(p));
            if (seen || json_array_size(chain) >= CHAIN_MAX) {
                vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's chain of disk %s is not a chain of at most %d"
                             " volumes (a parentRef not a UUID, or a loop)", image, CHAIN_MAX);
                break;
            }
            json_array_insert_new(chain, 0, json_pack("{s:o, s:O}", "volume", vol, "parent", p));
            vol = p;
            p = parent_ref(env, image, json_string_value(vol), err);
        }
        if (p && !err->code && json_array_size(chain)) {
            json_array_insert_new(chain, 0, json_pack("{s:o, s:s}", "volume", vol, "parent", ""));
            json_object_set_new(d, "chain", chain);
            chain = NULL;
        } else {
            json_decref(vol);
        }
        json_decref(p);
        json_decref(chain);
        if (err->code)
            return false;
    }
    return true;
}

/* Whether engine disk image's chain in m holds volume (its leaf when it
 * has no chain). */
static bool in_chain(json_t *m, const char *image, const char *volume)
{
    json_t *d, *v;
    size_t i, k;
    json_array_foreach(json_object_get(m, "disks"), i, d) {
        if (strcmp(json_string_value(json_object_get(d, "disk")) ?: "", image))
            continue;
        if (!strcmp(json_string_value(json_object_get(d, "volume")), volume))
            return true;
        json_array_foreach(json_object_get(d, "chain"), k, v)
            if (!strcmp(json_string_value(json_object_get(v, "volume")), volume))
                return true;
    }
    return false;
}

static bool read_snapshot(xmlNodePtr env, xmlNodePtr sn, json_t *m, json_t *sm, vr_error *err)
{
    xmlNodePtr conf = child(sn, "Configuration"), hw = NULL;
    for (xmlNodePtr c = conf ? conf->children : NULL; c; c = c->next) {
        xmlChar *type = named(c, "Section") ? xmlGetProp(c, BAD_CAST "type") : NULL;
        if (type && strstr((const char *)type, "VirtualHardwareSection_Type"))
            hw = c;
        xmlFree(type);
    }
    if (!put(sm, "id", attr_text(sn, "id", NS_OVF, err)) || !uuid_member(sm, "id", "snapshot id", err) ||
        !put(sm, "description", elem_text(sn, "Description", err)) ||
        !number(sm, "created_at", elem_text(sn, "CreatedAt", err), 0, 1LL << 40, err))
        return false;
    if (!hw)
        return !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's snapshot %s has no Configuration with a"
                             " VirtualHardwareSection", json_string_value(json_object_get(sm, "id")));
    if (!read_hardware(env, hw, sm, err) || !read_boot(child(conf, "Boot"), sm, err))
        return false;
    if (!json_object_get(sm, "vcpus") || !json_object_get(sm, "memory_mib"))
        return !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's snapshot %s names no vCPU count or memory size",
                             json_string_value(json_object_get(sm, "id")));
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(sm, "disks"), i, d) {
        const char *image = json_string_value(json_object_get(d, "disk"));
        if (image && !in_chain(m, image, json_string_value(json_object_get(d, "volume"))))
            return !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF's snapshot %s names volume %s, which is not"
                                 " in the chain of disk %s of the VM", json_string_value(json_object_get(sm, "id")),
                                 json_string_value(json_object_get(d, "volume")), image);
    }
    return true;
}

/* The SnapshotsSection's snapshots, oldest first, each checked against
 * the disks' chains. */
static bool read_snapshots(xmlNodePtr env, xmlNodePtr content, json_t *m, vr_error *err)
{
    for (xmlNodePtr sec = content->children; sec; sec = sec->next) {
        xmlChar *type = named(sec, "Section") ? xmlGetProp(sec, BAD_CAST "type") : NULL;
        bool snaps = type && strstr((const char *)type, "SnapshotsSection_Type");
        xmlFree(type);
        if (!snaps)
            continue;
        json_t *list = json_array();
        json_object_set_new(m, "snapshots", list);
        for (xmlNodePtr sn = sec->children; sn; sn = sn->next) {
            if (!named(sn, "Snapshot"))
                continue;
            if (json_array_size(list) >= SNAPSHOTS_MAX)
                return !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF has more than %d snapshots",
                                     SNAPSHOTS_MAX);
            json_t *sm = json_object();
            json_array_append_new(list, sm);
            if (!read_snapshot(env, sn, m, sm, err))
                return false;
        }
    }
    return true;
}

static json_t *read_envelope(xmlNodePtr env, vr_error *err)
{
    xmlNodePtr content = child(env, "Content"), os = NULL, hw = NULL;
    if (!named(env, "Envelope") || !content) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF has no Envelope with a Content (a VirtualSystem)");
        return NULL;
    }
    for (xmlNodePtr sec = content->children; sec; sec = sec->next) {
        if (!named(sec, "Section"))
            continue;
        xmlChar *type = xmlGetProp(sec, BAD_CAST "type");
        if (type && strstr((const char *)type, "OperatingSystemSection_Type"))
            os = sec;
        else if (type && strstr((const char *)type, "VirtualHardwareSection_Type"))
            hw = sec;
        xmlFree(type);
    }
    json_t *m = json_object();
    bool ok = os && hw;
    if (!ok)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF lacks its OperatingSystemSection or"
                     " VirtualHardwareSection");
    ok = ok && put(m, "id", attr_text(os, "id", NS_OVF, err)) && uuid_member(m, "id", "VM id", err) &&
        put(m, "name", elem_text(content, "Name", err)) &&
        put(m, "description", elem_text(content, "Description", err));
    if (ok)
        json_object_set_new(m, "template", json_boolean(is_true(elem_text(content, "IsTemplate", err))));
    json_t *base = ok ? elem_text(content, "TemplateId", err) : NULL; /* a thin VM's template (oVirt's) */
    const char *b = json_string_value(base);
    if (b && *b && strcmp(b, "00000000-0000-0000-0000-000000000000")) {
        ok = put(m, "template_id", json_incref(base)) && uuid_member(m, "template_id", "TemplateId", err) &&
             put(m, "template_name", elem_text(content, "TemplateName", err));
    }
    json_decref(base);
    ok = ok && !err->code && read_hardware(env, hw, m, err) && read_boot(child(content, "Boot"), m, err) &&
         read_chains(env, m, err) && read_snapshots(env, content, m, err);
    if (ok && (!json_object_get(m, "vcpus") || !json_object_get(m, "memory_mib")))
        ok = !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF names no vCPU count or memory size");
    if (ok && !*json_string_value(json_object_get(m, "name")))
        ok = !vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF names no VM");
    if (!ok) {
        if (!err->code)
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF cannot be read");
        json_decref(m);
        return NULL;
    }
    return m;
}

json_t *vr_ovf_read(const char *text, size_t len, vr_error *err)
{
    if (len > VR_OVF_MAX_BYTES) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF is %zu bytes; at most %d are read", len, VR_OVF_MAX_BYTES);
        return NULL;
    }
    /* No network, no DTD loading, no entity substitution, no huge nodes;
     * errors are ours to report, not libxml2's to print. */
    xmlDocPtr doc = xmlReadMemory(text, (int)len, "ovf.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    json_t *m = NULL;
    if (!doc)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF is not well-formed XML");
    else if (doc->intSubset || doc->extSubset)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF declares a DTD or entities; an OVF may not");
    else
        m = read_envelope(xmlDocGetRootElement(doc), err);
    xmlFreeDoc(doc);
    return m;
}
