/* `vireo agent call|events`: talk to a vireo-agent directly over mutual TLS
 * with a client certificate (an operator's or the engine's). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>

#include "cli.h"
#include "rpcclient.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vireo agent call [OPTIONS] VERB [JSON-PARAMS]\n"
            "       vireo agent events [OPTIONS]\n"
            "options:\n"
            "  --host HOST   agent address (default 127.0.0.1)\n"
            "  --port PORT   agent port (default 54321)\n"
            "  --pki DIR     directory with ca.crt and the client certificate\n"
            "                (default $VIREO_PKI or /etc/vireo/pki)\n"
            "  --name NAME   client certificate NAME.crt / NAME.key (default engine)\n");
}

int vr_cli_agent(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, 0, 'H'}, {"port", required_argument, 0, 'p'},
        {"pki", required_argument, 0, 'k'},  {"name", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *host = "127.0.0.1", *pki = getenv("VIREO_PKI"), *name = "engine";
    int port = 54321, c;
    if (!pki)
        pki = "/etc/vireo/pki";
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'k': pki = optarg; break;
        case 'n': name = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    bool events = !strcmp(sub, "events");
    if ((!events && strcmp(sub, "call")) || (!events && optind >= argc) ||
        argc - optind > (events ? 0 : 2) || port <= 0 || port > 65535) {
        usage(stderr);
        return 2;
    }
    json_t *params = NULL;
    if (!events && optind + 1 < argc) {
        json_error_t jerr;
        params = json_loads(argv[optind + 1], 0, &jerr);
        if (!json_is_object(params)) {
            fprintf(stderr, "vireo: parameters must be a JSON object: %s\n",
                    params ? "got another JSON type" : jerr.text);
            json_decref(params);
            return 2;
        }
    }
    char ca[1024], cert[1024], key[1024];
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
    snprintf(cert, sizeof(cert), "%s/%s.crt", pki, name);
    snprintf(key, sizeof(key), "%s/%s.key", pki, name);
    gnutls_global_init();
    vr_error err = {0};
    vr_tls_creds *creds = NULL;
    vr_rpc_client *cl = NULL;
    if (vr_tls_creds_new(ca, cert, key, &creds, &err) < 0 ||
        vr_rpc_client_new(creds, host, port, &cl, &err) < 0) {
        fprintf(stderr, "vireo: %s\n", err.message);
        json_decref(params);
        vr_tls_creds_free(creds);
        return 3;
    }
    int rc = 0;
    json_t *result = NULL;
    if (events) {
        if (vr_rpc_call(cl, "Host.subscribe", NULL, &result, &err) == 0) {
            json_decref(result);
            json_t *msg;
            while (vr_rpc_wait_notification(cl, -1, &msg, &err) == 0) {
                char *s = json_dumps(json_object_get(msg, "params"), JSON_COMPACT);
                printf("%s %s\n", json_string_value(json_object_get(msg, "method")), s);
                fflush(stdout);
                free(s);
                json_decref(msg);
            }
        }
        fprintf(stderr, "vireo: %s\n", err.message);
        rc = 3;
    } else if (vr_rpc_call(cl, argv[optind], params, &result, &err) < 0) {
        fprintf(stderr, "vireo: error %d: %s\n", err.code, err.message);
        rc = err.code == VR_ERR_IO ? 3 : 1;
    } else {
        char *s = json_dumps(result, JSON_INDENT(2));
        printf("%s\n", s ? s : "null");
        free(s);
        json_decref(result);
    }
    vr_rpc_client_free(cl);
    vr_tls_creds_free(creds);
    return rc;
}
