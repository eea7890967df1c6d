#include "dominfo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/xpathInternals.h>

int vr_dom_doc(virDomainPtr dom, xmlDocPtr *out, vr_error *err)
{
    char *xml = virDomainGetXMLDesc(dom, 0);
    if (!xml)
        return vr_libvirt_error(err, "cannot read domain XML of %s", virDomainGetName(dom));
    *out = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    free(xml);
    if (!*out)
        return vr_error_set(err, VR_ERR_INTERNAL, "libvirt returned unparsable XML for %s",
                            virDomainGetName(dom));
    return 0;
}

/* xpath evaluated at node (NULL: the root); v, when given, is the XPath
 * variable $v, so a caller's value is never pasted into the expression. */
static xmlXPathObjectPtr eval_v(xmlDocPtr doc, xmlNodePtr node, const char *xpath, const char *v)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (!ctx)
        return NULL;
    ctx->node = node ? node : xmlDocGetRootElement(doc);
    xmlXPathObjectPtr o = NULL;
    if (!v || xmlXPathRegisterVariable(ctx, BAD_CAST "v", xmlXPathNewString(BAD_CAST v)) == 0)
        o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    xmlXPathFreeContext(ctx);
    return o;
}

static xmlXPathObjectPtr eval(xmlDocPtr doc, xmlNodePtr node, const char *xpath)
{
    return eval_v(doc, node, xpath, NULL);
}

/* String value of xpath relative to node; malloc'd or NULL if empty. */
static char *str_at(xmlDocPtr doc, xmlNodePtr node, const char *xpath)
{
    char expr[256];
    snprintf(expr, sizeof(expr), "string(%s)", xpath);
    xmlXPathObjectPtr o = eval(doc, node, expr);
    char *s = NULL;
    if (o && o->stringval && *o->stringval)
        s = strdup((const char *)o->stringval);
    xmlXPathFreeObject(o);
    return s;
}

static void set_str(json_t *obj, const char *key, char *val /* freed */)
{
    if (val)
        json_object_set_new(obj, key, json_string(val));
    free(val);
}

static json_t *address_json(xmlNodePtr dev)
{
    for (xmlNodePtr c = dev->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "address"))
            continue;
        json_t *addr = json_object();
        for (xmlAttrPtr at = c->properties; at; at = at->next) {
            xmlChar *v = xmlGetProp(c, at->name);
            json_object_set_new(addr, (const char *)at->name, json_string((const char *)v));
            xmlFree(v);
        }
        return addr;
    }
    return NULL;
}

json_t *vr_dom_devices(xmlDocPtr doc)
{
    json_t *out = json_array();
    xmlXPathObjectPtr o = eval(doc, NULL, "/domain/devices/*");
    if (!o || !o->nodesetval) {
        xmlXPathFreeObject(o);
        return out;
    }
    for (int i = 0; i < o->nodesetval->nodeNr; i++) {
        xmlNodePtr n = o->nodesetval->nodeTab[i];
        const char *name = (const char *)n->name;
        json_t *addr = address_json(n);
        if (!addr && strcmp(name, "disk") && strcmp(name, "interface") && strcmp(name, "graphics"))
            continue; /* only devices with a place on a bus matter here */
        json_t *d = json_object();
        if (!strcmp(name, "disk")) {
            json_object_set_new(d, "kind", json_string("disk"));
            set_str(d, "target", str_at(doc, n, "target/@dev"));
            set_str(d, "bus", str_at(doc, n, "target/@bus"));
            set_str(d, "path", str_at(doc, n, "source/@file"));
            set_str(d, "device", str_at(doc, n, "@device"));
        } else if (!strcmp(name, "interface")) {
            json_object_set_new(d, "kind", json_string("nic"));
            set_str(d, "mac", str_at(doc, n, "mac/@address"));
            set_str(d, "model", str_at(doc, n, "model/@type"));
            set_str(d, "bridge", str_at(doc, n, "source/@bridge"));
            set_str(d, "ifname", str_at(doc, n, "target/@dev"));
        } else if (!strcmp(name, "graphics")) {
            json_object_set_new(d, "kind", json_string("graphics"));
            set_str(d, "type", str_at(doc, n, "@type"));
            set_str(d, "port", str_at(doc, n, "@port"));
            set_str(d, "listen", str_at(doc, n, "@listen"));
        } else {
            json_object_set_new(d, "kind", json_string(name));
            set_str(d, "type", str_at(doc, n, "@type"));
            set_str(d, "model", str_at(doc, n, "@model"));
            set_str(d, "index", str_at(doc, n, "@index"));
        }
        set_str(d, "alias", str_at(doc, n, "alias/@name"));
        if (addr)
            json_object_set_new(d, "address", addr);
        json_array_append_new(out, d);
    }
    xmlXPathFreeObject(o);
    return out;
}

