/* vireo vm placement: where the scheduler would put a VM now and why -
 * each host of its cluster with the filter that removed it or its rank and
 * weights. Books nothing. */
#include "vm_placement_cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engine_cmd.h"
#include "table.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo vm placement NAME-or-ID [--host HOST] [--json]\n"
               "  each host of the VM's cluster: the filter that removed it and why, or its rank and weights;\n"
               "  the host the scheduler would choose now (nothing is booked); --host: that host's verdict\n"
               "  alone, as a migration (or a start) to it would be judged\n");
}

/* The human form: the choice, then a table of the hosts. */
static void print(json_t *o)
{
    char *why = vr_text_clean(json_string_value(json_object_get(o, "reason")) ?: "");
    char *host = vr_cell(json_object_get(o, "host"), VR_FMT_PLAIN);
    char *as = vr_cell(json_object_get(o, "as"), VR_FMT_PLAIN);
    printf("as a %s: %s\n%s\n\n", as, host, why);
    free(why);
    free(host);
    free(as);
    json_t *rows = json_object_get(o, "hosts"), *r;
    size_t i;
    json_array_foreach(rows, i, r) {
        json_t *w = json_object_get(r, "weights");
        if (w) /* a compact weights cell */
            json_object_set_new(r, "reason", json_sprintf("affinity %d, HA reservation %d, OS upgrade %d, cpu %.0f%%"
                                                          " (step %d), free %lld MiB",
                                                          (int)json_integer_value(json_object_get(w, "affinity_penalty")),
                                                          (int)json_integer_value(json_object_get(w, "ha_penalty")),
                                                          (int)json_integer_value(json_object_get(w, "upgrade_penalty")),
                                                          json_number_value(json_object_get(w, "cpu_percent")),
                                                          (int)json_integer_value(json_object_get(w, "cpu_bucket")),
                                                          (long long)json_integer_value(json_object_get(w, "free_mib"))));
    }
    static const vr_column cols[] = {{"HOST", "name", 0}, {"RANK", "rank", 0}, {"FILTER", "filter", 0},
                                     {"WHY / WEIGHTS", "reason", 0}};
    vr_table_print(stdout, cols, sizeof(cols) / sizeof(cols[0]), rows);
}

int vr_vm_placement_cmd(int argc, char **argv)
{
    static const vr_xopt xo[] = {{"host", false}};
    args a;
    int rc = vr_parse_args(argc, argv, 2, BIT(O_JSON) | BIT(O_EXTRA), xo, 1, "NAME-or-ID", &a);
    const char *host = NULL;
    for (int i = 0; rc == 0 && i < a.nx; i++)
        host = a.xval[i]; /* the last --host wins */
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    char *id = NULL, *path = NULL, *full = NULL, *esc = NULL;
    const kind *vm = vr_kind_find("vm");
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = vr_resolve(&s, vm, a.pos[0], &id)) == 0)
        rc = (path = vr_entity_path(vm, id, "placement")) ? 0 : 3;
    /* The engine resolves the host (id or name) and says when it is unknown. */
    if (rc == 0 && host && (!(esc = vr_http_escape(host)) || asprintf(&full, "%s?host=%s", path, esc) < 0)) {
        full = NULL;
        rc = 3;
    }
    if (rc == 0) {
        vr_response r;
        rc = vr_http(&s, "GET", full ? full : path, NULL, 0, &r);
        if (rc == 0 && a.json)
            vr_print_entity(&r, true);
        else if (rc == 0)
            print(r.json);
        vr_response_free(&r);
    }
    free(full);
    free(esc);
    free(path);
    free(id);
    vr_session_clear(&s);
    return rc;
}
