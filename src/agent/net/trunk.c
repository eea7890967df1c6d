/* Trunk programs (trunk.h): assembled here instruction by instruction (a
 * dozen each, no compiler or libbpf needed), loaded with bpf(2) and
 * attached as cls_bpf filters in direct-action mode. Replacing the filter
 * (same priority and handle, NLM_F_REPLACE) swaps programs atomically, so
 * adding a VLAN to a NIC never drops the others' frames. */
#include "trunk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

/* The kernel's limit of a program's size (BPF_MAXINSNS). */
#define MAX_INSNS 4096

/* Instruction builders (the kernel's own macros are not in its uapi). */
#define INS(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s) INS(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INS(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INS(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LDX_W(d, s, o) INS(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define JNE_IMM(d, i, o) INS(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) INS(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define CALL(f) INS(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int load(const struct bpf_insn *insns, int n, const char *dev, vr_error *err)
{
    static char log[4096];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    attr.insns = (unsigned long)insns;
    attr.insn_cnt = (unsigned)n;
    attr.license = (unsigned long)"GPL";
    log[0] = '\0';
    int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0) {
        /* Again with the verifier's log, for the message (not at first: a
         * long program's log overflows the buffer, ENOSPC, even when fine). */
        attr.log_buf = (unsigned long)log;
        attr.log_size = sizeof(log);
        attr.log_level = 1;
        fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    }
    if (fd < 0)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot load the VLAN program of %s: %s %.200s",
                            dev, strerror(errno), log);
    return fd;
}

static struct nl_msg *tc_msg(int type, int flags, int ifindex, unsigned parent, unsigned handle,
                             unsigned info)
{
    struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
    struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent,
                      .tcm_handle = handle, .tcm_info = info};
    if (m && nlmsg_append(m, &t, sizeof(t), NLMSG_ALIGNTO) < 0) {
        nlmsg_free(m);
        return NULL;
    }
    return m;
}

int vr_trunk_clsact(vr_nl *nl, const char *dev, vr_error *err)
{
    int idx = (int)if_nametoindex(dev);
    if (!idx)
        return vr_error_set(err, VR_ERR_NETWORK, "no network device %s on this host", dev);
    struct nl_msg *q = tc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, idx, TC_H_CLSACT,
                              TC_H_MAKE(TC_H_CLSACT, 0), 0);
    if (!q || nla_put_string(q, TCA_KIND, "clsact") < 0) {
        nlmsg_free(q);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot build the clsact request for %s", dev);
    }
    int rc = vr_nl_request(nl, q);
    if (rc < 0 && rc != -NLE_EXIST)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot add a clsact qdisc to %s: %s", dev,
                            nl_geterror(rc));
    return idx;
}

int vr_trunk_detach(vr_nl *nl, const char *dev, int prio, vr_error *err)
{
    int idx = (int)if_nametoindex(dev);
    if (!idx)
        return 0;
    struct nl_msg *f = tc_msg(RTM_DELTFILTER, 0, idx, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), 0,
                              TC_H_MAKE((unsigned)prio << 16, htons(ETH_P_ALL)));
    if (!f)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory changing %s", dev);
    int rc = vr_nl_request(nl, f);
    if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_INVAL && rc != -NLE_NOADDR)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot remove a filter of %s: %s", dev,
                            nl_geterror(rc));
    return 0;
}

int vr_trunk_attach(vr_nl *nl, const char *dev, const struct bpf_insn *insns, int n, int prio,
                    vr_error *err)
{
    int idx = vr_trunk_clsact(nl, dev, err), rc;
    if (idx < 0)
        return -1;
    int fd = load(insns, n, dev, err);
    if (fd < 0)
        return -1;
    struct nl_msg *f = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, idx,
                              TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), 1,
                              TC_H_MAKE((unsigned)prio << 16, htons(ETH_P_ALL)));
    struct nlattr *opt;
    if (!f || nla_put_string(f, TCA_KIND, "bpf") < 0 || !(opt = nla_nest_start(f, TCA_OPTIONS)) ||
        nla_put_u32(f, TCA_BPF_FD, (uint32_t)fd) < 0 || nla_put_string(f, TCA_BPF_NAME, "vireo-vlan") < 0 ||
        nla_put_u32(f, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0) {
        nlmsg_free(f);
        close(fd);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot build the filter request for %s", dev);
    }
    nla_nest_end(f, opt);
    rc = vr_nl_request(nl, f);
    close(fd); /* the filter holds its own reference */
    if (rc < 0)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot attach the VLAN program to %s: %s", dev,
                            nl_geterror(rc));
    return 0;
}

