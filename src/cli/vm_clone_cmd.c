/* vireo vm clone: POST /api/vms/ID/clone {name, snapshot?, description?},
 * a job that makes a new VM; --wait follows it and then shows the new VM. */
#include "vm_clone_cmd.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo vm clone NAME-or-ID --name NAME [--snapshot SNAPSHOT-ID] [--description TEXT]"
               " [--wait [--timeout SECONDS]] [--json]\n"
               "  a stopped VM, as it is or as it was in one of its snapshots, copied into a new independent VM\n");
}

int vr_vm_clone_cmd(int argc, char **argv)
{
    static const vr_xopt xo[] = {{"snapshot", false}, {"description", false}};
    args a;
    int rc = vr_parse_args(argc, argv, 2, VR_JOB_OPTS | BIT(O_NAME) | BIT(O_EXTRA), xo, 2, "NAME-or-ID", &a);
    json_t *body = json_object();
    if (rc == 0 && !a.name) {
        fprintf(stderr, "vireo: vm clone needs --name NAME\n");
        rc = 2;
    }
    if (rc == 0 && !(json_object_set_new(body, "name", json_string(a.name)) == 0 &&
                     json_object_get(body, "name")))
        rc = vr_bad_value("name", a.name);
    for (int i = 0; rc == 0 && i < a.nx; i++) {
        json_t *v = json_string(a.xval[i]); /* NULL when not UTF-8 */
        if (!v)
            rc = vr_bad_value(a.xopt[i], a.xval[i]);
        json_object_set_new(body, a.xopt[i], v);
    }
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        json_decref(body);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = vr_entity_make(&s, vr_kind_find("vm"), a.pos[0], "clone", body, vr_kind_find("vm"), &a);
    vr_session_clear(&s);
    json_decref(body);
    return rc;
}
