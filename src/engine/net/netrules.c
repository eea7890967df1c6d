/* Network rules checked by the engine (netrules.h). The agent checks the
 * same again on its side; checking here first means a bad request never
 * costs a host a rollback. */
#include "netrules.h"

#include <stdio.h>
#include <string.h>

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

int vr_net_check_name(const char *name, vr_error *err)
{
    size_t n = strlen(name);
    if (n < 1 || n > 15 || strspn(name, ALNUM "_-") != n || name[0] == '-')
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a network name is 1-15 bytes of letters, digits, '_' and"
                            " '-' (not first): it names the network's bridge on hosts");
    if (!strncmp(name, "vrt-", 4) || !strncmp(name, "vrv", 3))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "network names starting with vrt- or vrv are the agent's"
                            " own devices");
    return 0;
}

int vr_net_check_roles(json_t *roles, vr_error *err)
{
    static const char *const known[] = {"management", "display", "migration"};
    if (!roles)
        return 0;
    if (!json_is_array(roles) || json_array_size(roles) > 3)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "roles must be an array of management, display, migration");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) {
        const char *s = json_string_value(r);
        bool ok = false;
        for (size_t k = 0; s && k < sizeof(known) / sizeof(known[0]); k++)
            ok |= !strcmp(s, known[k]);
        for (size_t j = 0; ok && j < i; j++)
            ok = strcmp(s, json_string_value(json_array_get(roles, j)));
        if (!ok)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "roles[%zu] must be one of management, display, migration"
                                " (each once)", i);
    }
    return 0;
}

int vr_net_check_label(const char *label, vr_error *err)
{
    size_t n = strlen(label);
    if (n > 32 || strspn(label, ALNUM "_-") != n)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "label must be at most 32 letters, digits, '_' or '-'");
    return 0;
}

static int check_dir(json_t *d, const char *where, vr_error *err)
{
    if (!json_is_object(d))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object {average, peak?, burst?}", where);
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v) {
        if (strcmp(k, "average") && strcmp(k, "peak") && strcmp(k, "burst"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: unknown member '%.40s'", where, k);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 4294967295LL)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be an integer from 1 to 4294967295", where, k);
    }
    if (!json_object_get(d, "average"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.average is required", where);
    return 0;
}

int vr_net_check_qos(json_t *qos, const char *where, vr_error *err)
{
    if (json_is_null(qos))
        return 0;
    if (!json_is_object(qos) || !json_object_size(qos))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be null or an object with inbound and/or outbound",
                            where);
    const char *k;
    json_t *v;
    json_object_foreach(qos, k, v) {
        char w[64];
        if (strcmp(k, "inbound") && strcmp(k, "outbound"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: unknown member '%.40s'", where, k);
        snprintf(w, sizeof(w), "%s.%s", where, k);
        if (check_dir(v, w, err) < 0)
            return -1;
    }
    return 0;
}

int vr_net_check_nic(const char *nic, const char *where, vr_error *err)
{
    size_t n = nic ? strlen(nic) : 0;
    if (n < 1 || n > 8 || strspn(nic, ALNUM "_.-") != n)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must name a host NIC: 1-8 letters, digits, '_', '.' or"
                            " '-' (the agent names its devices after it)", where);
    return 0;
}

int vr_net_check_bond(const char *name, json_t *bond, bool carries_vm_network, vr_error *err)
{
    size_t n = strlen(name);
    if (n < 5 || n > 7 || strncmp(name, "bond", 4) || strspn(name + 4, "0123456789") != n - 4)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond names are bond0 to bond999 (not '%.40s')", name);
    if (!json_is_object(bond))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bonds.%s must be an object {nics, mode}", name);
    const char *k;
    json_t *v, *nics = json_object_get(bond, "nics"), *mode = json_object_get(bond, "mode");
    json_object_foreach(bond, k, v)
        if (strcmp(k, "nics") && strcmp(k, "mode"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bonds.%s: unknown member '%.40s'", name, k);
    if (!json_is_array(nics) || json_array_size(nics) < 2)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond %s needs at least 2 NICs", name);
    size_t i;
    json_array_foreach(nics, i, v) {
        char w[64];
        snprintf(w, sizeof(w), "bonds.%s.nics[%zu]", name, i);
        if (vr_net_check_nic(json_string_value(v), w, err) < 0)
            return -1;
        if (!strncmp(json_string_value(v), "bond", 4))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: a bond is not made of bonds", w);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(json_string_value(v), json_string_value(json_array_get(nics, j))))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond %s names NIC %s twice", name,
                                    json_string_value(v));
    }
    if (!json_is_integer(mode) || json_integer_value(mode) < 0 || json_integer_value(mode) > 6)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond %s: mode must be an integer from 0 to 6", name);
    long long m = json_integer_value(mode);
    if (carries_vm_network && (m == 0 || m == 5 || m == 6))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond %s: mode %lld (%s) cannot carry a VM network (modes 1-4"
                            " can)", name, m, m == 0 ? "balance-rr" : m == 5 ? "balance-tlb" : "balance-alb");
    return 0;
}
