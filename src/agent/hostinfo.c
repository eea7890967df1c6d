#include "hostinfo.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vr_read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

long long vr_read_ull(const char *path)
{
    char buf[64];
    if (vr_read_file(path, buf, sizeof(buf)) < 0)
        return -1;
    return strtoll(buf, NULL, 10);
}

json_t *vr_host_cpu_flags(void)
{
    json_t *flags = json_array();
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return flags;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        char *save = NULL, *p = strchr(line, ':');
        for (char *t = strtok_r(p ? p + 1 : line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
            json_array_append_new(flags, json_string(t));
        break;
    }
    free(line);
    fclose(f);
    return flags;
}

json_t *vr_host_nics(void)
{
    json_t *nics = json_array();
    DIR *d = opendir("/sys/class/net");
    if (!d)
        return nics;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
            continue;
        char path[512], buf[256];
        json_t *nic = json_pack("{s:s}", "name", e->d_name);
        snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
        if (vr_read_file(path, buf, sizeof(buf)) == 0)
            json_object_set_new(nic, "mac", json_string(buf));
        snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", e->d_name);
        if (vr_read_file(path, buf, sizeof(buf)) == 0)
            json_object_set_new(nic, "state", json_string(buf));
        snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", e->d_name);
        json_object_set_new(nic, "bridge", json_boolean(access(path, F_OK) == 0));
        snprintf(path, sizeof(path), "/sys/class/net/%s/master", e->d_name);
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n > 0) {
            buf[n] = '\0';
            json_object_set_new(nic, "master", json_string(strrchr(buf, '/') + 1));
        }
        snprintf(path, sizeof(path), "/sys/class/net/%s/speed", e->d_name);
        long long speed = vr_read_ull(path);
        if (speed > 0)
            json_object_set_new(nic, "speed_mbps", json_integer(speed));
        json_array_append_new(nics, nic);
    }
    closedir(d);
    return nics;
}

const char *vr_host_lock_manager(const char *qemu_conf, char *buf, size_t len)
{
    snprintf(buf, len, "none");
    FILE *f = fopen(qemu_conf, "re");
    if (!f)
        return buf;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char val[64];
        /* lock_manager = "NAME" (libvirt's own syntax; # starts a comment) */
        if (sscanf(line, " lock_manager = \"%63[A-Za-z0-9_-]\"", val) == 1)
            snprintf(buf, len, "%s", strcmp(val, "nop") ? val : "none");
    }
    fclose(f);
    return buf;
}
