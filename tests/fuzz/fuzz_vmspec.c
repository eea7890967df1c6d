/* VM specs (src/agent/vmspec.c), the params of VM.create, and the domain
 * XML written from an accepted one (domxml.c): a spec is either refused
 * with a reply-fit message, or it respects the limits and its XML is well
 * formed and reads back (dominfo.c) with one device per disk and NIC. The
 * host's virtualization mode varies with the input size. */
#include <libxml/parser.h>
#include <string.h>

#include "dominfo.h"
#include "domxml.h"
#include "fuzz.h"
#include "vmspec.h"

static void quiet(void *ctx, const char *msg, ...) { (void)ctx, (void)msg; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        xmlSetGenericErrorFunc(NULL, quiet); /* the assertion below says it */
        init = true;
    }
    json_t *params = vr_fuzz_load(data, size);
    if (!json_is_object(params)) {
        json_decref(params);
        return 0;
    }
    vr_agent agent = {.mode = (enum vr_virt_mode)(size % 3), .max_vcpus = 240,
                      .default_domain_type = "qemu", .console_log_dir = "/var/log/x"};
    vr_vm_spec *s = calloc(1, sizeof(*s));
    vr_error err = {0};
    FUZZ_ASSERT(s != NULL);
    if (vr_vm_spec_parse(&agent, params, s, &err) < 0) {
        vr_fuzz_check_message(err.message, sizeof(err.message));
        goto out;
    }
    FUZZ_ASSERT(s->ndisks <= VR_MAX_STORAGE && s->nnics <= VR_MAX_NICS);
    FUZZ_ASSERT(s->vcpus <= s->max_vcpus && s->max_vcpus <= agent.max_vcpus);
    FUZZ_ASSERT(s->memory_mib <= s->max_memory_mib && vr_vm_spec_pci_count(s) <= VR_MAX_PCI);
    FUZZ_ASSERT(vr_valid_name(s->name) && vr_valid_uuid(s->uuid));
    char *xml = NULL;
    if (vr_domxml_domain(s, "/var/log/x/console.log", &xml, &err) < 0) {
        vr_fuzz_check_message(err.message, sizeof(err.message));
        goto out;
    }
    /* libvirt would get this document: it must parse. */
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    if (!doc)
        fprintf(stderr, "not well-formed XML:\n%s\n", xml);
    FUZZ_ASSERT(doc != NULL);
    json_t *devs = vr_dom_devices(doc);
    size_t disks = 0, nics = 0, i;
    json_t *d;
    json_array_foreach(devs, i, d) {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        disks += kind && !strcmp(kind, "disk");
        nics += kind && !strcmp(kind, "nic");
    }
    FUZZ_ASSERT(disks == (size_t)s->ndisks && nics == (size_t)s->nnics);
    json_decref(devs);
    xmlFreeDoc(doc);
    free(xml);
out:
    free(s);
    json_decref(params);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    return vr_fuzz_json_mutate(data, size, max_size, seed);
}
