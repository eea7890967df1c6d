/* `vireo vm nic-list|nic-add|nic-update|nic-remove|disk-list|disk-add|disk-remove|
 * disk-iotune|set-vcpus|balloon`: a VM's NICs and disks as the nested
 * collections /api/vms/ID/nics and /api/vms/ID/disks, and its live changes
 * (docs/rest-api.md, "A VM's devices and live changes"). On a down VM the
 * engine changes the stored VM at once (201, 200, 204); on a running one it
 * answers 202 with a job that goes through the VM's host, which --wait
 * waits for. Bodies are built with jansson only: user text is never pasted
 * into JSON. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_cmd.h"
#include "table.h"

/* A verb's own options and the body member each sets. Groups: n a NIC's,
 * u a NIC change's, d a disk's, t an I/O limit (a member of the disk's
 * "iotune"). An option may be in several groups (one entry each). */
typedef struct dev_opt {
    const char *opt, *member;
    char group, type; /* type: s string, f flag (true), i integer >= 0, o on|off (a boolean) */
} dev_opt;

static const dev_opt dev_opts[] = {
    {"bridge", "bridge", 'n', 's'},
    {"model", "model", 'n', 's'},
    {"network", "network", 'n', 's'},
    {"profile", "profile", 'n', 's'},
    {"profile", "profile", 'u', 's'}, /* NAME-or-ID: resolved once the session is loaded */
    {"linked", "linked", 'u', 'o'},
    {"path", "path", 'd', 's'},
    {"disk", "disk", 'd', 's'},
    {"interface", "interface", 'd', 's'},
    {"format", "format", 'd', 's'},
    {"bus", "bus", 'd', 's'},
    {"device", "device", 'd', 's'},
    {"cache", "cache", 'd', 's'},
    {"io", "io", 'd', 's'},
    {"serial", "serial", 'd', 's'},
    {"target", "target", 'd', 's'},
    {"readonly", "readonly", 'd', 'f'},
    {"total-bytes-sec", "total_bytes_sec", 't', 'i'},
    {"read-bytes-sec", "read_bytes_sec", 't', 'i'},
    {"write-bytes-sec", "write_bytes_sec", 't', 'i'},
    {"total-iops-sec", "total_iops_sec", 't', 'i'},
    {"read-iops-sec", "read_iops_sec", 't', 'i'},
    {"write-iops-sec", "write_iops_sec", 't', 'i'},
};
#define NDEV_OPTS (sizeof(dev_opts) / sizeof(dev_opts[0]))

typedef struct dev_verb dev_verb;
typedef int (*dev_run)(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body);

struct dev_verb {
    const char *verb, *operands, *synopsis;
    const char *coll;   /* nics, disks; NULL: the VM itself */
    const char *groups; /* of dev_opts it takes */
    unsigned allowed;   /* common options */
    bool sends_body;    /* else GET or DELETE */
    dev_run run;
};

static const vr_column nic_cols[] = {{"MAC", "mac|id", 0}, {"MODEL", "model", 0}, {"BRIDGE", "bridge", 0},
                                     {"PROFILE", "profile", 0}};
static const vr_column disk_cols[] = {{"TARGET", "target|id", 0}, {"PATH", "path|disk", 0},      {"FORMAT", "format", 0},
                                      {"BUS", "bus", 0},          {"DEVICE", "device", 0},   {"READONLY", "readonly", 0},
                                      {"SERIAL", "serial", 0},    {"IOTUNE", "iotune", 0}};

/* /api/vms/ID/COLL[/CHILD], both escaped. */
static char *dev_path(const char *vm_id, const char *coll, const char *child)
{
    char *base = vr_entity_path(vr_kind_find("vm"), vm_id, coll), *esc = child ? vr_http_escape(child) : NULL;
    char *path = NULL;
    if (base && (!child || esc) && asprintf(&path, "%s%s%s", base, child ? "/" : "", child ? esc : "") < 0)
        path = NULL;
    free(base);
    free(esc);
    return path;
}

