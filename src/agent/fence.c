/* Host.fence: this host acting as the fencing proxy of another (RHV
 * Technical Reference ch. 4): it runs a fence agent from Debian's
 * fence-agents (/usr/sbin/fence_<type>) against the other host's power
 * device. The agent gets its parameters as key=value lines on stdin, the
 * fence-agents' own interface, so the password is never on a command line
 * (ps) nor in this agent's log. fence_ipmilan (and its aliases) would put
 * it on ipmitool's command line, so they get it in IPMI_PASSWORD instead,
 * through vireo-ipmitool (ipmitool_env.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fenceopts.h"
#include "jsonx.h"
#include "log.h"
#include "storage/runcmd.h"
#include "verbs.h"
#include "helper_path.h"

#define FENCE_DIR "/usr/sbin"

/* The fence-agents types that are fence_ipmilan under another name. */
static const char *const ipmitool_types[] = {"ipmilan", "ipmilanplus", "idrac", "ilo3", "ilo4", "ilo5",
                                             "imm", NULL};

/* vireo-ipmitool (helper_path.h). Without it the password goes the
 * fence-agents' way: ipmitool hides it once running. */
static bool ipmitool_helper(char *path, size_t size)
{
    return vr_helper_path("vireo-ipmitool", path, size);
}

/* Append "key=value\n" to buf. */
static int put(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
    int n = snprintf(buf + *len, size - *len, "%s=%s\n", key, value);
    if (n < 0 || (size_t)n >= size - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

/* The password, wherever a fence agent echoed it, becomes ***. */
static void mask(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0)
        return;
    for (char *p = strstr(text, secret); p; p = strstr(p + 3, secret)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, strlen(p + n) + 1);
    }
}

static int host_fence(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"agent", "action", "timeout_s", NULL};
    static const char *const actions[] = {"status", "on", "off", "reboot", NULL};
    json_t *ag = NULL;
    const char *action = NULL;
    long long timeout = 60;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "agent", true, &ag, err) < 0 ||
        vr_json_str(params, "params", "action", true, &action, err) < 0 ||
        vr_json_int(params, "params", "timeout_s", false, 1, 600, &timeout, err) < 0 ||
        vr_fence_agent_check(ag, "params.agent", NULL, err) < 0)
        return -1;
    if (!vr_str_in(action, VR_NAMES(actions)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.action must be status, on, off or reboot");
    const char *type = json_string_value(json_object_get(ag, "type"));
    const char *addr = json_string_value(json_object_get(ag, "address"));
    const char *user = json_string_value(json_object_get(ag, "username"));
    const char *pass = json_string_value(json_object_get(ag, "password"));
    long long port = json_integer_value(json_object_get(ag, "port"));
    char input[16384];
    size_t len = 0;
    char num[32], helper[PATH_MAX];
    snprintf(num, sizeof(num), "%lld", port);
    /* password in the environment: "IPMI_PASSWORD=" + up to the checked length */
    char envpw[1024] = "";
    bool via_env = pass && vr_str_in(type, VR_NAMES(ipmitool_types)) && ipmitool_helper(helper, sizeof(helper)) &&
                   snprintf(envpw, sizeof(envpw), "IPMI_PASSWORD=%s", pass) < (int)sizeof(envpw);
    bool bad = put(input, sizeof(input), &len, "action", action) < 0 ||
               put(input, sizeof(input), &len, "ip", addr) < 0 ||
               (port && put(input, sizeof(input), &len, "ipport", num) < 0) ||
               (user && put(input, sizeof(input), &len, "username", user) < 0) ||
               (via_env && put(input, sizeof(input), &len, "ipmitool_path", helper) < 0) ||
               (pass && !via_env && put(input, sizeof(input), &len, "password", pass) < 0);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(ag, "options"), k, v) {
        char val[300];
        vr_fence_option_text(v, val, sizeof(val)); /* checked above */
        bad = bad || put(input, sizeof(input), &len, k, val) < 0;
    }
    if (bad)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent: too many or too long options");
    char path[128];
    snprintf(path, sizeof(path), "%s/fence_%s", FENCE_DIR, type);
    const char *argv[] = {path, NULL};
    const char *env[] = {envpw, NULL};
    char out[4096];
    int rc = vr_run_argv_env_input(argv, via_env ? env : NULL, input, (int)timeout, out, sizeof(out));
    explicit_bzero(input, sizeof(input));
    explicit_bzero(envpw, sizeof(envpw));
    mask(out, pass);
    VR_INFO("fence agent %s, action %s on %s: exit %d%s", type, action, addr, rc,
            via_env ? " (password through IPMI_PASSWORD)" : "");
    if (rc == -ENOENT)
        return vr_error_set(err, VR_ERR_UNSUPPORTED, "no fence agent '%s' on this host (%s; Debian package"
                            " fence-agents)", type, path);
    if (rc == -ETIMEDOUT)
        return vr_error_set(err, VR_ERR_IO, "fence agent %s (%s of %s) did not finish within %lld s", type,
                            action, addr, timeout);
    /* status: 0 on, 2 off (the fence-agents' convention); others: 0 done. */
    const char *power = NULL;
    if (!strcmp(action, "status"))
        power = rc == 0 ? "on" : rc == 2 ? "off" : NULL;
    else if (rc == 0)
        power = !strcmp(action, "off") ? "off" : "on";
    if (!power)
        return vr_error_set(err, VR_ERR_IO, "fence agent %s (%s of %s) failed with exit status %d: %.600s", type,
                            action, addr, rc, out);
    *result = json_pack("{s:s, s:s}", "power", power, "action", action);
    return 0;
}

const vr_verb vr_fence_verbs[] = {
    {"Host.fence", host_fence},
    {NULL, NULL},
};