/* r1 = ifindex; r2 = 0 (egress); return bpf_redirect(): TC_ACT_REDIRECT. */
static int emit_redirect(struct bpf_insn *p, int ifindex)
{
    p[0] = MOV_IMM(BPF_REG_1, ifindex);
    p[1] = MOV_IMM(BPF_REG_2, 0);
    p[2] = CALL(BPF_FUNC_redirect);
    p[3] = EXIT();
    return 4;
}

int vr_trunk_nic(vr_nl *nl, const char *nic, const vr_trunk_vlan *vlans, int n,
                 int untagged_ifindex, vr_error *err)
{
    _Static_assert(16 + 7 * VR_TRUNK_MAX_VLANS <= MAX_INSNS, "the VLAN table fits a program");
    if (n > VR_TRUNK_MAX_VLANS)
        return vr_error_set(err, VR_ERR_NETWORK, "NIC %s would carry more than %d VLANs", nic,
                            VR_TRUNK_MAX_VLANS);
    struct bpf_insn *p = calloc(MAX_INSNS, sizeof(*p)); /* 32 KiB: not on a thread's stack */
    if (!p)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory changing %s", nic);
    int k = 0;
    p[k++] = MOV_REG(BPF_REG_6, BPF_REG_1);
    p[k++] = LDX_W(BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, vlan_present));
    /* untagged: jump over the VLAN table (2 + 7 per VLAN + 2 instructions) */
    p[k++] = JEQ_IMM(BPF_REG_2, 0, (short)(2 + 7 * n + 2));
    p[k++] = LDX_W(BPF_REG_7, BPF_REG_6, offsetof(struct __sk_buff, vlan_tci));
    p[k++] = AND_IMM(BPF_REG_7, 0xfff);
    for (int i = 0; i < n; i++) {
        p[k++] = JNE_IMM(BPF_REG_7, vlans[i].vid, 6);
        p[k++] = MOV_REG(BPF_REG_1, BPF_REG_6);
        p[k++] = CALL(BPF_FUNC_skb_vlan_pop);
        k += emit_redirect(&p[k], vlans[i].ifindex);
    }
    p[k++] = MOV_IMM(BPF_REG_0, TC_ACT_SHOT); /* a VLAN this NIC does not carry */
    p[k++] = EXIT();
    if (untagged_ifindex) {
        k += emit_redirect(&p[k], untagged_ifindex);
    } else {
        p[k++] = MOV_IMM(BPF_REG_0, TC_ACT_OK); /* the host's own traffic on the NIC */
        p[k++] = EXIT();
    }
    int rc = vr_trunk_attach(nl, nic, p, k, 1, err);
    free(p);
    return rc;
}

int vr_trunk_port(vr_nl *nl, const char *veth, int vid, const char *nic, vr_error *err)
{
    int nidx = (int)if_nametoindex(nic);
    if (!nidx)
        return vr_error_set(err, VR_ERR_NETWORK, "no NIC %s on this host", nic);
    struct bpf_insn p[16];
    int k = 0;
    if (vid) {
        p[k++] = MOV_IMM(BPF_REG_2, htons(ETH_P_8021Q));
        p[k++] = MOV_IMM(BPF_REG_3, vid);
        p[k++] = CALL(BPF_FUNC_skb_vlan_push); /* r1 is still the skb */
    }
    k += emit_redirect(&p[k], nidx);
    return vr_trunk_attach(nl, veth, p, k, 1, err);
}

int vr_trunk_clear(vr_nl *nl, const char *dev, vr_error *err)
{
    int idx = (int)if_nametoindex(dev);
    if (!idx)
        return 0;
    struct nl_msg *q = tc_msg(RTM_DELQDISC, 0, idx, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
    if (!q)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory clearing %s", dev);
    int rc = vr_nl_request(nl, q);
    if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_INVAL && rc != -NLE_NOADDR)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot remove the VLAN programs of %s: %s", dev,
                            nl_geterror(rc));
    return 0;
}

int vr_trunk_mirror(vr_nl *nl, const char *port, int to_ifindex, vr_error *err)
{
    /* A copy of every frame entering the port goes out of to_ifindex; the
     * frame itself goes on (TC_ACT_UNSPEC: the next filter, e.g. a NIC's
     * outbound shaping, still sees it). */
    struct bpf_insn p[] = {
        MOV_IMM(BPF_REG_2, to_ifindex),
        MOV_IMM(BPF_REG_3, 0),
        CALL(BPF_FUNC_clone_redirect),
        MOV_IMM(BPF_REG_0, TC_ACT_UNSPEC),
        EXIT(),
    };
    return vr_trunk_attach(nl, port, p, (int)(sizeof(p) / sizeof(p[0])), 1, err);
}
