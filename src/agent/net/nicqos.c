/* NIC shaping and mirroring (nicqos.h). The watcher polls every 500 ms and
 * only while some NIC is wanted: a handful of netlink dumps, no libvirt. */
#include "nicqos.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/action.h>

#include "log.h"
#include "nl.h"
#include "trunk.h"

#define MAX_WANTED 256
#define MAX_PORTS 64

typedef struct wanted {
    char mac[18], network[16], tap[16], ifb[16];
    /* What is wanted: */
    bool mirror, has_bw[2];
    long long bw[2][VR_BW_N];
    /* What is applied on the host (ifb[0]: outbound shaping): */
    int tap_index;                /* 0 until applied */
    bool shaped_in;               /* the tap's tbf */
    char mirror_net[16];          /* the bridge whose ports mirror to us */
    int ports[MAX_PORTS], nports; /* bridge ports carrying our mirror program */
    bool dirty;                   /* wanted changed on a live NIC: reconcile */
    time_t since;
} wanted;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wanted w[MAX_WANTED];
    int n;
    bool started, stopping;
    pthread_t thread;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void vr_nicqos_want(const vr_nic *n)
{
    bool any = n->has_bw[0] || n->has_bw[1] || n->mirror;
    pthread_mutex_lock(&q.mu);
    int i = 0;
    while (i < q.n && strcmp(q.w[i].mac, n->mac))
        i++;
    /* A NIC already known keeps what is applied (its tap, ifb and mirror
     * ports), so the watcher can take off what is no longer wanted; one
     * that wants nothing is only tracked while something is applied. */
    if (i == q.n && any && q.n < MAX_WANTED) {
        memset(&q.w[q.n], 0, sizeof(q.w[q.n]));
        snprintf(q.w[q.n].mac, sizeof(q.w[q.n].mac), "%s", n->mac);
        q.w[q.n].since = time(NULL);
        q.n++;
    }
    if (i < q.n) {
        wanted *w = &q.w[i];
        snprintf(w->network, sizeof(w->network), "%s", n->network ? n->network : "");
        w->mirror = n->mirror;
        memcpy(w->has_bw, n->has_bw, sizeof(w->has_bw));
        memcpy(w->bw, n->bw, sizeof(w->bw));
        w->dirty = true;
    }
    pthread_mutex_unlock(&q.mu);
    pthread_cond_broadcast(&q.cv);
}

static int clamp_int(long long v)
{
    return v > INT_MAX ? INT_MAX : (int)v;
}

