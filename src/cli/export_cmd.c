/* vireo vm|template export, vireo sd vms|templates, vireo sd
 * import-vm|import-template: VMs and templates on export domains (docs/cli.md
 * "Export and import", docs/rest-api.md "Export and import"); vireo sd
 * vms|templates --unregistered, vireo sd register-vm|register-template: those
 * in an imported data domain's OVF store (docs/rest-api.md "Unregistered VMs
 * and templates"). */
#include "export_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"
#include "table.h"

/* Storage domains, for name lookup and paths (as storage_cmd.c's). */
static const kind sd_kind = {"sd", "storagedomains", NULL, 0, NULL, VR_NO_NAMES, true, false, NULL, NULL, NULL};
static const kind tmpl_kind = {"template", "templates", NULL, 0, NULL, VR_NO_NAMES, true, false, NULL, NULL, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo vm|template export NAME-or-ID --domain EXPORT-DOMAIN [--exclusive] [--wait [--timeout S]]\n"
               "                 [--json]\n"
               "       vireo sd vms|templates EXPORT-DOMAIN [--json] | vireo sd vms|templates DATA-DOMAIN --unregistered\n"
               "                 [--json]\n"
               "       vireo sd import-vm|import-template EXPORT-DOMAIN NAME-or-ID --cluster CLUSTER --domain DATA-DOMAIN\n"
               "                 [--clone] [--name NAME] [--wait [--timeout S]] [--json]\n"
               "       vireo sd register-vm DATA-DOMAIN VM-NAME-or-ID --cluster CLUSTER [--name NAME] [--reassign-bad-macs]\n"
               "                 [--json]\n"
               "       vireo sd register-template DATA-DOMAIN TEMPLATE-NAME-or-ID --cluster CLUSTER [--name NAME] [--json]\n"
               "  export a stopped VM (its disks collapsed, its OVF) or a template to an export domain; list the\n"
               "  VMs or templates an export domain holds (read from storage); import one into a cluster and data\n"
               "  domain (--clone: new ids and MACs); list those in a data domain's OVF store that this engine\n"
               "  does not know (an imported domain's) and register one (its disks are on the domain)\n");
}

/* The options of the verb's table as body members (a flag: true). */
static int body_of(const args *a, const char *const map[][2], size_t n, json_t *body)
{
    for (int i = 0; i < a->nx; i++)
        for (size_t k = 0; k < n; k++) {
            if (strcmp(a->xopt[i], map[k][0]))
                continue;
            json_t *v = a->xval[i] ? json_string(a->xval[i]) : json_true(); /* NULL when not UTF-8 */
            if (!v)
                return vr_bad_value(a->xopt[i], a->xval[i]);
            json_object_set_new(body, map[k][1], v);
        }
    return 0;
}

static int vm_export(int argc, char **argv, bool tmpl)
{
    static const vr_xopt xo[] = {{"domain", false}, {"exclusive", true}};
    static const char *const map[][2] = {{"domain", "storage_domain"}, {"exclusive", "exclusive"}};
    args a;
    json_t *body = json_object();
    int rc = vr_parse_args(argc, argv, 2, VR_JOB_OPTS | BIT(O_EXTRA), xo, 2, "NAME-or-ID", &a);
    if (rc == 0)
        rc = body_of(&a, map, 2, body);
    if (rc == 0 && !json_object_get(body, "storage_domain")) {
        fprintf(stderr, "vireo: %s export needs --domain EXPORT-DOMAIN\n", tmpl ? "template" : "vm");
        rc = 2;
    }
    vr_session s;
    if (rc == 0 && (rc = vr_session_load(&s, 0)) == 0) {
        rc = vr_entity_change(&s, tmpl ? &tmpl_kind : vr_kind_find("vm"), a.pos[0], "POST", "export", body, &a);
        vr_session_clear(&s);
    } else if (rc) {
        usage(rc < 0 ? stdout : stderr);
        rc = rc < 0 ? 0 : rc;
    }
    json_decref(body);
    return rc;
}

/* GET /api/storagedomains/ID/vms (tmpl: templates) into *out (the parsed
 * answer). */
static int domain_vms(const vr_session *s, const char *ref, bool unregistered, bool tmpl, char **sd_id, json_t **out)
{
    char *path = NULL, sub[48];
    snprintf(sub, sizeof(sub), "%s%s", tmpl ? "templates" : "vms", unregistered ? "?unregistered=true" : "");
    int rc = vr_resolve(s, &sd_kind, ref, sd_id);
    if (rc == 0)
        rc = (path = vr_entity_path(&sd_kind, *sd_id, sub)) ? 0 : 3;
    vr_response r = {0};
    if (rc == 0)
        rc = vr_http(s, "GET", path, NULL, 0, &r);
    if (rc == 0)
        *out = json_incref(r.json);
    vr_response_free(&r);
    free(path);
    return rc;
}