static int get_rows(const vr_session *s, const char *path, const char *coll, vr_response *r, json_t **rows)
{
    int rc = vr_http(s, "GET", path, NULL, 0, r);
    *rows = json_object_get(r->json, coll);
    if (rc == 0 && !json_is_array(*rows)) {
        fprintf(stderr, "vireo: the answer has no '%s' list\n", coll);
        rc = 3;
    }
    return rc;
}

static int run_list(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    (void)body;
    char *path = dev_path(vm_id, v->coll, NULL);
    vr_response r = {0};
    json_t *rows;
    int rc = path ? get_rows(s, path, v->coll, &r, &rows) : 3;
    bool nics = !strcmp(v->coll, "nics");
    if (rc == 0 && a->json)
        vr_print_raw(&r);
    else if (rc == 0)
        vr_table_print(stdout, nics ? nic_cols : disk_cols,
                       nics ? sizeof(nic_cols) / sizeof(nic_cols[0]) : sizeof(disk_cols) / sizeof(disk_cols[0]), rows);
    vr_response_free(&r);
    free(path);
    return rc;
}

static bool listed(json_t *rows, const char *id)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *other = json_string_value(json_object_get(row, "id"));
        if (other && !strcmp(other, id))
            return true;
    }
    return false;
}

/* After a plug job: the job names no device, so the new one is what the
 * list holds now and did not before. */
