/* The engine's REST dispatcher (src/engine/api/dispatch.c and the kinds)
 * end to end over a real SQLite database: URL paths (nested collections,
 * ids, actions, depth), methods and request bodies. Input: a method byte,
 * then the path up to the first newline, then the body.
 *
 * Properties: every request gets an answer with a status from 200 to 599;
 * an error answer has a JSON fault with a non-empty, valid UTF-8 detail; a
 * success that carries a body carries a JSON value. Requests that would
 * reach hosts (adding hosts starts monitors, VM starts spawn jobs) are
 * left out: they need agents, which the integration tests have. */
#include <stdbool.h>
#include <unistd.h>

#include "api.h"
#include "fuzz.h"
#include "hostview.h"
#include "kind.h"

static vr_engine engine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char path[] = "/tmp/vireo-fuzz-api-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    unlink(path);
    vr_error err = {0};
    if (vr_db_open(path, &engine.db, &err) < 0 || vr_hostview_new(engine.db, &engine.view, &err) < 0) {
        fprintf(stderr, "fuzz_engine_api: %s\n", err.message);
        abort();
    }
    pthread_mutex_init(&engine.sched_lock, NULL);
    engine.agent_timeout_s = 1;
    engine.mac_first = 0x566f00000000ULL; /* the engine's default pool */
    engine.mac_last = 0x566fffffffffULL;
    engine.poll_ms = 1000;
    /* Something to find: a data center, a cluster, a VM with a NIC and a disk. */
    vr_db_exec(engine.db, "INSERT INTO datacenters (id, name, description, created_at) VALUES"
               " ('00000000-0000-4000-8000-000000000001', 'dc1', '', 1)", DB_NOARGS, NULL);
    vr_db_exec(engine.db, "INSERT INTO clusters (id, name, description, datacenter_id, created_at) VALUES"
               " ('00000000-0000-4000-8000-000000000002', 'cl1', '', '00000000-0000-4000-8000-000000000001', 1)",
               DB_NOARGS, NULL);
    vr_db_exec(engine.db, "INSERT INTO vms (id, name, description, cluster_id, status, memory_mib, vcpus, spec_json,"
               " created_at) VALUES ('00000000-0000-4000-8000-000000000003', 'vm1', '',"
               " '00000000-0000-4000-8000-000000000002', 'down', 64, 1, '{\"disks\":[{\"path\":\"/d.img\"}],"
               "\"nics\":[{\"mac\":\"56:6f:00:00:00:01\"}]}', 1)", DB_NOARGS, NULL);
    return 0;
}

/* Would this request reach an agent or start a thread? */
static bool needs_hosts(const char *method, const char *path)
{
    size_t n = strlen(path);
    if (strcmp(method, "POST"))
        return false;
    return strstr(path, "/hosts") || (n >= 6 && !strcmp(path + n - 6, "/start"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    if (size < 2)
        return 0;
    const char *method = methods[data[0] % 5];
    const char *nl = memchr(data + 1, '\n', size - 1);
    size_t plen = nl ? (size_t)(nl - (const char *)data - 1) : size - 1;
    char *path = strndup((const char *)data + 1, plen);
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? size - plen - 2 : 0;
    char *bodyz = strndup(body, blen);
    if (!path || !bodyz || strlen(path) != plen || needs_hosts(method, path) || strncmp(path, "/api", 4)) {
        free(path);
        free(bodyz);
        return 0;
    }
    vr_http_req req = {.method = method, .path = path, .body = bodyz, .body_len = strlen(bodyz)};
    snprintf(req.user, sizeof(req.user), "admin@internal");
    vr_http_resp resp = {0};
    vr_dispatch(&engine, &req, &resp);
    FUZZ_ASSERT(resp.status >= 200 && resp.status <= 599);
    if (resp.status >= 400) {
        json_t *fault = json_object_get(resp.body, "fault");
        const char *detail = json_string_value(json_object_get(fault, "detail"));
        FUZZ_ASSERT(detail && *detail && vr_utf8_valid(detail, strlen(detail)));
    } else if (resp.status != 204) {
        FUZZ_ASSERT(resp.body != NULL);
        char *text = json_dumps(resp.body, JSON_COMPACT);
        FUZZ_ASSERT(text != NULL); /* it can be sent */
        free(text);
    }
    json_decref(resp.body);
    free(path);
    free(bodyz);
    return 0;
}
