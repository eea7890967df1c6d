#include "hostsetup.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PKI "/etc/vireo/pki"
/* where QEMU reads its TLS files (libvirt's default_tls_x509_cert_dir) */
#define QEMU_PKI "/etc/pki/qemu"

/* The end of a command's output: where a failing command says why. */
static const char *tail(const char *out, size_t n)
{
    size_t len = strlen(out);
    return len > n ? out + len - n : out;
}

/* Run a fixed command with optional stdin; a non-zero exit is an error
 * naming what was done and the output's end. *out (may be NULL) gets the
 * output on success. */
static int run(vr_ssh *s, const char *host, const char *what, const char *cmd, const void *in, size_t inlen,
               char **out, vr_error *err)
{
    char *o = NULL;
    int status = 0;
    if (vr_ssh_run_input(s, cmd, in, inlen, &o, &status, err) < 0)
        return -1;
    if (status != 0) {
        vr_error_set(err, VR_ERR_IO, "%s on %s failed (exit %d): %s", what, host, status, tail(o, 360));
        free(o);
        return -1;
    }
    if (out)
        *out = o;
    else
        free(o);
    return 0;
}

/* The newest (by name) vireo-agent_*.deb in dir, or "" when none. */
static void newest_agent_deb(const char *dir, char *path, size_t len)
{
    path[0] = '\0';
    DIR *d = *dir ? opendir(dir) : NULL;
    if (!d)
        return;
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (!strncmp(de->d_name, "vireo-agent_", 12) && n > 4 && !strcmp(de->d_name + n - 4, ".deb") &&
            n < sizeof(best) && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", de->d_name);
    }
    closedir(d);
    if (*best)
        snprintf(path, len, "%s/%s", dir, best);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && n < (256L << 20) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
            fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    if (f)
        fclose(f);
    return buf;
}

int vr_setup_packages(vr_engine *e, vr_ssh *s, const char *host, json_t *check, char *note, size_t len,
                      vr_error *err)
{
    char deb[1400];
    newest_agent_deb(e->host_packages, deb, sizeof(deb));
    json_t *found = json_object_get(check, "found");
    if (!*deb) {
        static const char *const need[] = {"vireo-agent", "libvirtd", "sanlock", "qemu-img"};
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
            if (!json_is_true(json_object_get(found, need[i])))
                return vr_error_set(err, VR_ERR_UNPROCESSABLE, "%s is not installed on %s and the engine has no"
                                    " vireo-agent package to install (vireo-engine --host-packages DIR)", need[i],
                                    host);
        snprintf(note, len, "vireo-agent, libvirt, QEMU and sanlock are installed on %s", host);
        return 0;
    }
    size_t n = 0;
    char *data = read_file(deb, &n);
    if (!data)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot read the package %s", deb);
    int rc = run(s, host, "copying vireo-agent's package",
                 "set -e; umask 022; mkdir -p /var/cache/vireo-deploy;"
                 " cat > /var/cache/vireo-deploy/vireo-agent.deb.new;"
                 " mv -f /var/cache/vireo-deploy/vireo-agent.deb.new /var/cache/vireo-deploy/vireo-agent.deb",
                 data, n, NULL, err);
    free(data);
    if (rc < 0)
        return -1;
    vr_ssh_set_timeout(s, 900); /* the dependencies come from the host's repositories */
    rc = run(s, host, "installing vireo-agent",
             /* an install cut short before (the engine stopped) is finished first */
             "export DEBIAN_FRONTEND=noninteractive LC_ALL=C; dpkg --configure -a --force-confold >/dev/null 2>&1;"
             " apt-get install -y -q -o Dpkg::Options::=--force-confold /var/cache/vireo-deploy/vireo-agent.deb 2>&1",
             NULL, 0, NULL, err);
    vr_ssh_set_timeout(s, 0);
    if (rc == 0)
        snprintf(note, len, "installed %s on %s", strrchr(deb, '/') + 1, host);
    return rc;
}

/* The request's subject and names: name and address were checked by the
 * API ([A-Za-z0-9._-] and [A-Za-z0-9.:-]), nothing else goes in. */
