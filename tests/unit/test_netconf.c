/* Host.setupNetworks validation (src/agent/net/netconf.c) and the NIC spec's
 * network fields (src/common/devspec.c): every refusal names what is wrong
 * and leaves nothing allocated; accepted requests merge into the running
 * configuration the VDSM way (networks not named stay). */
#include "check.h"
#include "devspec.h"
#include "net/netconf.h"

static json_t *running;

/* Parse params (JSON text) against `running`; returns the code (0 = ok). */
static int setup(const char *params, vr_netsetup *s, vr_error *err)
{
    json_t *p = json_loads(params, 0, NULL);
    if (!p) {
        fprintf(stderr, "bad test JSON: %s\n", params);
        return -2;
    }
    vr_error_clear(err);
    int rc = vr_netconf_setup_parse(p, running, false, s, err);
    json_decref(p);
    return rc < 0 ? err->code : 0;
}

static int refused(const char *params, const char *words)
{
    vr_netsetup s;
    vr_error err;
    int code = setup(params, &s, &err);
    if (code == 0) {
        fprintf(stderr, "accepted: %s\n", params);
        vr_netsetup_free(&s);
        return 0;
    }
    CHECK_STR_CONTAINS(err.message, words);
    return code;
}

static int nic(const char *json, vr_nic *n, vr_error *err, json_t **doc)
{
    json_decref(*doc);
    *doc = json_loads(json, 0, NULL);
    vr_error_clear(err);
    return vr_nic_parse(*doc, "nics[0]", n, err);
}

