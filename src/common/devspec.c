#include "devspec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include "jsonx.h"
#include "i18n.h"

const char *const vr_iotune_names[VR_IOTUNE_N] = {
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec"};

/* Names end up in libvirt, file names and logs: keep them boring. */
bool vr_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

bool vr_valid_uuid(const char *s)
{
    uuid_t u;
    return strlen(s) == 36 && uuid_parse(s, u) == 0;
}

bool vr_valid_target(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 6 && strspn(s, "abcdefghijklmnopqrstuvwxyz") == n;
}

bool vr_valid_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    unsigned first = 0;
    sscanf(s, "%2x", &first);
    return (first & 1) == 0; /* a multicast MAC cannot be a NIC's address */
}

bool vr_valid_text(const char *s)
{
    /* XML 1.0 has no way to write C0 controls (tab, CR and LF aside, which
     * have no place in these values either) nor U+FFFE and U+FFFF: libxml2
     * would write them raw and libvirt refuse the document. */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            return false;
    }
    return true;
}

bool vr_valid_path(const char *s)
{
    return s[0] == '/' && strlen(s) <= 1024 && vr_valid_text(s);
}

void vr_random_mac(char out[18])
{
    unsigned char b[3] = {0};
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        b[0] = b[1] = b[2] = 0; /* never fails for 3 bytes after boot */
    snprintf(out, 18, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
}

/* Address members follow libvirt's <address> attributes. */
static int address_parse(json_t *obj, const char *where, json_t **out, vr_error *err)
{
    static const char *const types[] = {"pci", "drive"};
    json_t *addr = NULL;
    if (vr_json_obj(obj, where, "address", false, &addr, err) < 0)
        return -1;
    if (!addr)
        return 0;
    static const char *const pci_keys[] = {"type", "domain", "bus", "slot", "function"};
    static const char *const drive_keys[] = {"type", "controller", "bus", "target", "unit"};
    const char *type = NULL;
    if (vr_json_str(addr, where, "type", true, &type, err) < 0)
        return -1;
    if (!vr_str_in(type, VR_NAMES(types)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.address.type must be 'pci' or 'drive'",
                            where);
    bool pci = !strcmp(type, "pci");
    char in[96];
    snprintf(in, sizeof(in), "%s.address", where);
    if (vr_json_check_keys(addr, in, pci ? VR_NAMES(pci_keys) : VR_NAMES(drive_keys), err) < 0)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(addr, key, v) {
        if (!strcmp(key, "type"))
            continue;
        const char *s = json_string_value(v);
        /* libvirt reads PCI numbers as hex with 0x, drive numbers as decimal. */
        bool ok = s && (pci ? strncmp(s, "0x", 2) == 0 && s[2] && strlen(s) <= 10 &&
                                  strspn(s + 2, "0123456789abcdefABCDEF") == strlen(s + 2)
                            : *s && strlen(s) <= 5 && strspn(s, "0123456789") == strlen(s));
        if (!ok)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                pci ? N_("%s.address.%s must be a hex string like '0x05'")
                                    : N_("%s.address.%s must be a decimal string like '0'"),
                                where, key);
    }
    *out = addr;
    return 0;
}

/* A volume reference: exactly domain, image and volume, each a UUID. */
static int volume_check(json_t *vol, const char *where, vr_error *err)
{
    static const char *const keys[] = {"domain", "image", "volume"};
    char in[96];
    snprintf(in, sizeof(in), "%s.volume", where);
    if (vr_json_check_keys(vol, in, VR_NAMES(keys), err) < 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        const char *v;
        if (vr_json_str(vol, in, keys[i], true, &v, err) < 0)
            return -1;
        if (!vr_valid_uuid(v))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be a UUID", in, keys[i]);
    }
    return 0;
}

int vr_disk_parse(json_t *obj, const char *where, vr_disk *d, vr_error *err)
{
    static const char *const keys[] = {"path", "format", "bus", "device", "cache", "io",
                                       "readonly", "serial", "target", "iotune", "address",
                                       "volume"};
    static const char *const formats[] = {"raw", "qcow2"};
    static const char *const buses[] = {"virtio", "virtio-scsi", "sata", "ide"};
    static const char *const devices[] = {"disk", "cdrom"};
    static const char *const caches[] = {"none", "writethrough", "writeback",
                                         "directsync", "unsafe"};
    static const char *const ios[] = {"threads", "native"};
    memset(d, 0, sizeof(*d));
    d->format = "raw";
    d->bus = "virtio";
    d->device = "disk";
    d->cache = "none"; /* required for safe live migration */
    d->io = "threads";
    const char *target = NULL;
    json_t *iotune = NULL;
    if (!json_is_object(obj))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    if (vr_json_check_keys(obj, where, VR_NAMES(keys), err) < 0 ||
        vr_json_obj(obj, where, "volume", false, &d->volume, err) < 0 ||
        vr_json_str(obj, where, "path", !d->volume, &d->path, err) < 0 ||
        vr_json_str(obj, where, "format", false, &d->format, err) < 0 ||
        vr_json_str(obj, where, "bus", false, &d->bus, err) < 0 ||
        vr_json_str(obj, where, "device", false, &d->device, err) < 0 ||
        vr_json_str(obj, where, "cache", false, &d->cache, err) < 0 ||
        vr_json_str(obj, where, "io", false, &d->io, err) < 0 ||
        vr_json_bool(obj, where, "readonly", false, &d->readonly, err) < 0 ||
        vr_json_str(obj, where, "serial", false, &d->serial, err) < 0 ||
        vr_json_str(obj, where, "target", false, &target, err) < 0 ||
        vr_json_obj(obj, where, "iotune", false, &iotune, err) < 0 ||
        address_parse(obj, where, &d->address, err) < 0)
        return -1;
    if (d->volume && d->path)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: give either path or volume, not both",
                            where);
    if (d->volume && volume_check(d->volume, where, err) < 0)
        return -1;
    if (!d->volume && !vr_valid_path(d->path))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.path must be an absolute path without control characters", where);
    if (!vr_str_in(d->format, VR_NAMES(formats)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.format must be raw or qcow2", where);
    if (!vr_str_in(d->bus, VR_NAMES(buses)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.bus must be virtio, virtio-scsi, sata or ide", where);
    if (!vr_str_in(d->device, VR_NAMES(devices)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.device must be disk or cdrom", where);
    if (!vr_str_in(d->cache, VR_NAMES(caches)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.cache is not a known cache mode", where);
    if (!vr_str_in(d->io, VR_NAMES(ios)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.io must be threads or native", where);
    if (!strcmp(d->device, "cdrom")) {
        if (!strcmp(d->bus, "virtio"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s: a cdrom needs bus ide, sata or virtio-scsi", where);
        d->readonly = true;
    }
    if (!strcmp(d->io, "native") && strcmp(d->cache, "none") && strcmp(d->cache, "directsync"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s: io 'native' requires cache 'none' or 'directsync'", where);
    if (d->serial && (strlen(d->serial) > 20 ||
                      strspn(d->serial, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(d->serial)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.serial must be at most 20 letters, digits, '-' or '_'", where);
    if (target) {
        if (strlen(target) < 3 || strlen(target) > 6 ||
            strspn(target, "abcdefghijklmnopqrstuvwxyz") != strlen(target))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.target must look like 'vdb'", where);
        snprintf(d->target, sizeof(d->target), "%s", target);
    }
    if (iotune) {
        char in[96];
        snprintf(in, sizeof(in), "%s.iotune", where);
        if (vr_json_check_keys(iotune, in, VR_NAMES(vr_iotune_names), err) < 0)
            return -1;
        for (int i = 0; i < VR_IOTUNE_N; i++)
            if (vr_json_int(iotune, in, vr_iotune_names[i], false, 0, (1LL << 50),
                            &d->iotune[i], err) < 0)
                return -1;
        if ((d->iotune[VR_IOTUNE_TOTAL_BYTES] &&
             (d->iotune[VR_IOTUNE_READ_BYTES] || d->iotune[VR_IOTUNE_WRITE_BYTES])) ||
            (d->iotune[VR_IOTUNE_TOTAL_IOPS] &&
             (d->iotune[VR_IOTUNE_READ_IOPS] || d->iotune[VR_IOTUNE_WRITE_IOPS])))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s.iotune: a total limit excludes read/write limits", where);
        d->has_iotune = true;
    }
    return 0;
}

int vr_disk_assign_target(vr_disk *d, const char *const *used, int nused, vr_error *err)
{
    const char *prefix = !strcmp(d->bus, "virtio") ? "vd" : !strcmp(d->bus, "ide") ? "hd" : "sd";
    if (d->target[0]) {
        if (strncmp(d->target, prefix, 2) != 0)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "disk target '%s' does not match bus %s (expected %s*)",
                                d->target, d->bus, prefix);
        for (int i = 0; i < nused; i++)
            if (!strcmp(used[i], d->target))
                return vr_error_set(err, VR_ERR_CONFLICT, "disk target '%s' is already used",
                                    d->target);
        return 0;
    }
    for (int c = 0; c < 26; c++) {
        char name[16];
        snprintf(name, sizeof(name), "%s%c", prefix, 'a' + c);
        bool taken = false;
        for (int i = 0; i < nused && !taken; i++)
            taken = !strcmp(used[i], name);
        if (!taken) {
            snprintf(d->target, sizeof(d->target), "%s", name);
            return 0;
        }
    }
    return vr_error_set(err, VR_ERR_LIMIT, "no free disk target left for bus %s", d->bus);
}

int vr_disks_assign_targets(vr_disk *disks, int n, vr_error *err)
{
    const char *used[VR_MAX_STORAGE];
    int nused = 0;
    if (n > VR_MAX_STORAGE)
        return vr_error_set(err, VR_ERR_LIMIT, "a VM can have at most %d storage devices", VR_MAX_STORAGE);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < n; k++) {
            vr_disk *d = &disks[k];
            if ((pass == 0) != (d->target[0] != '\0'))
                continue;
            if (vr_disk_assign_target(d, used, nused, err) < 0)
                return -1;
            used[nused++] = d->target;
        }
    }
    return 0;
}

/* bandwidth: {"inbound"|"outbound": {average, peak?, burst?}}, libvirt's
 * units (KiB/s, KiB), each 1..2^32-1, average required in a direction. */
static int bandwidth_parse(json_t *obj, const char *where, vr_nic *n, vr_error *err)
{
    static const char *const dirs[] = {"inbound", "outbound"};
    static const char *const keys[] = {"average", "peak", "burst"};
    json_t *bw = NULL;
    char in[96];
    snprintf(in, sizeof(in), "%s.bandwidth", where);
    if (vr_json_obj(obj, where, "bandwidth", false, &bw, err) < 0)
        return -1;
    if (!bw)
        return 0;
    if (vr_json_check_keys(bw, in, VR_NAMES(dirs), err) < 0)
        return -1;
    for (int d = 0; d < 2; d++) {
        json_t *dir = NULL;
        char din[128];
        snprintf(din, sizeof(din), "%s.%s", in, dirs[d]);
        if (vr_json_obj(bw, in, dirs[d], false, &dir, err) < 0)
            return -1;
        if (!dir)
            continue;
        if (vr_json_check_keys(dir, din, VR_NAMES(keys), err) < 0)
            return -1;
        for (int k = 0; k < VR_BW_N; k++)
            if (vr_json_int(dir, din, keys[k], k == VR_BW_AVERAGE, 1, 4294967295LL, &n->bw[d][k],
                            err) < 0)
                return -1;
        n->has_bw[d] = true;
    }
    return 0;
}

int vr_nic_parse(json_t *obj, const char *where, vr_nic *n, vr_error *err)
{
    static const char *const keys[] = {"mac", "model", "bridge", "address", "network", "filter",
                                       "bandwidth", "mirror", "link", "passthrough"};
    static const char *const models[] = {"virtio", "e1000", "rtl8139"};
    memset(n, 0, sizeof(*n));
    n->model = "virtio";
    const char *mac = NULL, *link = NULL;
    if (!json_is_object(obj))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    if (vr_json_check_keys(obj, where, VR_NAMES(keys), err) < 0 ||
        vr_json_str(obj, where, "mac", false, &mac, err) < 0 ||
        vr_json_str(obj, where, "model", false, &n->model, err) < 0 ||
        vr_json_str(obj, where, "bridge", false, &n->bridge, err) < 0 ||
        address_parse(obj, where, &n->address, err) < 0 ||
        vr_json_str(obj, where, "network", false, &n->network, err) < 0 ||
        vr_json_bool(obj, where, "mirror", false, &n->mirror, err) < 0 ||
        vr_json_bool(obj, where, "passthrough", false, &n->passthrough, err) < 0 ||
        vr_json_str(obj, where, "link", false, &link, err) < 0 ||
        bandwidth_parse(obj, where, n, err) < 0)
        return -1;
    n->filter = n->network != NULL;
    if (vr_json_bool(obj, where, "filter", false, &n->filter, err) < 0)
        return -1;
    if (link && strcmp(link, "up") && strcmp(link, "down"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.link must be up or down", where);
    n->link_down = link && !strcmp(link, "down");
    if (n->network && (!*n->network || strlen(n->network) > 15 ||
                       strspn(n->network, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(n->network)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.network must be a network name (1-15 of A-Z a-z 0-9 - _)", where);
    if (n->network && n->bridge)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: give bridge or network, not both", where);
    if (n->mirror && !n->network)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.mirror needs a network", where);
    if (!vr_str_in(n->model, VR_NAMES(models)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.model must be virtio, e1000 or rtl8139", where);
    if (n->bridge && (!*n->bridge || strlen(n->bridge) > 15 ||
                      strspn(n->bridge, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(n->bridge)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.bridge is not a valid interface name",
                            where);
    if (mac) {
        if (!vr_valid_mac(mac))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s.mac '%s' is not a unicast MAC like 52:54:00:12:34:56", where, mac);
        for (int i = 0; i < 17; i++)
            n->mac[i] = (char)tolower((unsigned char)mac[i]);
    } else {
        vr_random_mac(n->mac);
    }
    return 0;
}

int vr_boot_parse(json_t *boot, vr_boot *b, vr_error *err)
{
    static const char *const keys[] = {"kernel", "initrd", "cmdline", "order"};
    static const char *const devs[] = {"hd", "cdrom", "network"};
    json_t *order = NULL;
    memset(b, 0, sizeof(*b));
    if (!json_is_object(boot))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot must be an object");
    if (vr_json_check_keys(boot, "boot", VR_NAMES(keys), err) < 0 ||
        vr_json_str(boot, "boot", "kernel", false, &b->kernel, err) < 0 ||
        vr_json_str(boot, "boot", "initrd", false, &b->initrd, err) < 0 ||
        vr_json_str(boot, "boot", "cmdline", false, &b->cmdline, err) < 0 ||
        vr_json_arr(boot, "boot", "order", false, &order, err) < 0)
        return -1;
    if ((b->kernel && !vr_valid_path(b->kernel)) || (b->initrd && !vr_valid_path(b->initrd)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.kernel/initrd must be absolute paths");
    if ((b->initrd || b->cmdline) && !b->kernel)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.initrd/cmdline need boot.kernel");
    if (b->cmdline && strlen(b->cmdline) > 2048)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.cmdline is longer than 2048 bytes");
    if (b->cmdline && !vr_valid_text(b->cmdline))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.cmdline must not contain control characters");
    if (json_array_size(order) > 3)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.order has at most 3 entries");
    size_t i;
    json_t *v;
    json_array_foreach(order, i, v) {
        if (!json_is_string(v) || !vr_str_in(json_string_value(v), VR_NAMES(devs)))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "boot.order entries must be hd, cdrom or network");
        b->order[b->norder++] = json_string_value(v);
    }
    return 0;
}