static char *req_config(const char *name, const char *address)
{
    bool ip = strspn(address, "0123456789.") == strlen(address) || strchr(address, ':');
    char *cfg = NULL;
    if (asprintf(&cfg, "[req]\nprompt = no\ndistinguished_name = dn\nreq_extensions = ext\n[dn]\nCN = %s\n"
                 "[ext]\nsubjectAltName = %s:%s%s%s\n", name, ip ? "IP" : "DNS", address,
                 strcasecmp(name, address) ? ", DNS:" : "", strcasecmp(name, address) ? name : "") < 0)
        return NULL;
    return cfg;
}

int vr_setup_make_key(vr_ssh *s, const char *name, const char *address, char **csr_pem, vr_error *err)
{
    char *cfg = req_config(name, address), *out = NULL;
    if (!cfg)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    /* The key is made here, on the host, and stays there (0600). */
    int rc = run(s, name, "making the host's key and certificate request",
                 "set -e; umask 077; command -v openssl >/dev/null || { echo 'openssl is not installed' >&2; exit 3; };"
                 " mkdir -p " PKI "; cd " PKI "; cat > host.req.cnf;"
                 " openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout host.key.new"
                 " -config host.req.cnf -out host.csr 2>host.req.err || { cat host.req.err >&2; exit 1; };"
                 " rm -f host.req.cnf host.req.err; cat host.csr",
                 cfg, strlen(cfg), &out, err);
    free(cfg);
    if (rc < 0)
        return -1;
    const char *b = strstr(out, "-----BEGIN CERTIFICATE REQUEST-----");
    const char *end = b ? strstr(b, "-----END CERTIFICATE REQUEST-----") : NULL;
    if (!end) {
        vr_error_set(err, VR_ERR_IO, "host %s sent no certificate request: %s", name, tail(out, 200));
        free(out);
        return -1;
    }
    *csr_pem = strndup(b, (size_t)(end - b) + strlen("-----END CERTIFICATE REQUEST-----"));
    free(out);
    return *csr_pem ? 0 : vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
}

int vr_setup_install_cert(vr_ssh *s, const char *host, const char *cert_pem, const char *ca_pem, vr_error *err)
{
    if (run(s, host, "writing the CA certificate",
            "set -e; umask 022; cat > " PKI "/ca.crt.new", ca_pem, strlen(ca_pem), NULL, err) < 0 ||
        run(s, host, "writing the host certificate",
            "set -e; umask 022; cat > " PKI "/host.crt.new", cert_pem, strlen(cert_pem), NULL, err) < 0)
        return -1;
    /* The certificate must be for the key made on the host: compare the
     * public keys, then replace the three files. */
    return run(s, host, "installing the certificate",
               "set -e; cd " PKI "; a=$(openssl x509 -noout -pubkey -in host.crt.new);"
               " b=$(openssl pkey -pubout -in host.key.new); test \"$a\" = \"$b\" ||"
               " { echo 'the signed certificate is not for the key made on the host' >&2; exit 1; };"
               " chmod 600 host.key.new; chmod 644 host.crt.new ca.crt.new;"
               " cmp -s ca.crt.new ca.crt || rm -f crl.pem;" /* another CA's list would not verify */
               " mv -f host.key.new host.key; mv -f host.crt.new host.crt; mv -f ca.crt.new ca.crt; rm -f host.csr",
               NULL, 0, NULL, err);
}

int vr_setup_start_agent(vr_ssh *s, const char *host, int port, vr_error *err)
{
    char conf[512];
    snprintf(conf, sizeof(conf),
             "# Written by vireo-engine's host deploy (docs/operations.md \"Host deploy over SSH\").\n"
             "VIREO_AGENT_OPTS=\"--ca " PKI "/ca.crt --cert " PKI "/host.crt --key " PKI "/host.key"
             " --crl " PKI "/crl.pem --listen 0.0.0.0:%d\"\n", port);
    if (run(s, host, "writing /etc/vireo/agent.conf",
            "set -e; umask 022; mkdir -p /etc/vireo; cat > /etc/vireo/agent.conf.new;"
            " mv -f /etc/vireo/agent.conf.new /etc/vireo/agent.conf", conf, strlen(conf), NULL, err) < 0)
        return -1;
    vr_ssh_set_timeout(s, 120);
    int rc = run(s, host, "starting vireo-agent",
                 "export LC_ALL=C; systemctl daemon-reload; systemctl enable vireo-agent.service 2>&1 || true;"
                 " if systemctl restart vireo-agent.service 2>&1 && sleep 2 && systemctl is-active --quiet"
                 " vireo-agent.service; then echo active; else systemctl status --no-pager vireo-agent.service 2>&1;"
                 " journalctl -u vireo-agent.service -n 15 --no-pager 2>&1; exit 1; fi",
                 NULL, 0, NULL, err);
    vr_ssh_set_timeout(s, 0);
    return rc;
}