int main(void)
{
    vr_netsetup s;
    vr_error err;
    running = json_loads("{\"red\": {\"nic\": \"eth1\", \"vlan\": 100, \"mtu\": 1500, \"vm\": true,"
                         " \"boot_protocol\": \"none\", \"address\": null, \"gateway\": null},"
                         " \"green\": {\"nic\": \"eth1\", \"vlan\": null, \"mtu\": 1500, \"vm\": true,"
                         " \"boot_protocol\": \"none\", \"address\": null, \"gateway\": null}}", 0, NULL);

    /* A good request: defaults filled, others kept, removal, options. */
    CHECK(setup("{\"networks\": {\"blue\": {\"nic\": \"eth1\", \"vlan\": 200},"
                " \"mgmt2\": {\"nic\": \"eth2\", \"vm\": false, \"boot_protocol\": \"static\","
                " \"address\": \"10.2.0.5/24\", \"gateway\": \"10.2.0.1\"},"
                " \"green\": {\"remove\": true}}, \"connectivity_timeout\": 5}", &s, &err) == 0);
    CHECK(json_object_size(s.target) == 3 && json_object_get(s.target, "red") &&
          !json_object_get(s.target, "green"));
    json_t *blue = json_object_get(s.target, "blue");
    CHECK(json_integer_value(json_object_get(blue, "mtu")) == 1500);
    CHECK(json_is_true(json_object_get(blue, "vm")) && vr_netconf_vlan(blue) == 200);
    CHECK(!strcmp(json_string_value(json_object_get(blue, "boot_protocol")), "none"));
    CHECK(s.check && s.timeout_s == 5 && json_array_size(s.removed) == 1 &&
          json_array_size(s.changed) == 2);
    vr_netsetup_free(&s);
    CHECK(setup("{\"check_connectivity\": false}", &s, &err) == 0);
    CHECK(!s.check && s.timeout_s == VR_NET_DEFAULT_TIMEOUT && json_equal(s.target, running));
    vr_netsetup_free(&s);

    /* Ranges, types, unknown members. */
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 0}}}", "vlan") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 4095}}}", "vlan") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"mtu\": 67}}}", "mtu") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"mtu\": 65536}}}", "mtu") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"mtu\": 1500.0}}}", "mtu") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"x\": 1}}}", "'x'") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"vlan\": 7}}}", "nic") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": 7}}", "networks.n must be an object") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": [], \"x\": 1}", "'x'") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"connectivity_timeout\": 0}", "connectivity_timeout") == VR_ERR_INVALID_PARAMS);
    /* Names: device-sized, boring, not the agent's own prefix. */
    CHECK(refused("{\"networks\": {\"a234567890123456\": {\"nic\": \"eth1\", \"vlan\": 7}}}", "network name") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"re\\\"d\": {\"nic\": \"eth1\", \"vlan\": 7}}}", "network name") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"<b>\": {\"nic\": \"eth1\", \"vlan\": 7}}}", "network name") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"vrv7\": {\"nic\": \"eth1\", \"vlan\": 7}}}", "network name") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"et'h1\", \"vlan\": 7}}}", "nic") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1234567\", \"vlan\": 7}}}", "15 bytes") == VR_ERR_NETWORK);
    CHECK(setup("{\"networks\": {\"n\": {\"nic\": \"eth12345\", \"vlan\": 7}}}", &s, &err) == 0);
    vr_netsetup_free(&s);
    /* Per NIC: one untagged network, each VLAN once - counting those running. */
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\"}}}", "untagged on NIC eth1") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 100}}}", "VLAN 100 on NIC eth1") == VR_ERR_INVALID_PARAMS);
    CHECK(setup("{\"networks\": {\"n\": {\"nic\": \"eth1\"}, \"green\": {\"remove\": true}}}", &s, &err) == 0);
    vr_netsetup_free(&s);
    CHECK(setup("{\"networks\": {\"n\": {\"nic\": \"eth2\", \"vlan\": 100}}}", &s, &err) == 0);
    vr_netsetup_free(&s);
    /* Addresses. */
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"static\"}}}", "address") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"address\": \"10.0.0.1/24\"}}}", "address") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"static\", \"address\": \"10.0.0.1\"}}}", "prefix") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"static\", \"address\": \"10.0.0.1/33\"}}}", "prefix") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"static\", \"address\": \"10.0.0.1/24\", \"gateway\": \"x\"}}}", "gateway") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"bootp\"}}}", "boot_protocol") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"dhcp\", \"address\": \"10.0.0.1/24\"}}}", "address") == VR_ERR_INVALID_PARAMS);
    CHECK(setup("{\"networks\": {\"n\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"dhcp\"}}}", &s, &err) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(s.target, "n"), "boot_protocol")), "dhcp"));
    vr_netsetup_free(&s);
    CHECK(refused("{\"networks\": {\"a\": {\"nic\": \"eth1\", \"vlan\": 7, \"boot_protocol\": \"static\", \"address\": \"10.0.0.1/24\", \"gateway\": \"10.0.0.9\"},"
                  " \"b\": {\"nic\": \"eth1\", \"vlan\": 8, \"boot_protocol\": \"static\", \"address\": \"10.1.0.1/24\", \"gateway\": \"10.1.0.9\"}}}", "one default route") == VR_ERR_INVALID_PARAMS);
    /* Removal. */
    CHECK(refused("{\"networks\": {\"nosuch\": {\"remove\": true}}}", "does not run it") == VR_ERR_NETWORK);
    CHECK(refused("{\"networks\": {\"red\": {\"remove\": true, \"nic\": \"eth1\"}}}", "no other member") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"red\": {\"remove\": 1}}}", "remove") == VR_ERR_INVALID_PARAMS);
    /* Bonds: validated, then refused since this kernel has no bonding module. */
    CHECK(refused("{\"bonds\": {\"bond0\": {\"nics\": [\"eth1\"]}}}", "at least 2 NICs") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"bonds\": {\"bond0\": {\"nics\": [\"eth1\", \"eth1\"]}}}", "twice") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"bonds\": {\"bond0\": {\"nics\": [\"eth1\", \"eth2\"], \"mode\": 7}}}", "mode") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"bonds\": {\"b\\\"0\": {\"nics\": [\"eth1\", \"eth2\"]}}}", "bond name") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"bonds\": {\"bond0\": {\"nics\": [\"eth1\", 2]}}}", "nics[1]") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"bond0\", \"vlan\": 7}}, \"bonds\": {\"bond0\": {\"nics\": [\"eth2\", \"eth3\"], \"mode\": 5}}}", "modes 0, 5 and 6") == VR_ERR_INVALID_PARAMS);
    CHECK(refused("{\"networks\": {\"n\": {\"nic\": \"bond0\", \"vlan\": 7, \"vm\": false}}, \"bonds\": {\"bond0\": {\"nics\": [\"eth2\", \"eth3\"], \"mode\": 5}}}", "no bonding module") == VR_ERR_NETWORK);
    CHECK(refused("{\"bonds\": {\"bond0\": {\"nics\": [\"eth2\", \"eth3\"]}}}", "no bonding module") == VR_ERR_NETWORK);

    /* The NIC spec's network fields. */
    json_t *doc = NULL;
    vr_nic n;
    CHECK(nic("{\"network\": \"red\"}", &n, &err, &doc) == 0 && n.filter && !n.link_down && !n.bridge);
    CHECK(nic("{\"network\": \"red\", \"filter\": false, \"link\": \"down\","
              " \"bandwidth\": {\"inbound\": {\"average\": 1000, \"peak\": 2000, \"burst\": 1024},"
              " \"outbound\": {\"average\": 500}}}", &n, &err, &doc) == 0);
    CHECK(!n.filter && n.link_down && n.has_bw[0] && n.has_bw[1] && n.bw[0][VR_BW_PEAK] == 2000 &&
          n.bw[1][VR_BW_AVERAGE] == 500 && n.bw[1][VR_BW_BURST] == 0);
    CHECK(nic("{\"bridge\": \"br0\"}", &n, &err, &doc) == 0 && !n.filter && !n.network);
    CHECK(nic("{\"bridge\": \"br0\", \"network\": \"red\"}", &n, &err, &doc) < 0);
    CHECK_STR_CONTAINS(err.message, "not both");
    CHECK(nic("{\"network\": \"re<d\"}", &n, &err, &doc) < 0);
    CHECK_STR_CONTAINS(err.message, "nics[0].network");
    CHECK(nic("{\"network\": \"red\", \"link\": \"sideways\"}", &n, &err, &doc) < 0);
    CHECK(nic("{\"network\": \"red\", \"bandwidth\": {\"inbound\": {\"peak\": 5}}}", &n, &err, &doc) < 0);
    CHECK_STR_CONTAINS(err.message, "average");
    CHECK(nic("{\"network\": \"red\", \"bandwidth\": {\"inbound\": {\"average\": 0}}}", &n, &err, &doc) < 0);
    CHECK(nic("{\"network\": \"red\", \"bandwidth\": {\"inbound\": {\"average\": 4294967296}}}", &n, &err, &doc) < 0);
    CHECK(nic("{\"network\": \"red\", \"bandwidth\": {\"sideways\": {}}}", &n, &err, &doc) < 0);
    CHECK(nic("{\"mirror\": true}", &n, &err, &doc) < 0);
    CHECK_STR_CONTAINS(err.message, "mirror needs a network");
    CHECK(nic("{\"network\": \"red\", \"passthrough\": \"yes\"}", &n, &err, &doc) < 0);
    json_decref(doc);
    json_decref(running);
    return CHECK_DONE();
}
