/* The permission catalogue (src/engine/perm): every operation of every
 * kind needs a real action group (an action added to a kind without one
 * would be SuperUser-only: this says so at once), the predefined roles
 * are made of known groups, and LDAP filter values are escaped as RFC 4515
 * says. */
#include <stdio.h>

#include "check.h"
#include "directory.h"
#include "kind.h"
#include "perm.h"

static void check_operation(const vr_kind *k, const char *action)
{
    const char *g = vr_action_group_for(k->type, k->collection, action);
    bool engine_only = !strcmp(k->type, "domain"); /* profiles are SuperUser's */
    if (!vr_action_group_known(g) || (!strcmp(g, "configure_engine") != engine_only)) {
        fprintf(stderr, "%s %s (%s) needs '%s'\n", k->collection, action, k->type, g);
        CHECK(!"every operation has its action group in perm/roles.c");
    }
}

static void check_operations(void)
{
    for (size_t i = 0; i < vr_nkinds; i++) {
        const vr_kind *k = vr_kinds[i];
        if (!strcmp(k->type, "event") || !strcmp(k->type, "job"))
            continue; /* read-only; a job's cancel is its action's group */
        if (!k->read_only) {
            if (k->children ? k->add_child != NULL : true)
                check_operation(k, "create");
            if (k->children ? k->change_child != NULL : !k->no_update)
                check_operation(k, "update");
            if (k->children ? k->remove_child != NULL : !k->no_delete)
                check_operation(k, "delete");
        }
        for (size_t j = 0; j < k->nactions; j++)
            check_operation(k, k->actions[j].name);
    }
    CHECK(!strcmp(vr_action_group_for("vm", "vms", "start"), "vm_basic_operations"));
    CHECK(!strcmp(vr_action_group_for("vm", NULL, "stop"), "vm_basic_operations"));
    CHECK(!strcmp(vr_action_group_for("vm", "vms", "migrate"), "migrate_vm"));
    CHECK(!strcmp(vr_action_group_for("vm", "nics", "create"), "configure_vm_network"));
    CHECK(!strcmp(vr_action_group_for("nothing", "nothing", "x"), "configure_engine"));
}

static void check_roles(void)
{
    CHECK(vr_npredefined_roles >= 11);
    for (size_t i = 0; i < vr_npredefined_roles; i++) {
        const vr_role_def *r = &vr_predefined_roles[i];
        CHECK(r->groups || !strcmp(r->name, "SuperUser"));
        for (size_t j = 0; r->groups && r->groups[j]; j++)
            if (!vr_action_group_known(r->groups[j])) {
                fprintf(stderr, "role %s: unknown action group %s\n", r->name, r->groups[j]);
                CHECK(!"known action group");
            }
    }
}

static void check_escape(void)
{
    static const char *const in[] = {"bob", "b*", "bob)(uid=*", "a\\b", "\x01", "caf\xc3\xa9", ""};
    static const char *const out[] = {"bob", "b\\2a", "bob\\29\\28uid=\\2a", "a\\5cb", "\\01", "caf\xc3\xa9", ""};
    char buf[64];
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        CHECK(vr_ldap_escape(in[i], buf, sizeof(buf)) == 0);
        CHECK(!strcmp(buf, out[i]));
    }
    char small[4];
    CHECK(vr_ldap_escape("abc", small, sizeof(small)) == 0 && !strcmp(small, "abc"));
    CHECK(vr_ldap_escape("abcd", small, sizeof(small)) == -1);
    CHECK(vr_ldap_escape("a*", small, sizeof(small)) == -1); /* never cut inside an escape */
}

int main(void)
{
    check_operations();
    check_roles();
    check_escape();
    return CHECK_DONE();
}