json_t *vr_dom_xpath_strings(xmlDocPtr doc, const char *xpath)
{
    json_t *out = json_array();
    xmlXPathObjectPtr o = eval(doc, NULL, xpath);
    if (o && o->nodesetval) {
        for (int i = 0; i < o->nodesetval->nodeNr; i++) {
            xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
            if (v)
                json_array_append_new(out, json_string((const char *)v));
            xmlFree(v);
        }
    }
    xmlXPathFreeObject(o);
    return out;
}

int vr_dom_xpath_count(xmlDocPtr doc, const char *xpath)
{
    return vr_dom_xpath_count_v(doc, xpath, NULL);
}

int vr_dom_xpath_count_v(xmlDocPtr doc, const char *xpath, const char *v)
{
    xmlXPathObjectPtr o = eval_v(doc, NULL, xpath, v);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

json_t *vr_dom_spec(virDomainPtr dom)
{
    char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VR_META_NS,
                                      VIR_DOMAIN_AFFECT_LIVE);
    if (!meta) {
        virResetLastError();
        return NULL;
    }
    json_t *spec = NULL;
    xmlDocPtr doc = xmlReadMemory(meta, (int)strlen(meta), "meta.xml", NULL, XML_PARSE_NONET);
    free(meta);
    if (doc) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST "spec")) {
                xmlChar *text = xmlNodeGetContent(c);
                if (text)
                    spec = json_loads((const char *)text, 0, NULL);
                xmlFree(text);
            }
        }
        xmlFreeDoc(doc);
    }
    return spec;
}

int vr_dom_set_spec(virDomainPtr dom, json_t *spec, vr_error *err)
{
    char *json = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    xmlDocPtr doc = json ? xmlNewDoc(BAD_CAST "1.0") : NULL;
    xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "vm") : NULL;
    xmlBufferPtr buf = root ? xmlBufferCreate() : NULL;
    int rc = -1;
    if (buf) {
        xmlDocSetRootElement(doc, root);
        /* a text child: the writer escapes the JSON */
        if (xmlNewTextChild(root, NULL, BAD_CAST "spec", BAD_CAST json) && xmlNodeDump(buf, doc, root, 0, 0) > 0)
            rc = 0;
    }
    if (rc < 0)
        vr_error_set(err, VR_ERR_INTERNAL, "cannot build the metadata of %s", virDomainGetName(dom));
    else if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, (const char *)xmlBufferContent(buf),
                                  VR_META_PREFIX, VR_META_NS, VIR_DOMAIN_AFFECT_LIVE) < 0)
        rc = vr_libvirt_error(err, "cannot store the spec of %s", virDomainGetName(dom));
    if (buf)
        xmlBufferFree(buf);
    if (doc)
        xmlFreeDoc(doc);
    free(json);
    return rc;
}

bool vr_mac_in_use(vr_agent *a, const char *mac, char *owner, size_t owner_len)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(a->conn, &doms, 0);
    bool found = false;
    for (int i = 0; i < n; i++) {
        xmlDocPtr doc;
        if (!found && vr_dom_doc(doms[i], &doc, NULL) == 0) {
            json_t *macs = vr_dom_xpath_strings(doc, "/domain/devices/interface/mac/@address");
            size_t j;
            json_t *m;
            json_array_foreach(macs, j, m) {
                if (!strcasecmp(json_string_value(m), mac)) {
                    found = true;
                    if (owner)
                        snprintf(owner, owner_len, "%s", virDomainGetName(doms[i]));
                }
            }
            json_decref(macs);
            xmlFreeDoc(doc);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return found;
}

int vr_dom_node_xml(xmlDocPtr doc, const char *xpath, const char *v, char **out)
{
    xmlXPathObjectPtr o = eval_v(doc, NULL, xpath, v);
    int rc = -1;
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlBufferPtr buf = xmlBufferCreate();
        if (buf && xmlNodeDump(buf, doc, o->nodesetval->nodeTab[0], 0, 0) >= 0) {
            *out = strdup((const char *)xmlBufferContent(buf));
            rc = *out ? 0 : -1;
        }
        if (buf)
            xmlBufferFree(buf);
    }
    xmlXPathFreeObject(o);
    return rc;
}

int vr_dom_pci_count(xmlDocPtr doc)
{
    /* Built-in PCI controllers sit in reserved slots; everything else that
     * has a PCI address on the root bus uses one of the 31 free slots. */
    return vr_dom_xpath_count(doc, "/domain/devices/*[not(self::controller)]/address[@type='pci']");
}
