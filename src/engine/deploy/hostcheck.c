#include "hostcheck.h"

#include <stdlib.h>
#include <string.h>

/* One fixed script: key=value lines, nothing from the request in it. */
static const char check_script[] =
    "export LC_ALL=C; . /etc/os-release 2>/dev/null; echo \"os=${ID:-unknown} ${VERSION_ID:-}\"; "
    "echo \"arch=$(uname -m)\"; "
    "echo \"hw_virt=$(grep -Eqw 'vmx|svm' /proc/cpuinfo && echo yes || echo no)\"; "
    "echo \"dev_kvm=$(test -c /dev/kvm && echo yes || echo no)\"; "
    "for p in libvirtd sanlock qemu-img vireo-agent; do "
    "command -v $p >/dev/null 2>&1 || test -x /usr/sbin/$p && echo \"found_$p=yes\" || echo \"found_$p=no\"; done";

/* The value of key in "key=value" lines, or "". */
static const char *value(const char *out, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            size_t n = strcspn(l + kl + 1, "\n");
            snprintf(buf, len, "%.*s", (int)n, l + kl + 1);
            return buf;
        }
    }
    buf[0] = '\0';
    return buf;
}

int vr_host_check(vr_ssh *s, const char *address, json_t **report, vr_error *err)
{
    char *out = NULL;
    int status = 0;
    if (vr_ssh_run(s, check_script, &out, &status, err) < 0)
        return -1;
    if (status != 0) {
        vr_error_set(err, VR_ERR_IO, "the host check on %s failed (exit %d): %.300s", address, status, out);
        free(out);
        return -1;
    }
    char os[128], arch[64], v[16];
    value(out, "os", os, sizeof(os));
    value(out, "arch", arch, sizeof(arch));
    json_t *problems = json_array(), *warnings = json_array(), *found = json_object();
    bool hw = !strcmp(value(out, "hw_virt", v, sizeof(v)), "yes");
    bool kvm = !strcmp(value(out, "dev_kvm", v, sizeof(v)), "yes");
    if (strcmp(arch, "x86_64"))
        json_array_append_new(problems, json_sprintf("the host's architecture is %s; Vireo hosts are x86_64", arch));
    if (strncmp(os, "debian ", 7))
        json_array_append_new(problems, json_sprintf("the host runs %s; Vireo hosts run Debian", os));
    if (!hw || !kvm)
        json_array_append_new(warnings, json_sprintf("no hardware virtualization (%s): guests will run "
                                                     "under QEMU's TCG, slowly", !hw ? "no vmx/svm" : "no /dev/kvm"));
    static const char *const progs[] = {"libvirtd", "sanlock", "qemu-img", "vireo-agent"};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        char key[64];
        snprintf(key, sizeof(key), "found_%s", progs[i]);
        bool f = !strcmp(value(out, key, v, sizeof(v)), "yes");
        json_object_set_new(found, progs[i], json_boolean(f));
        if (!f)
            json_array_append_new(warnings, json_sprintf("%s is not installed (the deploy installs it)", progs[i]));
    }
    *report = json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:o}", "os", os, "arch", arch, "hw_virt", hw,
                        "dev_kvm", kvm, "found", found, "problems", problems, "warnings", warnings);
    free(out);
    if (!*report)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot encode the host check of %s", address);
    return 0;
}