/* Replace file with stdin when it differs; prints "changed" or
 * "unchanged". */
#define WRITE_IF_CHANGED(file)                                                                                     \
    "set -e; umask 022; f=" file "; test -d \"${f%/*}\" || { echo \"${f%/*} is missing (is libvirt installed?)\" >&2;" \
    " exit 3; }; cat > \"$f.vireo-new\"; if cmp -s \"$f.vireo-new\" \"$f\"; then rm -f \"$f.vireo-new\";"             \
    " echo unchanged; else mv -f \"$f.vireo-new\" \"$f\"; echo changed; fi"

/* Set the "key = value" lines given on stdin in file, keeping every other
 * line: earlier active settings of those keys go, the given lines are
 * appended after a marker comment (one marker, however often it runs). */
#define SET_KEYS(file)                                                                                              \
    "set -e; umask 022; f=" file "; test -e \"$f\" || { echo \"$f is missing (is libvirt installed?)\" >&2; exit 3; };" \
    " cat > \"$f.vireo-set\"; awk -v m='# Set by vireo-engine host deploy (docs/operations.md):'"                     \
    " 'NR == FNR { k = $1; set[k] = 1; add = add $0 \"\\n\"; next }"                                                 \
    " $0 == m { next } { t = $0; sub(/^[ \\t]+/, \"\", t); split(t, w, /[ \\t=]/) }"                                \
    " substr(t, 1, 1) != \"#\" && (w[1] in set) { next } { print } END { print m; printf \"%s\", add }'"             \
    " \"$f.vireo-set\" \"$f\" > \"$f.vireo-new\"; rm -f \"$f.vireo-set\"; if cmp -s \"$f.vireo-new\" \"$f\"; then"      \
    " rm -f \"$f.vireo-new\"; echo unchanged; else chmod --reference=\"$f\" \"$f.vireo-new\"; mv -f \"$f.vireo-new\""  \
    " \"$f\"; echo changed; fi"

/* Run a WRITE_IF_CHANGED / SET_KEYS command: *changed says which. */
static int write_conf(vr_ssh *s, const char *host, const char *what, const char *cmd, const char *text, bool *changed,
                      vr_error *err)
{
    char *out = NULL;
    if (run(s, host, what, cmd, text, strlen(text), &out, err) < 0)
        return -1;
    *changed = strstr(out, "unchanged") == NULL;
    free(out);
    return 0;
}

/* Every qemu.conf key the deploy sets, in one SET_KEYS (two calls would
 * each move the other's lines after their marker: never "unchanged").
 * QEMU's migration stream is TLS with the files vr_setup_libvirt_tls
 * puts in the directory (read at each migration). */
#define QEMU_CONF_KEYS                                                                                               \
    "lock_manager = \"sanlock\"\nmigrate_tls_x509_cert_dir = \"" QEMU_PKI "\"\nmigrate_tls_x509_verify = 1\n"

