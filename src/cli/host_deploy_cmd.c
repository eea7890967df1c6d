#include "host_deploy_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonx.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo host remove NAME-or-ID [--clean [--force]] [--wait [--timeout SECONDS]] [--json]\n"
               "  a host in maintenance; --clean first stops and purges vireo-agent on the host over SSH with the\n"
               "  engine's key and removes its key, certificate and configuration (a job; libvirt and QEMU stay);\n"
               "  --force removes the host even when cleaning it fails\n");
}

int vr_host_remove_cmd(int argc, char **argv)
{
    static const vr_xopt xo[] = {{"clean", true}, {"force", true}};
    args a;
    int rc = vr_parse_args(argc, argv, 2, VR_JOB_OPTS | BIT(O_EXTRA), xo, 2, "NAME-or-ID", &a);
    bool clean = false, force = false;
    for (int i = 0; rc == 0 && i < a.nx; i++) {
        clean |= !strcmp(a.xopt[i], "clean");
        force |= !strcmp(a.xopt[i], "force");
    }
    if (rc == 0 && force && !clean) {
        fprintf(stderr, "vireo: --force goes with --clean\n");
        rc = 2;
    }
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : rc;
    }
    const kind *k = vr_kind_find("host");
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) != 0)
        return rc;
    char *id = NULL, *path = NULL, *full = NULL;
    vr_response r = {0};
    bool waited = false;
    if ((rc = vr_resolve(&s, k, a.pos[0], &id)) == 0) {
        path = vr_entity_path(k, id, NULL);
        if (!path || asprintf(&full, "%s%s", path, clean ? force ? "?clean=true&force=true" : "?clean=true" : "") < 0)
            full = NULL;
        rc = full ? vr_http(&s, "DELETE", full, NULL, 0, &r) : 3;
    }
    if (rc == 0)
        rc = vr_job_answer(&s, &r, &a, &waited);
    if (rc == 0 && waited)
        printf("host %s removed\n", a.pos[0]);
    vr_response_free(&r);
    free(full);
    free(path);
    free(id);
    vr_session_clear(&s);
    return rc;
}

int vr_host_create_wait(const vr_session *s, const vr_response *r, const args *a)
{
    const kind *k = vr_kind_find("host");
    const char *job = json_string_value(json_object_get(json_object_get(r->json, "job"), "id"));
    const char *hid = json_string_value(json_object_get(r->json, "id"));
    char *path = hid ? vr_entity_path(k, hid, NULL) : NULL;
    if (!job || !path) {
        free(path);
        vr_print_entity(r, a->json);
        return 0;
    }
    time_t end = time(NULL) + a->timeout;
    int rc = vr_job_wait(s, job, a->timeout);
    /* Installed: the host is initializing until its monitor's first
     * contact with the agent; wait for what comes after. */
    struct timespec pause = {0, 250 * 1000 * 1000};
    vr_response h = {0};
    for (;;) {
        vr_response_free(&h);
        if (vr_http(s, "GET", path, NULL, 0, &h) != 0) {
            rc = 3;
            break;
        }
        const char *st = json_string_value(json_object_get(h.json, "status")) ?: "";
        if (rc != 0 || (strcmp(st, "installing") && strcmp(st, "initializing"))) {
            vr_print_entity(&h, a->json);
            rc = rc ? rc : !strcmp(st, "installfailed");
            break;
        }
        if (time(NULL) > end) {
            fprintf(stderr, "vireo: host still %s after %ld s ('vireo host show %s' follows it)\n", st, a->timeout,
                    hid);
            rc = 1;
            break;
        }
        nanosleep(&pause, NULL);
    }
    vr_response_free(&h);
    free(path);
    return rc;
}
