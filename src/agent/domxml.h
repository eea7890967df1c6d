/* Domain and device XML for libvirt, written with libxml2's xmlTextWriter
 * so that every value is escaped: nothing is built by pasting strings. */
#pragma once

#include <libxml/xmlwriter.h>

#include "vmspec.h"

/* Run fill(w, a, b) against a fresh in-memory writer and hand back the
 * text in *out (malloc'd; caller frees). */
int vr_domxml_render(int (*fill)(xmlTextWriterPtr, const void *, const void *), const void *a, const void *b,
                     char **out, vr_error *err);

/* Full <domain> document for spec. *out is malloc'd; caller frees. */
int vr_domxml_domain(const vr_vm_spec *spec, const char *console_log,
                     char **out, vr_error *err);

/* A single <disk> / <interface> element for hotplug. */
int vr_domxml_disk(const vr_disk *d, char **out, vr_error *err);
int vr_domxml_nic(const vr_nic *n, char **out, vr_error *err);
