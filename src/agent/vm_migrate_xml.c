#include "vm_migrate_xml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "hyp.h"

/* Move each attribute attr of the nodes xpath selects from root/ to dest/;
 * returns how many moved, -1 when a new path would be too long. */
static int move_paths(xmlDocPtr doc, const char *xpath, const char *attr, const char *root, const char *dest)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression(BAD_CAST xpath, ctx) : NULL;
    int moved = 0;
    size_t rl = strlen(root);
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr && moved >= 0; i++) {
        xmlNodePtr n = o->nodesetval->nodeTab[i];
        xmlChar *p = xmlGetProp(n, BAD_CAST attr);
        if (p && !strncmp((const char *)p, root, rl) && p[rl] == '/') {
            char np[4096];
            if (snprintf(np, sizeof(np), "%s%s", dest, (const char *)p + rl) >= (int)sizeof(np)) {
                moved = -1;
            } else {
                xmlSetProp(n, BAD_CAST attr, BAD_CAST np);
                moved++;
            }
        }
        xmlFree(p);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return moved;
}

/* Point every graphics device listening on an address at addr instead
 * (its listen attribute and its <listen type="address"> children); returns
 * how many changed. */
static int move_listens(xmlDocPtr doc, const char *addr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/graphics/@listen | "
                                                       "/domain/devices/graphics/listen[@type='address']/@address",
                                                       ctx)
                              : NULL;
    int moved = 0;
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlAttrPtr at = (xmlAttrPtr)o->nodesetval->nodeTab[i];
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)at);
        if (v && strcmp((const char *)v, addr)) {
            xmlSetProp(at->parent, at->name, BAD_CAST addr);
            moved++;
        }
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return moved;
}

int vr_migrate_dest_xml(virDomainPtr dom, const char *root, const char *dest_root, const char *display, char **out,
                        vr_error *err)
{
    *out = NULL;
    bool roots = *dest_root && strcmp(root, dest_root);
    if (!roots && !(display && *display))
        return 0;
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE);
    if (!xml)
        return vr_libvirt_error(err, "cannot read the domain XML of %s", virDomainGetName(dom));
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    free(xml);
    if (!doc)
        return vr_error_set(err, VR_ERR_INTERNAL, "libvirt returned unparsable XML for %s", virDomainGetName(dom));
    int a = roots ? move_paths(doc, "/domain/devices/lease/target", "path", root, dest_root) : 0;
    int b = a < 0 ? -1 : roots ? move_paths(doc, "/domain/devices/disk/source", "file", root, dest_root) : 0;
    int c = display && *display ? move_listens(doc, display) : 0;
    int rc = 0;
    if (a < 0 || b < 0) {
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "a path of VM %s would be too long under %s",
                          virDomainGetName(dom), dest_root);
    } else if (a + b + c > 0) {
        xmlChar *mem = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &mem, &len);
        if (!mem || !(*out = strdup((const char *)mem)))
            rc = vr_error_set(err, VR_ERR_INTERNAL, "out of memory writing the destination XML of %s",
                              virDomainGetName(dom));
        xmlFree(mem);
    }
    xmlFreeDoc(doc);
    return rc;
}