static int print_added(const vr_session *s, const char *path, const char *coll, json_t *before, bool json)
{
    vr_response r = {0};
    json_t *rows, *added = NULL, *row;
    size_t i, n = 0;
    int rc = get_rows(s, path, coll, &r, &rows);
    json_array_foreach(rc ? NULL : rows, i, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (id && !listed(before, id)) {
            added = row;
            n++;
        }
    }
    if (rc == 0 && n == 1 && json) {
        char *text = json_dumps(added, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (rc == 0 && n == 1) {
        vr_show_print(stdout, added);
    } else if (rc == 0) { /* someone else changed the VM's devices meanwhile */
        fprintf(stderr, "vireo: the job finished; which of the VM's %s it added is not clear ('vm %.*s-list' lists them)\n",
                coll, (int)strlen(coll) - 1, coll);
    }
    vr_response_free(&r);
    return rc;
}

static int run_add(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    char *path = dev_path(vm_id, v->coll, NULL);
    vr_response before = {0}, r = {0};
    json_t *rows = NULL;
    bool waited = false;
    int rc = path ? 0 : 3;
    if (rc == 0 && a->wait)
        rc = get_rows(s, path, v->coll, &before, &rows);
    if (rc == 0)
        rc = vr_http(s, "POST", path, body, 0, &r);
    if (rc == 0)
        rc = vr_job_answer(s, &r, a, &waited);
    if (rc == 0 && waited)
        rc = print_added(s, path, v->coll, rows, a->json);
    vr_response_free(&before);
    vr_response_free(&r);
    free(path);
    return rc;
}

/* DELETE or PUT of one NIC (by MAC) or disk (by target). */
static int run_child(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    char *path = dev_path(vm_id, v->coll, a->pos[1]);
    vr_response r = {0};
    bool waited = false;
    int rc = path ? vr_http(s, body ? "PUT" : "DELETE", path, body, 0, &r) : 3;
    if (rc == 0)
        rc = vr_job_answer(s, &r, a, &waited);
    if (rc == 0 && waited && body) /* a removed device has nothing to show */
        rc = vr_get_print(s, path, a->json);
    vr_response_free(&r);
    free(path);
    return rc;
}

/* PUT of a NIC's link state and profile (a profile by name or id). */
static int run_nic_update(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    static const kind profiles = {"vnicprofile", "vnicprofiles", NULL, 0, NULL, VR_NO_NAMES, false, false,
                                  NULL, NULL, NULL};
    const char *ref = json_string_value(json_object_get(body, "profile"));
    char *id = NULL;
    int rc = ref ? vr_resolve(s, &profiles, ref, &id) : 0;
    if (rc == 0 && id)
        json_object_set_new(body, "profile", json_string(id));
    free(id);
    return rc ? rc : run_child(s, v, a, vm_id, body);
}

static int run_set_vcpus(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    (void)v;
    return vr_entity_change(s, vr_kind_find("vm"), vm_id, "PUT", NULL, body, a);
}

static int run_balloon(const vr_session *s, const dev_verb *v, const args *a, const char *vm_id, json_t *body)
{
    (void)v;
    return vr_entity_change(s, vr_kind_find("vm"), vm_id, "POST", "balloon", body, a);
}

#define WAIT "[--wait [--timeout SECONDS]] [--json]"
static const dev_verb verbs[] = {
    {"nic-list", "NAME-or-ID", "[--json]", "nics", "", BIT(O_JSON), false, run_list},
    {"nic-add", "NAME-or-ID", "[--network NET|--profile PROFILE-ID|--bridge BRIDGE] [--model virtio|e1000|rtl8139] " WAIT, "nics", "n", VR_JOB_OPTS,
     true, run_add},
    {"nic-update", "NAME-or-ID MAC", "[--linked on|off] [--profile PROFILE] " WAIT, "nics", "u", VR_JOB_OPTS, true,
     run_nic_update},
    {"nic-remove", "NAME-or-ID MAC", WAIT, "nics", "", VR_JOB_OPTS, false, run_child},
    {"disk-list", "NAME-or-ID", "[--json]", "disks", "", BIT(O_JSON), false, run_list},
    {"disk-add", "NAME-or-ID",
     "--path PATH|--disk DISK-ID [--interface I] [--format raw|qcow2] [--bus virtio|virtio-scsi|sata|ide] [--device disk|cdrom]\n"
     "           [--cache MODE] [--io threads|native] [--serial SERIAL] [--target TARGET] [--readonly]\n"
     "           [I/O limits] " WAIT,
     "disks", "dt", VR_JOB_OPTS, true, run_add},
    {"disk-remove", "NAME-or-ID TARGET", WAIT, "disks", "", VR_JOB_OPTS, false, run_child},
    {"disk-iotune", "NAME-or-ID TARGET", "I/O limits... " WAIT, "disks", "t", VR_JOB_OPTS, true, run_child},
    {"set-vcpus", "NAME-or-ID N", WAIT, NULL, "", VR_JOB_OPTS, true, run_set_vcpus},
    {"balloon", "NAME-or-ID MIB", WAIT, NULL, "", VR_JOB_OPTS, true, run_balloon},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void verb_usage(FILE *f, const dev_verb *v, const char *lead)
{
    fprintf(f, "%svireo vm %s %s %s\n", lead, v->verb, v->operands, v->synopsis);
}

static void limits_usage(FILE *f)
{
    fprintf(f, "I/O limits (0: none): --total-bytes-sec N --read-bytes-sec N --write-bytes-sec N\n"
               "                      --total-iops-sec N --read-iops-sec N --write-iops-sec N\n");
}

void vr_vm_devices_usage(FILE *f)
{
    for (size_t i = 0; i < NVERBS; i++)
        verb_usage(f, &verbs[i], "       ");
    limits_usage(f);
}

/* The option of that name in one of groups, else any of that name. */
static const dev_opt *find_opt(const char *name, const char *groups)
{
    const dev_opt *any = NULL;
    for (size_t i = 0; i < NDEV_OPTS; i++)
        if (!strcmp(dev_opts[i].opt, name)) {
            if (strchr(groups, dev_opts[i].group))
                return &dev_opts[i];
            any = any ? any : &dev_opts[i];
        }
    return any;
}

/* The request body from the options and operands; checks that need no
 * server. Returns 0 (*out NULL when the verb sends none) or 2. */
static int build_body(const dev_verb *v, const args *a, json_t **out)
{
    json_t *body = json_object(), *iotune = json_object();
    int rc = 0;
    long n;
    for (int i = 0; i < a->nx && !rc; i++) {
        const dev_opt *o = find_opt(a->xopt[i], v->groups);
        json_t *val = NULL;
        if (!o || !strchr(v->groups, o->group)) {
            fprintf(stderr, "vireo: --%s does not apply to 'vm %s'\n", a->xopt[i], v->verb);
            rc = 2;
        } else if (o->type == 'f') {
            val = json_true();
        } else if (o->type == 'o') {
            if (!strcmp(a->xval[i], "on") || !strcmp(a->xval[i], "off"))
                val = json_boolean(!strcmp(a->xval[i], "on"));
            else
                rc = vr_bad_value(o->opt, a->xval[i]);
        } else if (o->type == 'i' && !vr_parse_long(a->xval[i], 0, LONG_MAX, &n)) {
            rc = vr_bad_value(o->opt, a->xval[i]);
        } else {
            val = o->type == 'i' ? json_integer(n) : json_string(a->xval[i]);
            if (!val) /* jansson refuses strings that are not UTF-8 */
                rc = vr_bad_value(o->opt, a->xval[i]);
        }
        if (val)
            json_object_set_new(o->group == 't' ? iotune : body, o->member, val);
    }
    const char *vn = v->verb;
    bool vcpus = !strcmp(vn, "set-vcpus");
    if (!rc && !strcmp(vn, "disk-add") && !json_object_get(body, "path") && !json_object_get(body, "disk")) {
        fprintf(stderr, "vireo: vm disk-add needs --path PATH or --disk DISK-ID\n");
        rc = 2;
    } else if (!rc && !strcmp(vn, "nic-update") && !json_object_size(body)) {
        fprintf(stderr, "vireo: vm nic-update needs --linked on|off or --profile PROFILE\n");
        rc = 2;
    } else if (!rc && !strcmp(vn, "disk-iotune") && !json_object_size(iotune)) {
        fprintf(stderr, "vireo: vm disk-iotune needs an I/O limit (--total-bytes-sec N, ...; 0 removes one)\n");
        rc = 2;
    } else if (!rc && (vcpus || !strcmp(vn, "balloon"))) {
        /* The engine checks the VM's limits; here only the syntax. */
        if (!vr_parse_long(a->pos[1], 1, INT_MAX, &n)) {
            fprintf(stderr, "vireo: %s is not a positive integer: '%s'\n", vcpus ? "N" : "MIB", a->pos[1]);
            rc = 2;
        } else {
            json_object_set_new(body, vcpus ? "vcpus" : "memory_mib", json_integer(n));
        }
    }
    if (!rc && json_object_size(iotune))
        json_object_set(body, "iotune", iotune);
    json_decref(iotune);
    /* Lists and removals send no body; the rest send one, if only "{}". */
    if (rc || !v->sends_body) {
        json_decref(body);
        body = NULL;
    }
    *out = body;
    return rc;
}

int vr_vm_devices_cmd(const kind *vm, int argc, char **argv)
{
    const dev_verb *v = NULL;
    for (size_t i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[1], verbs[i].verb))
            v = &verbs[i];
    if (!v)
        return -1;
    vr_xopt xo[NDEV_OPTS];
    for (size_t i = 0; i < NDEV_OPTS; i++)
        xo[i] = (vr_xopt){dev_opts[i].opt, dev_opts[i].type == 'f'};
    args a;
    json_t *body = NULL;
    int rc = vr_parse_args(argc, argv, 2, v->allowed | BIT(O_EXTRA), xo, NDEV_OPTS, v->operands, &a);
    if (rc == 0)
        rc = build_body(v, &a, &body);
    if (rc) {
        FILE *f = rc < 0 ? stdout : stderr;
        verb_usage(f, v, "usage: ");
        if (strchr(v->groups, 't'))
            limits_usage(f);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    char *id = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = vr_resolve(&s, vm, a.pos[0], &id)) == 0)
        rc = v->run(&s, v, &a, id, body);
    vr_session_clear(&s); /* zeroed by a load that failed */
    json_decref(body);
    free(id);
    return rc;
}
