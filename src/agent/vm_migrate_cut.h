/* The last resort of a migration's abort (docs/migration.md "An abort the
 * stream does not answer"): QEMU's migrate_cancel shuts down a migration
 * stream that exists, but one still connecting or in its TLS handshake is
 * no stream yet, so a cancel then waits as long as the handshake, which a
 * cut network leaves waiting for TCP to give up (minutes, or for ever
 * without keep-alive). The agent then destroys the VM's QEMU's connections
 * to the destination (net/sockkill.h): QEMU's handshake fails and so does
 * the migration; the VM runs on here. */
#pragma once

/* libvirt's QEMU driver writes each running domain's QEMU pid here (its
 * state directory as the system daemon). */
#define VR_LIBVIRT_QEMU_RUN_DIR "/run/libvirt/qemu"

/* Destroys the outgoing TCP connections of VM `vm_name`'s QEMU to every
 * address of `dest_host` and of `stream_addr` (NULL or "": none; names
 * are resolved, addresses taken as they are). Returns how many it cut, or
 * -errno (-ESRCH: no QEMU pid for the VM; -ENOENT: no address resolved;
 * sockkill's errors). */
int vr_migrate_cut_stream(const char *vm_name, const char *dest_host, const char *stream_addr);
