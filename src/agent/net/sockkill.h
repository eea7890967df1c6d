/* Destroying a process's outgoing TCP connections to one peer address, as
 * `ss -K` does: the kernel's sock_diag netlink (NETLINK_SOCK_DIAG) lists
 * the TCP sockets of this network namespace, and SOCK_DESTROY aborts the
 * chosen ones (tcp_abort: the owner's next read, write or poll fails with
 * ECONNABORTED, the peer gets a reset). Needs CAP_NET_ADMIN in the
 * namespace and a kernel with CONFIG_INET_DIAG_DESTROY.
 *
 * Why: a live migration whose network was cut while QEMU's stream still
 * shook hands (TLS) or connected does not end on QEMU's migrate_cancel,
 * which only shuts down a stream that exists; the handshake waits for a
 * peer that never answers. The agent then cuts the stream itself
 * (vm_migrate.c), and QEMU's migration fails, the VM running on.
 *
 * Only sockets that are surely the process's own outgoing connections are
 * touched: the socket is one of `owner`'s open files (its inode among
 * /proc/OWNER/fd), its remote address is `peer` (any port; an IPv4 peer
 * also as an IPv4-mapped IPv6 address), and its local port is not one the
 * owner listens on (a connection a client made to the owner, such as a
 * console viewer on the same address, stays). */
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

/* Destroys owner's outgoing TCP connections to peer (sockaddr_in or
 * sockaddr_in6; its port is ignored), in every TCP state (SYN-SENT
 * included: a connect that waits). Returns how many it destroyed (0: none
 * matched) or -errno (-EPERM without CAP_NET_ADMIN, -EOPNOTSUPP without
 * the kernel's support, -ESRCH no such owner, -EAFNOSUPPORT another
 * family). A socket that went away between the listing and its destroy
 * (-ENOENT) is not an error. */
int vr_sockkill_outgoing(pid_t owner, const struct sockaddr *peer);
