/* VM spec parsing and domain XML: defaults, refusals, limits, escaping. */
#include <stdlib.h>

#include "check.h"
#include "dominfo.h"
#include "domxml.h"
#include "vmspec.h"

static vr_agent agent = {.mode = VR_VIRT_TCG, .default_domain_type = "qemu", .max_vcpus = 240};

static int parse(const char *json, vr_vm_spec *s, vr_error *err)
{
    static json_t *keep; /* spec strings borrow from the JSON */
    json_decref(keep);
    keep = json_loads(json, 0, NULL);
    if (!keep) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        return -2;
    }
    vr_error_clear(err);
    return vr_vm_spec_parse(&agent, keep, s, err);
}

int main(void)
{
    vr_vm_spec s;
    vr_error err;
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"boot\":{\"kernel\":\"/k\"}}", &s, &err) == 0);
    CHECK(!strcmp(s.domain_type, "qemu") && s.vcpus == 1 && s.max_vcpus == 1);
    CHECK(s.max_memory_mib == 128 && s.balloon && s.serial_console && strlen(s.uuid) == 36);

    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"domain_type\":\"kvm\",\"boot\":{\"kernel\":\"/k\"}}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_UNSUPPORTED);
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"max_vcpus\":241,\"boot\":{\"kernel\":\"/k\"}}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_LIMIT);
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"bogus\":1}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK_STR_CONTAINS(err.message, "bogus");
    CHECK(parse("{\"name\":\"a<b\",\"memory_mib\":128,\"boot\":{\"kernel\":\"/k\"}}", &s, &err) < 0);
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"disks\":[{\"path\":\"/a\",\"bus\":\"ide\"},"
                "{\"path\":\"/b\",\"bus\":\"ide\"},{\"path\":\"/c\",\"bus\":\"ide\"},"
                "{\"path\":\"/d\",\"bus\":\"ide\"},{\"path\":\"/e\",\"bus\":\"ide\"}]}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_LIMIT);
    /* A given MAC is kept, lowercased (libvirt reports them so). */
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"nics\":[{\"mac\":\"52:54:00:AB:cD:0e\"}],"
                "\"boot\":{\"kernel\":\"/k\"}}", &s, &err) == 0);
    CHECK(s.nnics == 1 && !strcmp(s.nics[0].mac, "52:54:00:ab:cd:0e"));
    /* An unknown I/O limit is refused cleanly (it once read past the end
     * of the limits' name table). */
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"disks\":[{\"path\":\"/a\","
                "\"iotune\":{\"bogus_iops\":1}}]}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK_STR_CONTAINS(err.message, "disks[0].iotune: unknown member 'bogus_iops'");
    CHECK(parse("{\"name\":\"a\",\"memory_mib\":128,\"nics\":[{\"mac\":\"52:54:00:00:00:01\"},"
                "{\"mac\":\"52:54:00:00:00:01\"}],\"boot\":{\"kernel\":\"/k\"}}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_CONFLICT);

    /* Targets per bus, and XML escaping of every user string. */
    CHECK(parse("{\"name\":\"x\",\"memory_mib\":64,\"vcpus\":2,\"max_vcpus\":4,"
                "\"boot\":{\"kernel\":\"/k&<'\\\"\",\"cmdline\":\"a=<b> & 'c'\"},"
                "\"disks\":[{\"path\":\"/a\"},{\"path\":\"/b\",\"bus\":\"sata\"},"
                "{\"path\":\"/c\",\"bus\":\"virtio-scsi\",\"device\":\"cdrom\"},{\"path\":\"/d\"}],"
                "\"nics\":[{\"bridge\":\"br0\",\"model\":\"e1000\"}]}", &s, &err) == 0);
    CHECK(!strcmp(s.disks[0].target, "vda") && !strcmp(s.disks[1].target, "sda"));
    CHECK(!strcmp(s.disks[2].target, "sdb") && !strcmp(s.disks[3].target, "vdb"));
    /* No MAC given: a random unicast one in QEMU's 52:54:00 prefix. */
    CHECK(s.disks[2].readonly && !strncmp(s.nics[0].mac, "52:54:00:", 9) && vr_valid_mac(s.nics[0].mac));
    char *xml = NULL;
    CHECK(vr_domxml_domain(&s, "/var/log/x.log", &xml, &err) == 0);
    CHECK_STR_CONTAINS(xml, "<kernel>/k&amp;&lt;'&quot;</kernel>");
    CHECK_STR_CONTAINS(xml, "<cmdline>a=&lt;b&gt; &amp; 'c'</cmdline>");
    CHECK_STR_CONTAINS(xml, "<vcpu placement=\"static\" current=\"2\">4</vcpu>");
    CHECK_STR_CONTAINS(xml, "cache=\"none\"");
    CHECK_STR_CONTAINS(xml, "<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\"/>");
    CHECK_STR_CONTAINS(xml, "<acpi/>");
    CHECK_STR_CONTAINS(xml, "xmlns:vireo=\"https://vireo.dev/xmlns/vm/1\"");
    /* every VM has the guest agent's channel unless it says otherwise */
    CHECK_STR_CONTAINS(xml, "<target type=\"virtio\" name=\"org.qemu.guest_agent.0\"/>");
    /* 2 virtio disks, nic, balloon, scsi, sata, the guest agent's virtio-serial */
    CHECK(vr_vm_spec_pci_count(&s) == 2 + 1 + 1 + 1 + 1 + 1);
    free(xml);

    /* A VM lease needs the VM's uuid as its key; it renders as <lease>. */
    CHECK(parse("{\"name\":\"l\",\"memory_mib\":64,\"boot\":{\"kernel\":\"/k\"},"
                "\"lease\":{\"domain\":\"5e000000-0000-4000-8000-00000000000a\"}}", &s, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "needs its uuid");
    CHECK(parse("{\"name\":\"l\",\"uuid\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"memory_mib\":64,"
                "\"boot\":{\"kernel\":\"/k\"},\"lease\":{\"domain\":\"5e000000-0000-4000-8000-00000000000a\","
                "\"key\":\"5e000000-0000-4000-8000-0000000000ff\"}}", &s, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "lease.key must be the VM's uuid");
    CHECK(parse("{\"name\":\"l\",\"memory_mib\":64,\"boot\":{\"kernel\":\"/k\"},"
                "\"lease\":{\"domain\":\"d\",\"offset\":0}}", &s, &err) < 0);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK(parse("{\"name\":\"l\",\"uuid\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"memory_mib\":64,"
                "\"boot\":{\"kernel\":\"/k\"}}", &s, &err) == 0);
    s.lease_domain = "5e000000-0000-4000-8000-00000000000a";
    snprintf(s.lease_path, sizeof(s.lease_path), "/sd/vm_leases/x&y.lease");
    CHECK(vr_domxml_domain(&s, "/var/log/x.log", &xml, &err) == 0);
    CHECK_STR_CONTAINS(xml, "<lease>");
    CHECK_STR_CONTAINS(xml, "<lockspace>5e000000-0000-4000-8000-00000000000a</lockspace>");
    CHECK_STR_CONTAINS(xml, "<key>0f0e0d0c-0b0a-4908-8706-050403020100</key>");
    CHECK_STR_CONTAINS(xml, "<target path=\"/sd/vm_leases/x&amp;y.lease\" offset=\"0\"/>");
    free(xml);

    /* An explicit target is honoured even when a disk before it has none. */
    CHECK(parse("{\"name\":\"t\",\"memory_mib\":64,\"disks\":[{\"path\":\"/a\"},"
                "{\"path\":\"/b\",\"target\":\"vda\"}]}", &s, &err) == 0);
    CHECK(!strcmp(s.disks[0].target, "vdb") && !strcmp(s.disks[1].target, "vda"));
    /* The stored spec records the chosen UUID (lowercase), targets and MACs. */
    CHECK(parse("{\"name\":\"t\",\"uuid\":\"0F0E0D0C-0B0A-4908-8706-050403020100\","
                "\"memory_mib\":64,\"disks\":[{\"path\":\"/a\"}],\"nics\":[{}]}", &s, &err) == 0);
    CHECK(!strcmp(s.uuid, "0f0e0d0c-0b0a-4908-8706-050403020100"));
    char *stored = json_dumps(s.json, JSON_SORT_KEYS);
    CHECK_STR_CONTAINS(stored, "\"target\": \"vda\"");
    CHECK_STR_CONTAINS(stored, "\"uuid\": \"0f0e0d0c-0b0a-4908-8706-050403020100\"");
    CHECK_STR_CONTAINS(stored, "\"mac\": \"52:54:00:");
    free(stored);
    /* Addresses: PCI numbers are 0x-hex, drive numbers decimal; members
     * must fit the type. */
    static const char *const bad_addr[] = {
        "{\"type\":\"pci\",\"slot\":\"10\"}", "{\"type\":\"pci\",\"slot\":\"0x5'\"}",
        "{\"type\":\"drive\",\"unit\":\"0x1\"}", "{\"type\":\"pci\",\"unit\":\"0\"}",
        "{\"slot\":\"0x05\"}", "{\"type\":\"usb\"}", "{\"type\":\"pci\",\"slot\":5}"};
    for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json), "{\"name\":\"t\",\"memory_mib\":64,\"disks\":[{\"path\":\"/a\","
                 "\"address\":%s}]}", bad_addr[i]);
        CHECK(parse(json, &s, &err) < 0 && err.code == VR_ERR_INVALID_PARAMS);
    }
    CHECK(parse("{\"name\":\"t\",\"memory_mib\":64,\"disks\":[{\"path\":\"/a\",\"bus\":\"sata\","
                "\"address\":{\"type\":\"drive\",\"controller\":\"0\",\"unit\":\"1\"}}]}", &s, &err) == 0);

    /* A caller's value in an XPath is the bound $v, never pasted: quotes
     * in it cannot widen the expression. */
    static const char dom_xml[] = "<domain><devices><interface><source bridge='red'/><mac address='52:54:00:00:00:01'/>"
                                  "</interface><disk><target dev='vda'/></disk><disk><target dev=\"v'db\"/></disk>"
                                  "</devices></domain>";
    xmlDocPtr doc = xmlReadMemory(dom_xml, (int)strlen(dom_xml), "t.xml", NULL, XML_PARSE_NONET);
    CHECK(doc != NULL);
    CHECK(vr_dom_xpath_count_v(doc, "/domain/devices/interface/source[@bridge=$v]", "red") == 1);
    CHECK(vr_dom_xpath_count_v(doc, "/domain/devices/interface/source[@bridge=$v]", "blue") == 0);
    CHECK(vr_dom_xpath_count_v(doc, "/domain/devices/interface/source[@bridge=$v]", "x' or '1'='1") == 0);
    char *node = NULL;
    CHECK(vr_dom_node_xml(doc, "/domain/devices/disk[target/@dev=$v]", "v'db", &node) == 0);
    CHECK_STR_CONTAINS(node, "v'db");
    free(node);
    node = NULL;
    CHECK(vr_dom_node_xml(doc, "/domain/devices/disk[target/@dev=$v]", "vda'] | //disk[@x='", &node) < 0 && !node);
    xmlFreeDoc(doc);
    return CHECK_DONE();
}
