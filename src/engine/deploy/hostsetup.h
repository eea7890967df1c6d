/* The steps of a host deploy that run on the host, each one fixed
 * command over an SSH session (sshconn.h); what varies (configuration,
 * certificates, packages) goes on the command's stdin, checked before. */
#pragma once

#include <jansson.h>

#include "engine.h"
#include "sshconn.h"

/* Install vireo-agent (and through its dependencies libvirt, QEMU,
 * sanlock) from the newest vireo-agent_*.deb in the engine's
 * --host-packages directory: copied to /var/cache/vireo-deploy/ and
 * installed with apt-get. Without such a directory the host must have the
 * agent already (check: vr_host_check's report). note says what was done. */
int vr_setup_packages(vr_engine *e, vr_ssh *s, const char *host, json_t *check, char *note, size_t len,
                      vr_error *err);

/* Configure libvirt and sanlock for a Vireo host: libvirt's QEMU driver
 * uses the sanlock lock manager (qemu.conf lock_manager = "sanlock", and
 * migrate_tls_x509_* for vr_setup_libvirt_tls's files, the rest of the
 * file kept) with /etc/libvirt/qemu-sanlock.conf (no automatic
 * disk leases: VM leases are explicit; host_id when host_id > 0), sanlock
 * enabled and started, and libvirtd restarted only when one of the files
 * changed. Running it again changes nothing. note says what was done. */
int vr_setup_libvirt_sanlock(vr_ssh *s, const char *host, int host_id, char *note, size_t len, vr_error *err);

/* Undo the deploy on a host (docs/operations.md "Removing a host"): stop
 * and disable vireo-agent, remove its key, certificate and configuration,
 * purge the vireo-agent package; libvirt, QEMU and sanlock stay. Running it
 * again changes nothing. note says what was done. */
int vr_setup_clean(vr_ssh *s, const char *host, char *note, size_t len, vr_error *err);

/* Make a new key in /etc/vireo/pki/host.key.new (0600, never leaves the
 * host) and a request for CN=name, SAN=address; *csr_pem: the request. */
int vr_setup_make_key(vr_ssh *s, const char *name, const char *address, char **csr_pem, vr_error *err);

/* Write the certificate and the CA next to the new key, check that the
 * certificate is for that key, and put all three in place (host.key,
 * host.crt, ca.crt) at once. */
int vr_setup_install_cert(vr_ssh *s, const char *host, const char *cert_pem, const char *ca_pem, vr_error *err);

/* libvirt TLS for migrations (docs/migration.md "Transport"): libvirt's
 * files linked to the host's key and certificate, QEMU's copied into
 * /etc/pki/qemu (the key for its group; qemu.conf is set by
 * vr_setup_libvirt_sanlock); with install, libvirtd's
 * TLS socket enabled and libvirtd restarted when something changed. Run
 * after vr_setup_install_cert; running it again changes nothing. */
int vr_setup_libvirt_tls(vr_ssh *s, const char *host, bool install, char *note, size_t len, vr_error *err);

/* Write /etc/vireo/agent.conf (the agent's certificate files, listening
 * on port) and (re)start vireo-agent through systemd; fails with the
 * unit's last log lines when it does not stay active. */
int vr_setup_start_agent(vr_ssh *s, const char *host, int port, vr_error *err);
