#include "vm_leaseloss.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "log.h"
#include "storage/lockspace.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *lockspaces; /* domain uuid -> its lease's lockspace */

/* The text of /domain/devices/lease/lockspace in xml (malloc'd), or NULL. */
static char *lease_lockspace(const char *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/lease/lockspace", ctx) : NULL;
    char *out = NULL;
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

void vr_leaseloss_track(virDomainPtr dom, const char *uuid)
{
    char *xml = virDomainGetXMLDesc(dom, 0);
    virResetLastError();
    char *ls = xml ? lease_lockspace(xml) : NULL;
    free(xml);
    pthread_mutex_lock(&lock);
    if (!lockspaces)
        lockspaces = json_object();
    if (ls) /* this run's lease; a run without one forgets a former run's */
        json_object_set_new(lockspaces, uuid, json_string(ls));
    else
        json_object_del(lockspaces, uuid);
    pthread_mutex_unlock(&lock);
    free(ls);
}

const char *vr_leaseloss_reason(const char *uuid, const char *reason)
{
    char ls[64] = "";
    pthread_mutex_lock(&lock);
    const char *v = json_string_value(json_object_get(lockspaces, uuid));
    if (v)
        snprintf(ls, sizeof(ls), "%s", v);
    json_object_del(lockspaces, uuid);
    pthread_mutex_unlock(&lock);
    /* A shutdown, a migration, a save: the VM ended as asked, lease or not. */
    if (!ls[0] || (strcmp(reason, "destroyed") && strcmp(reason, "crashed")))
        return reason;
    const char *state = NULL;
    int host_id = -1;
    bool failed = false;
    vr_error err = {0};
    if (vr_ls_status(ls, &state, &host_id, &failed, &err) < 0) {
        VR_WARN("VM %s ended (%s); its lease's lockspace %s could not be asked about: %s", uuid, reason, ls,
                err.message);
        return reason;
    }
    if (!strcmp(state, "joined"))
        return reason;
    VR_WARN("VM %s ended (%s) while this host's lockspace %s is %s: it lost its lease", uuid, reason, ls, state);
    return "lease_lost";
}