int vr_setup_libvirt_sanlock(vr_ssh *s, const char *host, int host_id, char *note, size_t len, vr_error *err)
{
    /* VM leases are given in each domain's XML (docs/availability.md "VM
     * leases"): no automatic disk leases, and disks need none. host_id
     * matters to libvirt only for automatic leases; it is written for
     * whoever reads the file when the engine assigned one (the host joined
     * its data center's storage). */
    char sconf[512], hid[64] = "";
    if (host_id > 0)
        snprintf(hid, sizeof(hid), "host_id = %d\n", host_id);
    snprintf(sconf, sizeof(sconf),
             "# Written by vireo-engine's host deploy (docs/operations.md \"Host deploy over SSH\");\n"
             "# a reinstall writes it again.\nauto_disk_leases = 0\nrequire_lease_for_disks = 0\n%s", hid);
    bool c1 = false, c2 = false;
    if (write_conf(s, host, "writing /etc/libvirt/qemu-sanlock.conf", WRITE_IF_CHANGED("/etc/libvirt/qemu-sanlock.conf"),
                   sconf, &c1, err) < 0 ||
        write_conf(s, host, "setting lock_manager and migration TLS in /etc/libvirt/qemu.conf",
                   SET_KEYS("/etc/libvirt/qemu.conf"), QEMU_CONF_KEYS, &c2, err) < 0)
        return -1;
    vr_ssh_set_timeout(s, 120);
    /* sanlock before libvirtd: the lock manager registers every QEMU with it. */
    int rc = run(s, host, "enabling and starting sanlock",
                 "export LC_ALL=C; systemctl enable sanlock.service 2>&1; systemctl start sanlock.service 2>&1 &&"
                 " sanlock client status >/dev/null 2>&1 || { echo 'sanlock does not answer:';"
                 " systemctl status --no-pager sanlock.service 2>&1; exit 1; }",
                 NULL, 0, NULL, err);
    /* Only when its configuration changed: a restart of libvirtd keeps the
     * guests, but costs the host's agent its connection. try-restart: a
     * libvirtd that does not run (socket activation) reads the files when
     * it starts. */
    if (rc == 0 && (c1 || c2))
        rc = run(s, host, "restarting libvirtd for its new configuration",
                 "export LC_ALL=C; systemctl try-restart libvirtd.service 2>&1", NULL, 0, NULL, err);
    vr_ssh_set_timeout(s, 0);
    char with[48] = "";
    if (host_id > 0)
        snprintf(with, sizeof(with), " with host_id %d", host_id);
    if (rc == 0)
        snprintf(note, len, "libvirt uses the sanlock lock manager%s, sanlock runs%s", with,
                 c1 || c2 ? ", libvirtd restarted" : " (nothing changed)");
    return rc;
}

/* libvirtd's files (it runs as root) are links to the host's key and
 * certificate, so a renewed certificate is followed. QEMU runs as its own
 * user, confined (AppArmor lets it read /etc/pki/qemu, not /etc/vireo):
 * copies in /etc/pki/qemu, the key for its group only, copied again when
 * they differ. Prints "changed" or "unchanged". A libvirt PKI the host
 * had is replaced (as oVirt's host deploy does for VDSM's). */
#define LIBVIRT_TLS_FILES                                                                                           \
    "set -e; umask 022; p=" PKI "; q=" QEMU_PKI "; test -e $p/host.key -a -e $p/host.crt -a -e $p/ca.crt ||"        \
    " { echo \"$p has no key and certificate yet\" >&2; exit 3; };"                                                  \
    " g=$(id -gn libvirt-qemu 2>/dev/null || id -gn qemu 2>/dev/null || echo root); c=unchanged;"                    \
    " install -d -m 755 /etc/pki/CA /etc/pki/libvirt $q; install -d -m 700 /etc/pki/libvirt/private;"                \
    " link() { if [ \"$(readlink \"$2\" 2>/dev/null)\" != \"$1\" ]; then ln -sfn \"$1\" \"$2\"; c=changed; fi; };"        \
    " link $p/ca.crt /etc/pki/CA/cacert.pem; link $p/host.crt /etc/pki/libvirt/servercert.pem;"                       \
    " link $p/host.crt /etc/pki/libvirt/clientcert.pem; link $p/host.key /etc/pki/libvirt/private/serverkey.pem;"    \
    " link $p/host.key /etc/pki/libvirt/private/clientkey.pem;"                                                       \
    " copy() { if [ -L \"$2\" ] || ! cmp -s \"$1\" \"$2\"; then install -m $3 -g $4 \"$1\" \"$2.new\";"              \
    " mv -f \"$2.new\" \"$2\"; c=changed; fi; };"                                                                      \
    " copy $p/ca.crt $q/ca-cert.pem 644 root; copy $p/host.crt $q/server-cert.pem 644 root;"                          \
    " copy $p/host.crt $q/client-cert.pem 644 root; copy $p/host.key $q/server-key.pem 640 \"$g\";"                  \
    " copy $p/host.key $q/client-key.pem 640 \"$g\"; echo $c"

