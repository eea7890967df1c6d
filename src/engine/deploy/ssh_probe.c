/* vireo-ssh-probe: the engine's SSH deploy steps from the command line,
 * for tests and for an administrator checking a host before adding it:
 * connect (showing or checking the host key's fingerprint), log in as
 * root, run the host check. Prints one JSON object. Not installed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostcheck.h"
#include "sshconn.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, 0, 'a'}, {"port", required_argument, 0, 'p'},
        {"password-file", required_argument, 0, 'P'}, {"key", required_argument, 0, 'k'},
        {"fingerprint", required_argument, 0, 'f'}, {0, 0, 0, 0}};
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
        default:
            fprintf(stderr, "usage: vireo-ssh-probe --address A [--port P] (--password-file F | --key F)"
                            " [--fingerprint SHA256:...]\n");
            return 2;
        }
    }
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
