/* Network state and rollback (netstate.h). Two locks: setup_mu serializes
 * whole changes of the host's devices (setups, confirmations, rollbacks),
 * mu guards the fields other threads read (VM NIC lookups, getNetworks)
 * and is held only for copies. Order: setup_mu before mu. */
#include "netstate.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "dominfo.h"
#include "log.h"
#include "netapply.h"
#include "netconf.h"
#include "nicqos.h"
#include "vmnic.h"
#include "netview.h"

static struct {
    pthread_mutex_t setup_mu, mu;
    pthread_cond_t cv;
    json_t *running, *good, *rollback, *nic_saved, *known;
    long long deadline; /* unix s; 0 = nothing pending */
    int timeout_s;
    bool started, stopping;
    pthread_t timer;
    char path[512];
    vr_agent *agent;
} st = {.setup_mu = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER};

static void hostname(char *out, size_t n)
{
    if (gethostname(out, n - 1) < 0)
        snprintf(out, n, "?");
    out[n - 1] = '\0';
}

static void ensure_init(void)
{
    if (!st.running) {
        st.running = json_object();
        st.good = json_object();
        st.nic_saved = json_object();
        st.known = json_array();
    }
}

/* Write the last good configuration, the NICs' own addresses and the
 * bridges the agent may own: temp file, fsync, rename, fsync of the
 * directory, so a crash leaves the old file or the new one. */