int vr_setup_libvirt_tls(vr_ssh *s, const char *host, bool install, char *note, size_t len, vr_error *err)
{
    bool files = false;
    if (write_conf(s, host, "linking the host's certificate for libvirt and QEMU", LIBVIRT_TLS_FILES, "", &files,
                   err) < 0)
        return -1;
    int rc = 0;
    vr_ssh_set_timeout(s, 120);
    /* Debian's libvirtd is socket-activated: its TLS port is a socket unit
     * of its own, taken when libvirtd (re)starts. QEMU and libvirt's client
     * side read their files at each migration. */
    if (install)
        rc = run(s, host, "enabling libvirt's TLS socket",
                 "export LC_ALL=C; systemctl enable libvirtd-tls.socket 2>&1 && systemctl start libvirtd-tls.socket 2>&1",
                 NULL, 0, NULL, err);
    if (rc == 0 && install && files)
        rc = run(s, host, "restarting libvirtd for its TLS configuration",
                 "export LC_ALL=C; systemctl try-restart libvirtd.service 2>&1", NULL, 0, NULL, err);
    /* A new certificate alone (enroll, the host up): the running libvirtd
     * reads it again online (libvirt >= 6.2), no restart that would cut the
     * agent's connection or a migration under way. Not fatal: failing, it
     * serves the old one until its next restart, which the note says. */
    char reload[200] = "";
    if (rc == 0 && !install && files) {
        char *out = NULL;
        vr_error rerr = {0};
        if (run(s, host, "reloading libvirtd's TLS files", "export LC_ALL=C; virt-admin server-update-tls libvirtd 2>&1",
                NULL, 0, &out, &rerr) == 0)
            snprintf(reload, sizeof(reload), "; libvirtd reloaded them online");
        else
            snprintf(reload, sizeof(reload), "; libvirtd serves its old certificate until it restarts (%.120s)",
                     rerr.message);
        free(out);
    }
    vr_ssh_set_timeout(s, 0);
    if (rc == 0)
        snprintf(note, len, "libvirt and QEMU migrate over TLS with the host's certificate%s%s",
                 files ? "" : " (nothing changed)", reload);
    return rc;
}

int vr_setup_clean(vr_ssh *s, const char *host, char *note, size_t len, vr_error *err)
{
    char *out = NULL;
    vr_ssh_set_timeout(s, 600);
    /* Only the agent's files: on a machine that runs the engine too,
     * /etc/vireo/pki holds the engine's CA (ca.key), which stays. */
    int rc = run(s, host, "cleaning the host",
                 "export LC_ALL=C DEBIAN_FRONTEND=noninteractive; systemctl stop vireo-agent.service 2>&1;"
                 " systemctl disable vireo-agent.service 2>&1; p=/etc/vireo/pki; q=" QEMU_PKI ";"
                 " for x in ca-cert:ca.crt server-cert:host.crt client-cert:host.crt server-key:host.key"
                 " client-key:host.key; do cmp -s \"$p/${x#*:}\" \"$q/${x%%:*}.pem\" && rm -f \"$q/${x%%:*}.pem\"; done;"
                 " cd /etc/vireo/pki 2>/dev/null &&"
                 " { rm -f host.key host.key.new host.crt host.crt.new host.csr host.req.cnf host.req.err crl.pem"
                 " ca.crt.new; test -e ca.key || rm -f ca.crt; cd /; rmdir /etc/vireo/pki 2>/dev/null; };"
                 " for f in /etc/pki/CA/cacert.pem /etc/pki/libvirt/servercert.pem /etc/pki/libvirt/clientcert.pem"
                 " /etc/pki/libvirt/private/serverkey.pem /etc/pki/libvirt/private/clientkey.pem; do"
                 " case \"$(readlink \"$f\" 2>/dev/null)\" in /etc/vireo/pki/*) rm -f \"$f\" ;; esac; done;"
                 " rm -f /etc/vireo/agent.conf /etc/vireo/agent.conf.new; rm -rf /var/cache/vireo-deploy;"
                 " if dpkg-query -W vireo-agent >/dev/null 2>&1; then apt-get purge -y -q vireo-agent 2>&1 ||"
                 " exit 1; fi; rmdir /etc/vireo 2>/dev/null;"
                 " if systemctl is-active --quiet vireo-agent.service; then echo 'vireo-agent still runs' >&2; exit 1; fi;"
                 " if test -e /etc/vireo/pki/host.key; then echo '/etc/vireo/pki/host.key is still there' >&2; exit 1; fi;"
                 " echo cleaned",
                 NULL, 0, &out, err);
    vr_ssh_set_timeout(s, 0);
    if (rc == 0)
        snprintf(note, len, "vireo-agent stopped and purged, its key, certificate and configuration removed from %s"
                 " (libvirt, QEMU and sanlock stay installed)", host);
    free(out);
    return rc;
}
