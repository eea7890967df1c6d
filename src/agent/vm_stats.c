/* VM statistics and console verbs. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dominfo.h"
#include "hyp.h"
#include "jsonx.h"
#include "verbs.h"
#include "vm_console.h"
#include "vm_guestinfo.h"
#include "vmspec.h"

static json_t *param_value(const virTypedParameter *p)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_INT: return json_integer(p->value.i);
    case VIR_TYPED_PARAM_UINT: return json_integer(p->value.ui);
    case VIR_TYPED_PARAM_LLONG: return json_integer(p->value.l);
    case VIR_TYPED_PARAM_ULLONG: return json_integer((json_int_t)p->value.ul);
    case VIR_TYPED_PARAM_DOUBLE: return json_real(p->value.d);
    case VIR_TYPED_PARAM_BOOLEAN: return json_boolean(p->value.b);
    case VIR_TYPED_PARAM_STRING: return json_string(p->value.s);
    default: return json_null();
    }
}

/* libvirt reports "block.1.rd.bytes"; group them into arrays of objects:
 * disks[1]["rd.bytes"]. Other keys go to `flat` as they are. */
static void group_stat(json_t *flat, json_t *disks, json_t *nics, json_t *vcpus,
                       const char *field, json_t *val)
{
    const char *prefixes[] = {"block.", "net.", "vcpu."};
    json_t *arrays[] = {disks, nics, vcpus};
    for (int k = 0; k < 3; k++) {
        size_t pl = strlen(prefixes[k]);
        if (strncmp(field, prefixes[k], pl) != 0)
            continue;
        char *end;
        long idx = strtol(field + pl, &end, 10);
        if (end == field + pl || *end != '.' || idx < 0 || idx > 1024)
            break; /* "block.count" and friends */
        while (json_array_size(arrays[k]) <= (size_t)idx)
            json_array_append_new(arrays[k], json_object());
        json_object_set_new(json_array_get(arrays[k], (size_t)idx), end + 1, val);
        return;
    }
    json_object_set_new(flat, field, val);
}

#define STATS_TYPES                                                                        \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |       \
     VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

/* One domain's statistics record as VM.getStats answers it. */
static json_t *stats_object(virDomainStatsRecordPtr rec)
{
    json_t *flat = json_object(), *disks = json_array(), *nics = json_array(), *vcpus = json_array();
    for (int i = 0; i < rec->nparams; i++)
        group_stat(flat, disks, nics, vcpus, rec->params[i].field, param_value(&rec->params[i]));
    int state = (int)json_integer_value(json_object_get(flat, "state.state"));
    json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:{s:O, s:O, s:O, s:O, s:O, s:O}, s:o, s:o, s:o}",
        "state", vr_dom_state_name(state),
        "cpu_time_ns", json_object_get(flat, "cpu.time") ?: json_null(),
        "vcpus_current", json_object_get(flat, "vcpu.current") ?: json_null(),
        "vcpus_max", json_object_get(flat, "vcpu.maximum") ?: json_null(),
        "balloon",
        "current_kib", json_object_get(flat, "balloon.current") ?: json_null(),
        "maximum_kib", json_object_get(flat, "balloon.maximum") ?: json_null(),
        "rss_kib", json_object_get(flat, "balloon.rss") ?: json_null(),
        "available_kib", json_object_get(flat, "balloon.available") ?: json_null(),
        "usable_kib", json_object_get(flat, "balloon.usable") ?: json_null(),
        "unused_kib", json_object_get(flat, "balloon.unused") ?: json_null(),
        "disks", disks, "nics", nics, "vcpus", vcpus);
    json_decref(flat);
    return o;
}

/* What the guest agent last said (vm_guestinfo.c asks it on its own
 * thread, so a statistics call never waits for a guest); null if nothing. */
static void add_guest_info(json_t *o, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    json_t *gi = virDomainGetUUIDString(dom, uuid) == 0 ? vr_guestinfo_get(uuid) : NULL;
    json_object_set_new(o, "guest_info", gi ? gi : json_null());
}

static int vm_get_stats(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", NULL};
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 || vr_dom_lookup(a, params, &dom, err) < 0)
        return -1;
    virDomainPtr doms[] = {dom, NULL};
    virDomainStatsRecordPtr *recs = NULL;
    if (virDomainListGetStats(doms, STATS_TYPES, &recs, 0) < 1) {
        vr_libvirt_error(err, "cannot read statistics of VM %s", virDomainGetName(dom));
        virDomainFree(dom);
        return -1;
    }
    *result = stats_object(recs[0]);
    add_guest_info(*result, recs[0]->dom);
    virDomainStatsRecordListFree(recs);
    virDomainFree(dom);
    return 0;
}

/* Every running VM of ours in one libvirt call: what a monitor polling
 * statistics needs, without a call per VM. */
