/* vireo-ssh-probe: the engine's SSH deploy steps from the command line,
 * for tests and for an administrator checking a host before adding it:
 * connect (showing or checking the host key's fingerprint), log in as
 * root, run the host check. Prints one JSON object. Not installed.
 *
 * --sign --ca-dir DIR --name N --address A: the engine's signer
 * (certsign.h) on a certificate request read from stdin; prints the
 * certificate, or the refusal on stderr (exit 1). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certsign.h"
#include "hostcheck.h"
#include "sshconn.h"

static int sign_request(const char *ca_dir, const char *name, const char *address)
{
    if (!ca_dir || !name || !address) {
        fprintf(stderr, "vireo-ssh-probe: --sign needs --ca-dir, --name and --address\n");
        return 2;
    }
    static char csr[65536];
    size_t n = fread(csr, 1, sizeof(csr) - 1, stdin);
    csr[n] = '\0';
    char ca[1024], key[1024], serial[41], *cert = NULL;
    long long expires = 0;
    snprintf(ca, sizeof(ca), "%s/ca.crt", ca_dir);
    snprintf(key, sizeof(key), "%s/ca.key", ca_dir);
    vr_error err = {0};
    if (vr_csr_sign(ca, key, csr, name, address, 1, &cert, serial, &expires, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    fputs(cert, stdout);
    free(cert);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, 0, 'a'}, {"port", required_argument, 0, 'p'},
        {"password-file", required_argument, 0, 'P'}, {"key", required_argument, 0, 'k'},
        {"fingerprint", required_argument, 0, 'f'}, {"sign", no_argument, 0, 's'},
        {"ca-dir", required_argument, 0, 'c'}, {"name", required_argument, 0, 'n'}, {0, 0, 0, 0}};
    const char *ca_dir = NULL, *name = NULL;
    bool sign = false;
    vr_ssh_target t = {.timeout_s = 10};
    const char *pwfile = NULL;
    char pw[256] = "";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a': t.address = optarg; break;
        case 'p': t.port = atoi(optarg); break;
        case 'P': pwfile = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'f': t.fingerprint = optarg; break;
        case 's': sign = true; break;
        case 'c': ca_dir = optarg; break;
        case 'n': name = optarg; break;
        default:
            fprintf(stderr, "usage: vireo-ssh-probe --address A [--port P] (--password-file F | --key F)"
                            " [--fingerprint SHA256:...]\n");
            return 2;
        }
    }
    if (sign)
        return sign_request(ca_dir, name, t.address);
    if (!t.address || (!pwfile && !t.key_file)) {
        fprintf(stderr, "vireo-ssh-probe: --address and --password-file or --key are required\n");
        return 2;
    }
    if (pwfile) { /* a password never on the command line */
        FILE *f = fopen(pwfile, "r");
        if (!f || !fgets(pw, sizeof(pw), f)) {
            fprintf(stderr, "vireo-ssh-probe: cannot read %s\n", pwfile);
            return 2;
        }
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
        t.password = pw;
    }
    vr_error err = {0};
    vr_ssh *s = NULL;
    char fp[128];
    json_t *report = NULL, *out;
    if (vr_ssh_open(&t, &s, fp, &err) < 0 || vr_host_check(s, t.address, &report, &err) < 0)
        out = json_pack("{s:s, s:i, s:s}", "fingerprint", fp, "code", err.code, "error", err.message);
    else
        out = json_pack("{s:s, s:o}", "fingerprint", fp, "check", report);
    vr_ssh_close(s);
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text ? text : "{}");
    free(text);
    json_decref(out);
    return err.code ? 1 : 0;
}
