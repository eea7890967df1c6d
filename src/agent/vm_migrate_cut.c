/* vm_migrate_cut.h: the VM's QEMU found by libvirt's pid file, the
 * destination's addresses resolved, each one's connections cut. */
#include "vm_migrate_cut.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostinfo.h"
#include "log.h"
#include "net/sockkill.h"

/* Every address of one name or address: the connections cut, or -errno. */
static int cut_to(pid_t qemu, const char *host, int *resolved)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, NULL, &hints, &res);
    if (g != 0) {
        VR_WARN("cannot resolve %s to cut a migration stream: %s", host, gai_strerror(g));
        return 0;
    }
    int cut = 0, rc = 0;
    for (struct addrinfo *ai = res; ai && rc >= 0; ai = ai->ai_next) {
        (*resolved)++;
        rc = vr_sockkill_outgoing(qemu, ai->ai_addr);
        if (rc > 0)
            cut += rc;
    }
    freeaddrinfo(res);
    return rc < 0 ? rc : cut;
}

int vr_migrate_cut_stream(const char *vm_name, const char *dest_host, const char *stream_addr)
{
    char path[512], buf[32];
    snprintf(path, sizeof(path), "%s/%s.pid", VR_LIBVIRT_QEMU_RUN_DIR, vm_name);
    char *end;
    if (vr_read_file(path, buf, sizeof(buf)) < 0)
        return -ESRCH;
    long pid = strtol(buf, &end, 10);
    if (end == buf || *end || pid <= 1)
        return -ESRCH;
    int resolved = 0, cut = 0;
    const char *hosts[] = {dest_host, stream_addr};
    for (size_t i = 0; i < 2; i++) {
        if (!hosts[i] || !*hosts[i] || (i == 1 && !strcmp(hosts[1], hosts[0])))
            continue;
        int rc = cut_to((pid_t)pid, hosts[i], &resolved);
        if (rc < 0)
            return rc;
        cut += rc;
    }
    return resolved ? cut : -ENOENT;
}