static int vm_get_all_stats(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(((const char *const[]){NULL})), err) < 0)
        return -1;
    virDomainStatsRecordPtr *recs = NULL;
    /* NOWAIT: a VM busy with a job (or whose QEMU hangs) reports what is
     * at hand instead of holding up everyone's figures. */
    int n = virConnectGetAllDomainStats(a->conn, STATS_TYPES, &recs,
                                        VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
                                            VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n < 0)
        return vr_libvirt_error(err, "cannot read the VMs' statistics");
    json_t *vms = json_array();
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (!vr_dom_is_owned(recs[i]->dom) || virDomainGetUUIDString(recs[i]->dom, uuid) < 0)
            continue;
        json_t *o = stats_object(recs[i]);
        json_object_set_new(o, "uuid", json_string(uuid));
        add_guest_info(o, recs[i]->dom);
        json_array_append_new(vms, o);
    }
    virDomainStatsRecordListFree(recs);
    virResetLastError();
    *result = json_pack("{s:o}", "vms", vms);
    return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
 * Strict (RFC 3629): no overlong forms, surrogates or code points above
 * U+10FFFF, which JSON encoders refuse. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* Second-byte ranges that rule out overlongs, surrogates, > U+10FFFF. */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/* Serial output is arbitrary bytes: keep valid UTF-8 and line breaks,
 * replace invalid bytes and control characters JSON readers trip on. */
static void sanitize_text(char *buf, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)buf[i];
        size_t l = utf8_len((unsigned char *)buf + i, n - i);
        if (l == 0 || (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f) {
            buf[i++] = '?';
            continue;
        }
        i += l;
    }
}

/* The console log is named after the UUID so it can be read even after the
 * VM stopped and libvirt forgot it. */
static int vm_console_log(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "max_bytes", NULL};
    const char *uuid;
    long long max = 65536;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "uuid", true, &uuid, err) < 0 ||
        vr_json_int(params, "params", "max_bytes", false, 1, 1024 * 1024, &max, err) < 0)
        return -1;
    if (!vr_valid_uuid(uuid))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "uuid '%s' is not a valid UUID", uuid);
    char path[512];
    vr_console_log_path(a, uuid, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vr_error_set(err, errno == ENOENT ? VR_ERR_NO_VM : VR_ERR_IO,
                            "no console log for VM %s: %s", uuid, strerror(errno));
    struct stat st;
    fstat(fd, &st);
    off_t off = st.st_size > max ? st.st_size - max : 0;
    char *buf = malloc((size_t)max + 1);
    ssize_t got = buf ? pread(fd, buf, (size_t)max, off) : -1;
    close(fd);
    if (got < 0) {
        free(buf);
        return vr_error_set(err, VR_ERR_IO, "cannot read console log of VM %s", uuid);
    }
    sanitize_text(buf, (size_t)got);
    *result = json_pack("{s:s%, s:I, s:I}", "text", buf, (size_t)got, "offset", (json_int_t)off,
                        "size", (json_int_t)st.st_size);
    free(buf);
    if (!*result)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot encode console log of VM %s", uuid);
    return 0;
}

/* QEMU's pty backend reads the guest's input only while some process holds
 * the pty open, and it checks for that once a second. So the console stream
 * is kept open for a while after sending, by a detached thread, rather than
 * closed at once (which would leave the text unread in the pty). */
#define CONSOLE_LINGER_MS 2500

static void *console_linger(void *arg)
{
    virStreamPtr st = arg;
    usleep(CONSOLE_LINGER_MS * 1000);
    if (virStreamFinish(st) < 0) {
        virStreamAbort(st);
        virResetLastError();
    }
    virStreamFree(st);
    return NULL;
}

/* Type text into the VM's serial console. */
static int vm_send_console(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "text", NULL};
    const char *text;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "text", true, &text, err) < 0)
        return -1;
    size_t len = strlen(text);
    if (len == 0 || len > 4096)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.text must be 1-4096 bytes");
    if (vr_dom_lookup(a, params, &dom, err) < 0)
        return -1;
    virStreamPtr st = virStreamNew(a->conn, 0);
    int rc = -1;
    if (!st || virDomainOpenConsole(dom, NULL, st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
        vr_libvirt_error(err, "cannot open the console of VM %s", virDomainGetName(dom));
        goto out;
    }
    for (size_t done = 0; done < len;) {
        int n = virStreamSend(st, text + done, len - done);
        if (n < 0) {
            vr_libvirt_error(err, "cannot write to the console of VM %s", virDomainGetName(dom));
            goto out;
        }
        done += (size_t)n;
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&t, &attr, console_linger, st) == 0)
        st = NULL; /* the thread owns it now */
    pthread_attr_destroy(&attr);
    rc = 0;
    *result = json_pack("{s:I}", "bytes", (json_int_t)len);
out:
    if (st) {
        if (rc < 0 || virStreamFinish(st) < 0)
            virStreamAbort(st);
        virStreamFree(st);
    }
    virResetLastError();
    virDomainFree(dom);
    return rc;
}

const vr_verb vr_vm_stats_verbs[] = {
    {"VM.getStats", vm_get_stats},
    {"VM.getAllStats", vm_get_all_stats},
    {"VM.getConsoleLog", vm_console_log},
    {"VM.sendConsole", vm_send_console},
    {NULL, NULL},
};
