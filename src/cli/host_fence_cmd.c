/* vireo host fence: POST /api/hosts/ID/fence {fence_type}, a job run by a
 * proxy host's fence agents; --wait follows it and then shows the host
 * (the job's detail says the power state: `vireo job show ID`). */
#include "host_fence_cmd.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"
#include "jsonx.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo host fence NAME-or-ID status|start|stop|restart|soft [--wait [--timeout SECONDS]]"
               " [--json]\n"
               "  through the host's power management, run by another up host of its cluster or data center;\n"
               "  soft: its agent restarted over SSH (the host's soft fencing on)\n");
}

int vr_host_fence_cmd(int argc, char **argv)
{
    static const char *const types[] = {"status", "start", "stop", "restart", "soft"};
    args a;
    int rc = vr_parse_args(argc, argv, 2, VR_JOB_OPTS, NULL, 0, "NAME-or-ID TYPE", &a);
    if (rc == 0 && !vr_str_in(a.pos[1], VR_NAMES(types))) {
        fprintf(stderr, "vireo: unknown fence type '%s'\n", a.pos[1]);
        rc = 2;
    }
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : rc;
    }
    json_t *body = json_pack("{s:s}", "fence_type", a.pos[1]);
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = vr_entity_change(&s, vr_kind_find("host"), a.pos[0], "POST", "fence", body, &a);
    vr_session_clear(&s);
    json_decref(body);
    return rc;
}
