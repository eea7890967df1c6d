/* The words the engine quotes into its messages that are translated like
 * messages (i18n.h vr_i18n_set_terms): every kind's title. A new kind's
 * title goes here too (tests/unit/test_i18n checks). */
#include "terms.h"

#include "i18n.h"

const char *const vr_terms[] = {
    N_("MAC pool"), N_("NIC"), N_("VM pool"), N_("VM"), N_("affinity group"), N_("cluster network"),
    N_("cluster"), N_("data center"), N_("directory profile"), N_("disk"), N_("event"), N_("group"),
    N_("host NIC"), N_("host"), N_("job"), N_("member"), N_("network"), N_("permission"), N_("quota"), N_("role"),
    N_("snapshot"), N_("storage domain"), N_("template"), N_("user"), N_("vNIC profile"),
    N_("object"), /* what authz.c calls an object of no kind */
};
const size_t vr_nterms = sizeof(vr_terms) / sizeof(vr_terms[0]);

/* Messages the engine no longer makes. Events and job steps stored by an
 * older engine name them as their message id: listed here they stay in
 * the catalog, so those rows still read in every language. Never remove
 * an entry; add one whenever a change retires a message. */
const char *const vr_retired_messages[] = {
    N_("%s '%s' removed"), N_("VM '%s' updated"),
    N_("VM '%s' created"),
    N_("VM '%s' updated; changes that cannot apply live wait for its next start"), N_("VM removed"),
    N_("disk updated"), N_("starting on host"), N_("storage domain %s"), N_("storage domain removed"),
    N_("storage domain updated"),
    /* job titles became whole descriptions, quoted by "%s failed: %s" */
    N_("%s VM '%s' failed: %s"), N_("%s VM '%s' done on host '%s'"), N_("%s '%s' of VM '%s' done"),
    N_("%s '%s' of VM '%s' failed: %s"),
};
const size_t vr_nretired_messages = sizeof(vr_retired_messages) / sizeof(vr_retired_messages[0]);
