/* Facts about the host read from /proc and /sys (no libvirt needed). */
#pragma once

#include <jansson.h>

/* CPU flags of the first processor in /proc/cpuinfo (new ref, array). */
json_t *vr_host_cpu_flags(void);

/* Network interfaces: [{"name","mac","bridge":bool,"state","master"}] */
json_t *vr_host_nics(void);

/* Read a whole small file into buf (NUL-terminated); -1 if unreadable. */
int vr_read_file(const char *path, char *buf, size_t len);

/* Read one unsigned number from a file; -1 on failure. */
long long vr_read_ull(const char *path);

/* The lock manager libvirt's QEMU driver uses as qemu_conf (normally
 * /etc/libvirt/qemu.conf) sets it: "sanlock", another name, or "none" when
 * unset or "nop". Only a "sanlock" host can run a VM with a lease
 * (docs/availability.md "VM leases"). */
const char *vr_host_lock_manager(const char *qemu_conf, char *buf, size_t len);
