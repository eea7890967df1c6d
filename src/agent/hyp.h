/* The hypervisor connection: libvirt connect, virtualization mode detection
 * and domain lookup helpers shared by the verbs. */
#pragma once

#include "agent.h"

/* Open the libvirt connection and detect the virtualization mode. */
int vr_hyp_open(vr_agent *a, vr_error *err);
void vr_hyp_close(vr_agent *a);

/* Reconnect if the libvirt connection is closed although its close
 * callback never came (seen after a keepalive timeout on a loaded host:
 * every call then failed with "client socket is closed"). Called every
 * second by the VM health watcher. */
void vr_hyp_check_alive(vr_agent *a);

/* "kvm", "kvm-emulated" or "tcg". */
const char *vr_virt_mode_name(enum vr_virt_mode mode);

/* Detect the mode from /dev/kvm and the CPU flags (exposed for tests). */
enum vr_virt_mode vr_detect_virt_mode(const char *cpuinfo_path, const char *kvm_dev);

/* Look up a domain by params.uuid (or params.name when allowed). Fails with
 * VR_ERR_NO_VM, or VR_ERR_NOT_OWNED for domains Vireo does not manage. The
 * caller frees with virDomainFree. */
int vr_dom_lookup(vr_agent *a, json_t *params, virDomainPtr *out, vr_error *err);

/* True if the domain carries Vireo's metadata element (or did, for a
 * domain that has just gone away). */
bool vr_dom_is_owned(virDomainPtr dom);

/* A running domain Vireo owns, with its UUID (the monitors' unit). */
typedef struct {
    virDomainPtr dom;
    char uuid[VIR_UUID_STRING_BUFLEN];
} vr_owned_dom;

/* The running domains Vireo owns, into *out (free with vr_owned_doms_free);
 * returns how many. -1 when libvirtd is away: the reconnect thread handles
 * that, a monitor just skips its round. */
int vr_owned_doms_list(vr_agent *a, vr_owned_dom **out);
void vr_owned_doms_free(vr_owned_dom *doms, int n);

/* Drop a stopped domain from the ownership memory. */
void vr_dom_forget(virDomainPtr dom);

/* State name of a domain as reported to clients ("running", "paused"...). */
const char *vr_dom_state_name(int state);
