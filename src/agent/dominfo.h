/* Reading facts back out of live domain XML (device addresses, MACs, disk
 * targets) with libxml2 XPath. */
#pragma once

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "agent.h"

/* Parse the live XML of dom. Caller frees with xmlFreeDoc. */
int vr_dom_doc(virDomainPtr dom, xmlDocPtr *out, vr_error *err);

/* Devices with their assigned addresses, as a JSON array (new reference):
 * [{"kind":"disk","target":"vda","path":...,"alias":...,"address":{...}}...] */
json_t *vr_dom_devices(xmlDocPtr doc);

/* Values of all nodes matched by an XPath (attribute or text) as a JSON
 * array of strings (new reference). */
json_t *vr_dom_xpath_strings(xmlDocPtr doc, const char *xpath);

/* Number of nodes matched by an XPath. */
int vr_dom_xpath_count(xmlDocPtr doc, const char *xpath);

/* The same with v as the XPath variable $v ("...[@bridge=$v]"): a value
 * from a caller is bound, never pasted into the expression. */
int vr_dom_xpath_count_v(xmlDocPtr doc, const char *xpath, const char *v);

/* The spec JSON stored in Vireo's metadata (new reference) or NULL. */
json_t *vr_dom_spec(virDomainPtr dom);

/* Store spec as the running domain's metadata (after a live change), so
 * VM.get, a migration and the next agent see the VM as it now is. */
int vr_dom_set_spec(virDomainPtr dom, json_t *spec, vr_error *err);

/* Whether a MAC (lowercase) is used by any domain on this host. If so and
 * owner is non-NULL, copies that domain's name into owner. */
bool vr_mac_in_use(vr_agent *a, const char *mac, char *owner, size_t owner_len);

/* Serialize the first node matching xpath (e.g. a <disk>; v, when not
 * NULL, is its variable $v) as XML text for detaching it. *out is
 * malloc'd; returns -1 if nothing matched. */
int vr_dom_node_xml(xmlDocPtr doc, const char *xpath, const char *v, char **out);

/* PCI devices of a live domain counted against the per-VM limit. */
int vr_dom_pci_count(xmlDocPtr doc);