static int sd_vms(int argc, char **argv, bool tmpl)
{
    static const vr_xopt xo[] = {{"unregistered", true}};
    args a;
    int rc = vr_parse_args(argc, argv, 2, BIT(O_JSON) | BIT(O_EXTRA), xo, 1, "DOMAIN", &a);
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    char *sd = NULL;
    json_t *out = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = domain_vms(&s, a.pos[0], a.nx > 0, tmpl, &sd, &out);
    if (rc == 0 && a.json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (rc == 0) {
        static const vr_column cols[] = {{"ID", "id", 0}, {"NAME", "name", 0}, {"MEMORY_MIB", "memory_mib", 0},
                                         {"VCPUS", "vcpus", 0}, {"ERROR", "error", 0}};
        vr_table_print(stdout, cols, sizeof(cols) / sizeof(cols[0]), json_object_get(out, tmpl ? "templates" : "vms"));
    }
    json_decref(out);
    free(sd);
    vr_session_clear(&s);
    return rc;
}

/* The id of the VM named ref (its id or its name) on the export domain. */
static int vm_on_domain(json_t *vms, const char *ref, const char **id)
{
    json_t *v;
    size_t i;
    int n = 0;
    json_array_foreach(vms, i, v) {
        const char *vid = json_string_value(json_object_get(v, "id")) ?: "";
        const char *name = json_string_value(json_object_get(v, "name")) ?: "";
        if (!strcmp(vid, ref)) {
            *id = vid;
            return 0;
        }
        if (!strcmp(name, ref)) {
            *id = vid;
            n++;
        }
    }
    if (n == 1)
        return 0;
    fprintf(stderr, "vireo: %s VM or template named '%s' on the storage domain%s\n", n ? "more than one" : "no", ref,
            n ? ": give its id" : "");
    return 1;
}

/* sd import-vm (an export domain's VM, a job) or sd register-vm (a VM of
 * a data domain's OVF store, made at once); tmpl: of a template. */
static int sd_import(int argc, char **argv, bool reg, bool tmpl)
{
    static const vr_xopt xo[] = {{"cluster", false}, {"domain", false}, {"clone", true}};
    static const char *const map[][2] = {{"cluster", "cluster"}, {"domain", "storage_domain"}, {"clone", "clone"}};
    static const vr_xopt rxo[] = {{"cluster", false}, {"reassign-bad-macs", true}};
    static const char *const rmap[][2] = {{"cluster", "cluster"}, {"reassign-bad-macs", "reassign_bad_macs"}};
    args a;
    json_t *body = json_object(), *vms = NULL;
    int rc = vr_parse_args(argc, argv, 2, (reg ? BIT(O_JSON) : VR_JOB_OPTS) | BIT(O_NAME) | BIT(O_EXTRA),
                           reg ? rxo : xo, reg ? (tmpl ? 1 : 2) : 3, reg ? "DATA-DOMAIN NAME-or-ID"
                           : "EXPORT-DOMAIN NAME-or-ID", &a);
    if (rc == 0)
        rc = reg ? body_of(&a, rmap, tmpl ? 1 : 2, body) : body_of(&a, map, 3, body);
    if (rc == 0 && a.name && json_object_set_new(body, "name", json_string(a.name)) < 0)
        rc = vr_bad_value("name", a.name);
    if (rc == 0 && (!json_object_get(body, "cluster") || (!reg && !json_object_get(body, "storage_domain")))) {
        fprintf(stderr, reg ? "vireo: sd %s needs --cluster CLUSTER\n"
                            : "vireo: sd %s needs --cluster CLUSTER and --domain DATA-DOMAIN\n", argv[1]);
        rc = 2;
    }
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        json_decref(body);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    char *sd = NULL, *sub = NULL;
    const char *vm = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = domain_vms(&s, a.pos[0], reg, tmpl, &sd, &vms);
    if (rc == 0)
        rc = vm_on_domain(json_object_get(vms, tmpl ? "templates" : "vms"), a.pos[1], &vm);
    if (rc == 0) {
        size_t len = strlen(vm) + 24;
        sub = malloc(len);
        if (!sub)
            rc = 3;
        else
            snprintf(sub, len, "%s/%s/%s", tmpl ? "templates" : "vms", vm, reg ? "register" : "import");
    }
    if (rc == 0)
        rc = vr_entity_make(&s, &sd_kind, sd, sub, body, tmpl ? &tmpl_kind : vr_kind_find("vm"), &a);
    free(sub);
    free(sd);
    json_decref(vms);
    json_decref(body);
    vr_session_clear(&s);
    return rc;
}

int vr_export_cmd(int argc, char **argv)
{
    if (argc < 2)
        return -1;
    bool sd = !strcmp(argv[0], "sd") || !strcmp(argv[0], "storagedomain");
    bool tmpl = !strcmp(argv[0], "template");
    if ((tmpl || !strcmp(argv[0], "vm")) && !strcmp(argv[1], "export"))
        return vm_export(argc, argv, tmpl);
    if (sd && (!strcmp(argv[1], "vms") || !strcmp(argv[1], "templates")))
        return sd_vms(argc, argv, !strcmp(argv[1], "templates"));
    if (sd && (!strcmp(argv[1], "import-vm") || !strcmp(argv[1], "import-template")))
        return sd_import(argc, argv, false, !strcmp(argv[1], "import-template"));
    if (sd && (!strcmp(argv[1], "register-vm") || !strcmp(argv[1], "register-template")))
        return sd_import(argc, argv, true, !strcmp(argv[1], "register-template"));
    return -1;
}
