/* Round trips per second: Host.ping to a vireo-agent over mutual TLS, and,
 * side by side, virConnectGetVersion to libvirtd over its UNIX socket (the
 * cheapest RPC libvirt offers). Usage:
 *   rtt_bench agent HOST PORT PKI_DIR N
 *   rtt_bench libvirt URI N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <libvirt/libvirt.h>

#include "rpcclient.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "agent")) {
        char ca[512], cert[512], key[512];
        snprintf(ca, sizeof(ca), "%s/ca.crt", argv[4]);
        snprintf(cert, sizeof(cert), "%s/engine.crt", argv[4]);
        snprintf(key, sizeof(key), "%s/engine.key", argv[4]);
        int n = atoi(argv[5]);
        gnutls_global_init();
        vr_error err = {0};
        vr_tls_creds *creds;
        vr_rpc_client *c;
        if (vr_tls_creds_new(ca, cert, key, &creds, &err) < 0 ||
            vr_rpc_client_new(creds, argv[2], atoi(argv[3]), &c, &err) < 0) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        double t0 = now();
        for (int i = 0; i < n; i++) {
            json_t *r;
            if (vr_rpc_call(c, "Host.ping", NULL, &r, &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            json_decref(r);
        }
        printf("%.0f\n", n / (now() - t0));
        vr_rpc_client_free(c);
        vr_tls_creds_free(creds);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "libvirt")) {
        virConnectPtr conn = virConnectOpen(argv[2]);
        int n = atoi(argv[3]);
        if (!conn)
            return 1;
        double t0 = now();
        for (int i = 0; i < n; i++) {
            unsigned long v;
            if (virConnectGetVersion(conn, &v) < 0)
                return 1;
        }
        printf("%.0f\n", n / (now() - t0));
        virConnectClose(conn);
        return 0;
    }
    fprintf(stderr, "usage: rtt_bench agent HOST PORT PKI N | rtt_bench libvirt URI N\n");
    return 2;
}
