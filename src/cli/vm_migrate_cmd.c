/* vireo vm migrate: POST /api/vms/ID/migrate {host?, bandwidth_mibps?},
 * a job; --wait follows it and then shows the VM (on its new host). A
 * migration is cancelled like any job: `vireo job cancel ID`. */
#include "vm_migrate_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo vm migrate NAME-or-ID [--host HOST] [--bandwidth-mibps N] [--wait [--timeout SECONDS]]"
               " [--json]\n"
               "  --host HOST        destination host (name or id) in the VM's cluster; default: the scheduler picks\n"
               "  --bandwidth-mibps  bandwidth cap of this migration (default 52 MiB/s)\n"
               "cancel with 'vireo job cancel JOB-ID'\n");
}

int vr_vm_migrate_cmd(int argc, char **argv)
{
    static const vr_xopt xo[] = {{"host", false}, {"bandwidth-mibps", false}};
    args a;
    int rc = vr_parse_args(argc, argv, 2, VR_JOB_OPTS | BIT(O_EXTRA), xo, 2, "NAME-or-ID", &a);
    json_t *body = json_object();
    for (int i = 0; rc == 0 && i < a.nx; i++) {
        long n;
        if (!strcmp(a.xopt[i], "host")) {
            json_t *v = json_string(a.xval[i]); /* NULL when not UTF-8 */
            if (!v)
                rc = vr_bad_value("host", a.xval[i]);
            json_object_set_new(body, "host", v);
        } else if (!vr_parse_long(a.xval[i], 1, 100000, &n)) {
            rc = vr_bad_value("bandwidth-mibps", a.xval[i]);
        } else {
            json_object_set_new(body, "bandwidth_mibps", json_integer(n));
        }
    }
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        json_decref(body);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = vr_entity_change(&s, vr_kind_find("vm"), a.pos[0], "POST", "migrate", body, &a);
    vr_session_clear(&s);
    json_decref(body);
    return rc;
}