static int persist(vr_error *err)
{
    if (!st.path[0])
        return 0;
    char dir[512], tmp[600];
    snprintf(dir, sizeof(dir), "%s", st.path);
    snprintf(dir, sizeof(dir), "%s", dirname(dir));
    mkdir(dir, 0755);
    snprintf(tmp, sizeof(tmp), "%s.tmp", st.path);
    json_t *doc = json_pack("{s:O, s:O, s:O}", "networks", st.good, "nic_addresses",
                            st.nic_saved, "bridges", st.known);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -1 : json_dumpfd(doc, fd, JSON_SORT_KEYS | JSON_INDENT(1));
    if (rc == 0 && fsync(fd) < 0)
        rc = -1;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    json_decref(doc);
    if (rc == 0 && rename(tmp, st.path) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(tmp);
        return vr_error_set(err, VR_ERR_IO, "cannot write network state %s: %s", st.path,
                            strerror(saved));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void remember_bridges(json_t *cfg)
{
    const char *name;
    json_t *v;
    json_object_foreach(cfg, name, v) {
        bool have = false;
        size_t i;
        json_t *k;
        json_array_foreach(st.known, i, k) have |= !strcmp(json_string_value(k), name);
        if (!have)
            json_array_append_new(st.known, json_string(name));
    }
}

/* Make the host match cfg; caller holds setup_mu. */
static int converge(json_t *cfg, vr_error *err)
{
    vr_nl *nl;
    if (vr_nl_open(&nl, err) < 0)
        return -1;
    int rc = vr_net_converge(nl, cfg, st.known, st.nic_saved, err);
    vr_nl_close(nl);
    return rc;
}

static void set_running(json_t *cfg, long long deadline)
{
    pthread_mutex_lock(&st.mu);
    json_decref(st.running);
    st.running = json_deep_copy(cfg);
    st.deadline = deadline;
    pthread_mutex_unlock(&st.mu);
    pthread_cond_broadcast(&st.cv);
}

/* Roll back to the rollback point; caller holds setup_mu. */
static void rollback(const char *reason)
{
    vr_error e = {0};
    if (!st.rollback)
        return;
    if (converge(st.rollback, &e) < 0)
        VR_ERROR("network rollback (%s) failed: %s", reason, e.message);
    set_running(st.rollback, 0);
    json_decref(st.rollback);
    st.rollback = NULL;
    if (persist(&e) < 0)
        VR_ERROR("%s", e.message);
    VR_WARN("networks rolled back: %s", reason);
    if (st.agent && st.agent->server)
        vr_server_notify(st.agent->server, "Host.networksRolledBack",
                         json_pack("{s:s, s:o}", "reason", reason, "networks",
                                   vr_net_view(st.running)));
}

static void *timer_main(void *arg)
{
    pthread_mutex_lock(&st.mu);
    while (!st.stopping) {
        if (!st.deadline) {
            pthread_cond_wait(&st.cv, &st.mu);
            continue;
        }
        struct timespec ts = {.tv_sec = (time_t)st.deadline};
        if (pthread_cond_timedwait(&st.cv, &st.mu, &ts) != ETIMEDOUT || st.stopping)
            continue;
        pthread_mutex_unlock(&st.mu);
        pthread_mutex_lock(&st.setup_mu);
        /* Confirmed or superseded meanwhile? Then nothing to do. */
        if (st.deadline && time(NULL) >= st.deadline) {
            char why[64];
            snprintf(why, sizeof(why), "not confirmed within %d s", st.timeout_s);
            rollback(why);
        }
        pthread_mutex_unlock(&st.setup_mu);
        pthread_mutex_lock(&st.mu);
    }
    pthread_mutex_unlock(&st.mu);
    return NULL;
}

int vr_net_start(vr_agent *a, const char *path, vr_error *err)
{
    pthread_mutex_lock(&st.setup_mu);
    st.agent = a;
    snprintf(st.path, sizeof(st.path), "%s", path ? path : "");
    ensure_init();
    json_error_t je;
    json_t *doc = st.path[0] && access(st.path, F_OK) == 0 ? json_load_file(st.path, 0, &je) : NULL;
    if (st.path[0] && access(st.path, F_OK) == 0 && !doc)
        VR_ERROR("network state %s is unreadable (%s); starting with no networks", st.path, je.text);
    if (doc) {
        json_t *n = json_object_get(doc, "networks"), *s = json_object_get(doc, "nic_addresses"),
               *k = json_object_get(doc, "bridges");
        if (json_is_object(n))
            json_object_update(st.good, n);
        if (json_is_object(s))
            json_object_update(st.nic_saved, s);
        if (json_is_array(k))
            json_array_extend(st.known, k);
        json_decref(doc);
        vr_error e = {0};
        if (converge(st.good, &e) < 0)
            VR_ERROR("cannot restore the last good network configuration: %s", e.message);
        else
            VR_INFO("network configuration restored from %s (%zu networks)", st.path,
                    json_object_size(st.good));
        set_running(st.good, 0);
        if (persist(&e) < 0)
            VR_ERROR("%s", e.message);
    }
    int rc = pthread_create(&st.timer, NULL, timer_main, NULL);
    st.started = rc == 0;
    pthread_mutex_unlock(&st.setup_mu);
    if (rc)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start the network rollback thread");
    if (vr_nicqos_start(err) < 0)
        return -1;
    vr_net_nics_recover(a);
    return 0;
}

void vr_net_stop(void)
{
    vr_nicqos_stop();
    if (!st.started)
        return;
    pthread_mutex_lock(&st.mu);
    st.stopping = true;
    pthread_mutex_unlock(&st.mu);
    pthread_cond_broadcast(&st.cv);
    pthread_join(st.timer, NULL);
    st.started = false;
}

int vr_net_setup(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_netsetup s;
    pthread_mutex_lock(&st.setup_mu);
    ensure_init();
    int rc = vr_netconf_setup_parse(params, st.running,
                                    access("/sys/class/net/bonding_masters", F_OK) == 0, &s, err);
    if (rc < 0) {
        pthread_mutex_unlock(&st.setup_mu);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(s.removed, i, v) {
        char vms[256];
        vr_net_vms_on(a, json_string_value(v), vms, sizeof(vms));
        if (*vms && rc == 0)
            rc = vr_error_set(err, VR_ERR_NETWORK, "cannot remove network %s: VM %s uses it",
                              json_string_value(v), vms);
    }
    vr_nl *nl = NULL;
    if (rc == 0 && (rc = vr_nl_open(&nl, err)) == 0) {
        rc = vr_net_precheck(nl, s.target, st.known, err);
        vr_nl_close(nl);
    }
    if (rc == 0) {
        /* The rollback point of a chain of unconfirmed setups is the
         * configuration before the first of them. */
        if (!st.rollback)
            st.rollback = json_deep_copy(st.running);
        remember_bridges(s.target);
        rc = persist(err);
    }
    if (rc == 0 && converge(s.target, err) < 0) {
        vr_error e = {0};
        if (converge(st.running, &e) < 0)
            VR_ERROR("restoring the rollback point after a failed setup failed too: %s", e.message);
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof(err->message) - n, "; the previous configuration was restored");
        if (st.deadline == 0) {
            json_decref(st.rollback);
            st.rollback = NULL;
        }
        persist(&e);
        rc = -1;
    }
    if (rc == 0) {
        long long deadline = s.check ? (long long)time(NULL) + s.timeout_s : 0;
        st.timeout_s = s.timeout_s;
        if (!s.check) { /* nothing to wait for: this is the good one now */
            json_decref(st.good);
            st.good = json_deep_copy(s.target);
            json_decref(st.rollback);
            st.rollback = NULL;
        }
        set_running(s.target, deadline);
        rc = persist(err);
        VR_INFO("networks set up (%zu changed, %zu removed)%s", json_array_size(s.changed),
                json_array_size(s.removed), s.check ? "; waiting for confirmation" : "");
        *result = json_pack("{s:o, s:o}", "networks", vr_net_view(s.target), "deadline",
                            deadline ? json_integer(deadline) : json_null());
    }
    vr_netsetup_free(&s);
    pthread_mutex_unlock(&st.setup_mu);
    return rc;
}

int vr_net_confirm(vr_agent *a, json_t **result, vr_error *err)
{
    pthread_mutex_lock(&st.setup_mu);
    ensure_init();
    int rc = 0;
    if (!st.deadline) {
        rc = vr_error_set(err, VR_ERR_NETWORK, "no network setup is waiting for confirmation");
    } else {
        json_decref(st.good);
        st.good = json_deep_copy(st.running);
        json_decref(st.rollback);
        st.rollback = NULL;
        set_running(st.good, 0);
        rc = persist(err);
        if (rc == 0) {
            VR_INFO("network configuration confirmed (%zu networks)", json_object_size(st.good));
            *result = json_pack("{s:b}", "confirmed", true);
        }
    }
    pthread_mutex_unlock(&st.setup_mu);
    return rc;
}

json_t *vr_net_running(long long *deadline)
{
    pthread_mutex_lock(&st.mu);
    json_t *out = st.running ? json_deep_copy(st.running) : json_object();
    *deadline = st.deadline;
    pthread_mutex_unlock(&st.mu);
    return out;
}

int vr_net_vm_network(const char *network, int *mtu, vr_error *err)
{
    char host[64];
    hostname(host, sizeof(host));
    pthread_mutex_lock(&st.mu);
    json_t *net = st.running ? json_object_get(st.running, network) : NULL;
    bool vm = net && json_is_true(json_object_get(net, "vm"));
    if (mtu && net)
        *mtu = (int)json_integer_value(json_object_get(net, "mtu"));
    pthread_mutex_unlock(&st.mu);
    if (!net)
        return vr_error_set(err, VR_ERR_NETWORK, "host %s has no network %s", host, network);
    if (!vm)
        return vr_error_set(err, VR_ERR_NETWORK,
                            "network %s of host %s is not a VM network", network, host);
    return 0;
}

void vr_net_vms_on(vr_agent *a, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    virDomainPtr *doms = NULL;
    int nd = a && a->conn ? virConnectListAllDomains(a->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                          : -1;
    for (int i = 0; i < nd; i++) {
        xmlDocPtr doc = NULL;
        vr_error e = {0};
        if (vr_dom_doc(doms[i], &doc, &e) == 0) {
            if (vr_dom_xpath_count_v(doc, "/domain/devices/interface/source[@bridge=$v]", name) > 0) {
                size_t len = strlen(out);
                snprintf(out + len, n - len, "%s%s", len ? ", " : "", virDomainGetName(doms[i]));
            }
            xmlFreeDoc(doc);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
}