/* A tbf root qdisc on dev from one direction's average/peak/burst. */
static int shape(struct nl_sock *sk, int ifindex, const long long bw[VR_BW_N], const char *dev,
                 vr_error *err)
{
    int rate = clamp_int(bw[VR_BW_AVERAGE] * 1024);
    int bucket = bw[VR_BW_BURST] ? clamp_int(bw[VR_BW_BURST] * 1024) : rate / 4;
    if (bucket < 16384)
        bucket = 16384; /* at least a few full frames, or big ones never pass */
    struct rtnl_qdisc *qd = rtnl_qdisc_alloc();
    if (!qd)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory shaping %s", dev);
    rtnl_tc_set_ifindex(TC_CAST(qd), ifindex);
    rtnl_tc_set_parent(TC_CAST(qd), TC_H_ROOT);
    rtnl_tc_set_handle(TC_CAST(qd), TC_HANDLE(1, 0));
    int rc = rtnl_tc_set_kind(TC_CAST(qd), "tbf");
    if (rc == 0) {
        rtnl_qdisc_tbf_set_rate(qd, rate, bucket, 0);
        if (bw[VR_BW_PEAK] > bw[VR_BW_AVERAGE])
            rtnl_qdisc_tbf_set_peakrate(qd, clamp_int(bw[VR_BW_PEAK] * 1024), 65536, 0);
        rc = rtnl_qdisc_tbf_set_limit_by_latency(qd, 100000); /* 100 ms of queue */
    }
    if (rc == 0)
        rc = rtnl_qdisc_add(sk, qd, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_qdisc_put(qd);
    return rc < 0 ? vr_error_set(err, VR_ERR_NETWORK, "cannot shape %s: %s", dev, nl_geterror(rc)) : 0;
}

/* Outbound: the tap's ingress goes through ifb vrq-<tap>, shaped there. */
static int shape_outbound(vr_nl *nl, struct nl_sock *sk, wanted *w, int tap_index, vr_error *err)
{
    char name[16];
    snprintf(name, sizeof(name), "vrq-%.11s", w->tap);
    memcpy(w->ifb, name, sizeof(name));
    if (!if_nametoindex(w->ifb)) {
        struct rtnl_link *l = rtnl_link_alloc();
        int rc = l ? 0 : -NLE_NOMEM;
        if (rc == 0) {
            rtnl_link_set_name(l, w->ifb);
            rc = rtnl_link_set_type(l, "ifb");
        }
        if (rc == 0)
            rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(l);
        if (rc < 0)
            return vr_error_set(err, VR_ERR_NETWORK, "cannot create %s for NIC %s: %s", w->ifb,
                                w->mac, nl_geterror(rc));
    }
    int ifb = (int)if_nametoindex(w->ifb);
    if (vr_nl_link_set(nl, w->ifb, 0, NULL, true, err) < 0 || shape(sk, ifb, w->bw[1], w->ifb, err) < 0)
        return -1;
    /* clsact (not ingress): the mirror programs share the hook */
    if (vr_trunk_clsact(nl, w->tap, err) < 0)
        return -1;
    struct rtnl_cls *c = rtnl_cls_alloc();
    struct rtnl_act *act = rtnl_act_alloc();
    int rc = c && act ? 0 : -NLE_NOMEM;
    if (rc == 0) {
        rtnl_tc_set_ifindex(TC_CAST(c), tap_index);
        rtnl_tc_set_parent(TC_CAST(c), TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
        rtnl_cls_set_prio(c, 2);
        rtnl_cls_set_protocol(c, ETH_P_ALL);
        rc = rtnl_tc_set_kind(TC_CAST(c), "u32");
    }
    if (rc == 0)
        rc = rtnl_u32_add_key_uint32(c, 0, 0, 0, 0); /* every frame */
    if (rc == 0) /* without it a matching node runs no action */
        rc = rtnl_u32_set_cls_terminal(c);
    if (rc == 0)
        rc = rtnl_tc_set_kind(TC_CAST(act), "mirred");
    if (rc == 0) {
        rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
        rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
        rtnl_mirred_set_ifindex(act, (uint32_t)ifb);
        rc = rtnl_u32_add_action(c, act);
    }
    if (rc == 0)
        rc = rtnl_cls_add(sk, c, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_act_put(act);
    rtnl_cls_put(c);
    return rc < 0 ? vr_error_set(err, VR_ERR_NETWORK, "cannot redirect %s to %s: %s", w->tap, w->ifb,
                                 nl_geterror(rc))
                  : 0;
}

/* Mirror: every port of the network's bridge but the tap itself copies
 * what enters it to the tap; called each round, so new ports join. */
static void mirror_ports(vr_nl *nl, wanted *w)
{
    const vr_nl_link *br = vr_nl_link_get(nl, w->network), *links;
    int n = vr_nl_links(nl, &links);
    memcpy(w->mirror_net, w->network, sizeof(w->mirror_net));
    for (int i = 0; br && i < n; i++) {
        const vr_nl_link *l = &links[i];
        bool done = false;
        for (int k = 0; k < w->nports; k++)
            done |= w->ports[k] == l->index;
        if (l->master != br->index || l->index == w->tap_index || done || w->nports >= MAX_PORTS)
            continue;
        vr_error e = {0};
        if (vr_trunk_mirror(nl, l->name, w->tap_index, &e) < 0)
            VR_WARN("NIC %s: %s", w->mac, e.message);
        else
            VR_INFO("NIC %s: mirrors port %s of network %s", w->mac, l->name, w->network);
        w->ports[w->nports++] = l->index;
    }
}

/* Take the mirror programs off the ports that carry ours. */
static void unmirror(vr_nl *nl, wanted *w)
{
    vr_error e = {0};
    for (int k = 0; k < w->nports; k++) {
        const char *port = vr_nl_link_name(nl, w->ports[k]);
        if (*port && vr_trunk_detach(nl, port, 1, &e) < 0)
            VR_WARN("NIC %s: %s", w->mac, e.message);
    }
    if (w->nports)
        VR_INFO("NIC %s: no longer mirrors network %s", w->mac, w->mirror_net);
    w->nports = 0;
    w->mirror_net[0] = '\0';
}

/* Take off what a live NIC no longer wants (VM.updateNic): the tap's tbf,
 * the redirect to its ifb and the ifb, the mirror programs. */
static void unapply(vr_nl *nl, struct nl_sock *sk, wanted *w)
{
    vr_error e = {0};
    if (w->shaped_in && !w->has_bw[0]) {
        struct rtnl_qdisc *qd = rtnl_qdisc_alloc();
        int rc = qd ? 0 : -NLE_NOMEM;
        if (rc == 0) {
            rtnl_tc_set_ifindex(TC_CAST(qd), w->tap_index);
            rtnl_tc_set_parent(TC_CAST(qd), TC_H_ROOT);
            rc = rtnl_qdisc_delete(sk, qd);
        }
        rtnl_qdisc_put(qd);
        if (rc < 0 && rc != -NLE_OBJ_NOTFOUND)
            VR_WARN("NIC %s: cannot remove the shaping of %s: %s", w->mac, w->tap, nl_geterror(rc));
        else
            VR_INFO("NIC %s: inbound shaping removed from %s", w->mac, w->tap);
        w->shaped_in = false;
    }
    if (w->ifb[0] && !w->has_bw[1]) {
        if (vr_trunk_detach(nl, w->tap, 2, &e) < 0 || vr_nl_link_del(nl, w->ifb, &e) < 0)
            VR_WARN("NIC %s: %s", w->mac, e.message);
        else
            VR_INFO("NIC %s: outbound shaping removed (%s)", w->mac, w->ifb);
        w->ifb[0] = '\0';
    }
    if (w->nports && (!w->mirror || strcmp(w->mirror_net, w->network)))
        unmirror(nl, w);
}

static void apply(vr_nl *nl, struct nl_sock *sk, wanted *w, const vr_nl_link *tap)
{
    vr_error e = {0};
    snprintf(w->tap, sizeof(w->tap), "%s", tap->name);
    w->tap_index = tap->index;
    bool in_ok = !w->has_bw[0] || shape(sk, tap->index, w->bw[0], tap->name, &e) == 0;
    w->shaped_in |= w->has_bw[0] && in_ok;
    if (!in_ok || (w->has_bw[1] && shape_outbound(nl, sk, w, tap->index, &e) < 0))
        VR_ERROR("NIC %s: %s", w->mac, e.message);
    else if (w->has_bw[0] || w->has_bw[1])
        VR_INFO("NIC %s: bandwidth applied on %s", w->mac, tap->name);
}

static void forget(vr_nl *nl, wanted *w)
{
    vr_error e = {0};
    if (w->ifb[0] && vr_nl_link_del(nl, w->ifb, &e) < 0)
        VR_WARN("%s", e.message);
    unmirror(nl, w);
}

/* One round: find taps, apply, forget NICs whose tap went. Caller holds mu. */
static void round_once(void)
{
    vr_nl *nl;
    vr_error e = {0};
    if (vr_nl_open(&nl, &e) < 0) {
        VR_WARN("%s", e.message);
        return;
    }
    struct nl_sock *sk = vr_nl_sock(nl);
    const vr_nl_link *links;
    int n = vr_nl_links(nl, &links);
    for (int i = 0; i < q.n; i++) {
        wanted *w = &q.w[i];
        const vr_nl_link *tap = NULL;
        for (int k = 0; k < n && !tap; k++)
            /* libvirt: the tap's MAC is the guest's with the first byte fe */
            if (!strcmp(links[k].kind, "tun") && !strcmp(links[k].mac + 2, w->mac + 2))
                tap = &links[k];
        if (tap && w->tap_index && tap->index != w->tap_index) {
            forget(nl, w); /* a new tap for the MAC: start over on it */
            w->shaped_in = false;
            w->ifb[0] = '\0';
        }
        if (tap && tap->index == w->tap_index && w->dirty)
            unapply(nl, sk, w);
        if (tap && (tap->index != w->tap_index || w->dirty))
            apply(nl, sk, w, tap);
        if (tap)
            w->dirty = false;
        if (tap && w->mirror)
            mirror_ports(nl, w);
        bool idle = tap && !w->mirror && !w->has_bw[0] && !w->has_bw[1] && !w->shaped_in && !w->ifb[0] &&
                    !w->nports;
        /* Gone (VM stopped, NIC unplugged), never came (create failed), or
         * nothing left to do. */
        if ((!tap && w->tap_index) || (!tap && time(NULL) - w->since > 120) || idle) {
            forget(nl, w);
            q.w[i--] = q.w[--q.n];
        }
    }
    vr_nl_close(nl);
}

static void *watcher(void *arg)
{
    pthread_mutex_lock(&q.mu);
    while (!q.stopping) {
        if (q.n)
            round_once();
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (q.n)
            pthread_cond_timedwait(&q.cv, &q.mu, &ts);
        else
            pthread_cond_wait(&q.cv, &q.mu);
    }
    pthread_mutex_unlock(&q.mu);
    return NULL;
}

int vr_nicqos_start(vr_error *err)
{
    if (pthread_create(&q.thread, NULL, watcher, NULL))
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start the NIC shaping thread");
    q.started = true;
    return 0;
}

void vr_nicqos_stop(void)
{
    if (!q.started)
        return;
    pthread_mutex_lock(&q.mu);
    q.stopping = true;
    pthread_mutex_unlock(&q.mu);
    pthread_cond_broadcast(&q.cv);
    pthread_join(q.thread, NULL);
    q.started = false;
}
