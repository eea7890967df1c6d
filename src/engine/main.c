/* vireo-engine: the central manager. Opens the database, starts host
 * monitors, resumes accepted jobs and serves the REST API over HTTPS. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "api.h"
#include "apistats.h"
#include "auth.h"
#include "directory.h"
#include "perm.h"
#include "portal.h"
#include "hostmon.h"
#include "poolmon.h"
#include "ovf_store.h"
#include "balancer.h"
#include "storagemon.h"
#include "console.h"
#include "hostview.h"
#include "kdump.h"
#include "i18n.h"
#include "terms.h"
#include "log.h"
#include "macpool.h"
#include "sdnotify.h"
#include "revoke.h"
#include "sshkey.h"
#include "timeouts.h"
#include "transfer.h"
#include "vmstart.h"
#include "statshistory.h"
#include "vmstats.h"

/* Stop in dependency order: no new requests (and so no new jobs or
 * monitors), then the threads that use the database, then the database,
 * then everything else. Returns the exit status. */
static int shut_down(vr_engine *e, vr_http *http, int status)
{
    vr_console_ws_stop_all(3000); /* upgraded connections end before the server */
    vr_http_stop(http);
    vr_hostmon_stop(e);
    int left = vr_engine_wait_threads(e, vr_timeout_shutdown_s(e));
    if (left > 0) {
        /* Closing the database under them would crash: leave it to exit. */
        VR_ERROR("%d engine thread(s) still running after %d s; exiting without closing "
                 "the database", left, vr_timeout_shutdown_s(e));
        return 1;
    }
    vr_hostview_free(e->view);
    vr_vmstats_free(e->vmstats);
    vr_statshist_free(e->statshist);
    free(e->ssh_pubkey);
    vr_tls_creds_free(e->agent_creds);
    vr_db_close(e->db);
    pthread_mutex_destroy(&e->sched_lock);
    gnutls_global_deinit();
    return status;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vireo-engine --pki DIR [options]\n"
            "  --pki DIR                 ca.crt + engine.crt/.key: the engine's identity towards\n"
            "                            agents and (by default) its HTTPS certificate\n"
            "  --listen ADDR:PORT        REST API address (default 0.0.0.0:8443)\n"
            "  --state-dir DIR           database location (default /var/lib/vireo-engine)\n"
            "  --database SPEC           SQLite file path, or postgresql://USER@HOST/DB\n"
            "                            (default STATE-DIR/engine.db)\n"
            "  --https-cert F --https-key F   another certificate for HTTPS\n"
            "  --admin-password-file F   password of admin@internal, read at first start\n"
            "  --poll-ms N               host polling interval (default 3000)\n"
            "  --grace-s N               Connecting -> NonResponsive after N s (default 30)\n"
            "  --token-ttl-s N           bearer token lifetime (default 3600)\n"
            "  --agent-timeout-s N       one agent call (default 10)\n"
            "  --storage-autorecovery-s N  retry inactive storage domains (default 300)\n"
            "  --storage-orphan-grace-s N  sweep leftover ILLEGAL volumes older than N s\n"
            "                            (default 600; docs/storage.md \"Leftovers\")\n"
            "  --balance-period-s N      load balancing round per cluster (default 60; 0: off)\n"
            "  --fence-kdump-listen ADDR:PORT|off  UDP address of the fence_kdump listener\n"
            "                            (default 0.0.0.0:7410; docs/fencing.md \"Kdump\")\n"
            "  --kdump-started-timeout-s N   a fence waits N s for a host's kdump message (default 30)\n"
            "  --kdump-finished-timeout-s N  a dump ended after N s without one (default 60)\n"
            "  --fence-agent-timeout-s N     a fence agent run on a proxy host is stopped and fails\n"
            "                                after N s (default 50, 1-55)\n"
            "  --locale-dir DIR          message catalogs, DIR/ja/LC_MESSAGES/vireo.mo\n"
            "                            (default " VR_LOCALE_DIR ")\n"
            "  --portal-dir DIR          the built portal served at /admin and /vm\n"
            "                            (default " VR_PORTAL_DIR "; docs/portal.md)\n"
            "  --mac-pool FIRST-LAST     NIC addresses to hand out\n"
            "                            (default " VR_MACPOOL_DEFAULT ")\n"
            "  --ca-key FILE             the CA's key, to sign the certificates of hosts deployed\n"
            "                            over SSH (default PKI/ca.key)\n"
            "  --host-packages DIR       vireo-agent_*.deb the host deploy installs (default: none;\n"
            "                            hosts must have vireo-agent installed)\n"
            "  --host-cert-days N        validity of host certificates it signs (default 1825;\n"
            "                            an event warns 30 days before one ends)\n"
            "  --debug\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pki", required_argument, 0, 'p'},         {"listen", required_argument, 0, 'l'},
        {"state-dir", required_argument, 0, 's'},   {"https-cert", required_argument, 0, 'c'},
        {"https-key", required_argument, 0, 'k'},   {"admin-password-file", required_argument, 0, 'a'},
        {"poll-ms", required_argument, 0, 'P'},     {"grace-s", required_argument, 0, 'g'},
        {"token-ttl-s", required_argument, 0, 't'}, {"agent-timeout-s", required_argument, 0, 'T'},
        {"database", required_argument, 0, 'd'},   {"mac-pool", required_argument, 0, 'm'},
        {"debug", no_argument, 0, 'D'},             {"help", no_argument, 0, 'h'},
        {"storage-autorecovery-s", required_argument, 0, 'R'},
        {"storage-orphan-grace-s", required_argument, 0, 'O'},
        {"balance-period-s", required_argument, 0, 'B'},
        {"portal-dir", required_argument, 0, 'w'},
        {"ca-key", required_argument, 0, 'K'},     {"host-packages", required_argument, 0, 'H'},
        {"host-cert-days", required_argument, 0, 'C'},
        {"fence-kdump-listen", required_argument, 0, 'F'},
        {"kdump-started-timeout-s", required_argument, 0, 'S'},
        {"kdump-finished-timeout-s", required_argument, 0, 'E'},
        {"fence-agent-timeout-s", required_argument, 0, 'X'},
        {"locale-dir", required_argument, 0, 'L'},
        {0, 0, 0, 0}};
    const char *pki = NULL, *listen = "0.0.0.0:8443", *state = "/var/lib/vireo-engine";
    const char *hcert = NULL, *hkey = NULL, *admin_pw = NULL, *dbspec = NULL;
    const char *macpool = VR_MACPOOL_DEFAULT, *ca_key = NULL, *host_packages = "";
    const char *locale_dir = VR_LOCALE_DIR;
    bool macpool_given = false;
    vr_engine e = {.poll_ms = 3000, .grace_s = 30, .token_ttl_s = 3600, .agent_timeout_s = 10,
                   .autorecovery_s = 300, .orphan_grace_s = 600, .balance_period_s = 60,
                   .portal_dir = VR_PORTAL_DIR, .crl_generation = 1, .host_cert_days = 1825,
                   .kdump_listen = "0.0.0.0:7410", .kdump_started_s = 30, .kdump_finished_s = 60,
                   .fence_agent_timeout_s = 50};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pki = optarg; break;
        case 'l': listen = optarg; break;
        case 's': state = optarg; break;
        case 'c': hcert = optarg; break;
        case 'k': hkey = optarg; break;
        case 'a': admin_pw = optarg; break;
        case 'P': e.poll_ms = atoi(optarg); break;
        case 'g': e.grace_s = atoi(optarg); break;
        case 't': e.token_ttl_s = atoi(optarg); break;
        case 'T': e.agent_timeout_s = atoi(optarg); break;
        case 'R': e.autorecovery_s = atoi(optarg); break;
        case 'O': e.orphan_grace_s = atoi(optarg); break;
        case 'B': e.balance_period_s = atoi(optarg); break;
        case 'm': macpool = optarg; macpool_given = true; break;
        case 'w': e.portal_dir = optarg; break;
        case 'd': dbspec = optarg; break;
        case 'K': ca_key = optarg; break;
        case 'H': host_packages = optarg; break;
        case 'C': e.host_cert_days = atoi(optarg); break;
        case 'F': snprintf(e.kdump_listen, sizeof(e.kdump_listen), "%s", strcmp(optarg, "off") ? optarg : ""); break;
        case 'S': e.kdump_started_s = atoi(optarg); break;
        case 'E': e.kdump_finished_s = atoi(optarg); break;
        case 'X': e.fence_agent_timeout_s = atoi(optarg); break;
        case 'L': locale_dir = optarg; break;
        case 'D': vr_log_set_level(VR_LOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *colon = strrchr(listen, ':');
    if (!pki || !colon || e.poll_ms < 100 || e.grace_s < 0 || e.token_ttl_s < 1 ||
        e.agent_timeout_s < 1 || e.autorecovery_s < 1 || e.host_cert_days < 1 ||
        e.host_cert_days > 3650 || e.orphan_grace_s < 0 || e.balance_period_s < 0 || e.kdump_started_s < 0 ||
        e.kdump_finished_s < 1 || e.fence_agent_timeout_s < 1 || e.fence_agent_timeout_s > 55 || (*e.kdump_listen && !strchr(e.kdump_listen, ':'))) {
        usage(stderr);
        return 2;
    }
    vr_error perr = {0};
    /* Japanese messages (docs/rest-api.md "Languages"); without the
     * catalog every answer is English. */
    vr_i18n_enable();
    vr_i18n_set_terms(vr_terms, vr_nterms);
    if (vr_i18n_load(locale_dir, &perr) < 0)
        VR_WARN("%s; messages will be in English only", perr.message);
    vr_error_clear(&perr);
    if (vr_timeouts_check(&e, &perr) < 0) { /* an unsafe order of timeouts */
        VR_ERROR("%s", perr.message);
        return 2;
    }
    uint64_t mfirst, mlast;
    if (vr_macpool_parse(macpool, &mfirst, &mlast, &perr) < 0) {
        VR_ERROR("%s", perr.message);
        return 2;
    }
    e.mac_first = mfirst;
    e.mac_last = mlast;
    char addr[64], ca[1024], cert[1024], key[1024], dbpath[1024];
    snprintf(addr, sizeof(addr), "%.*s", (int)(colon - listen), listen);
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
    snprintf(cert, sizeof(cert), "%s/engine.crt", pki);
    snprintf(key, sizeof(key), "%s/engine.key", pki);
    snprintf(e.ca_cert_file, sizeof(e.ca_cert_file), "%s", ca);
    if (ca_key)
        snprintf(e.ca_key_file, sizeof(e.ca_key_file), "%s", ca_key);
    else
        snprintf(e.ca_key_file, sizeof(e.ca_key_file), "%s/ca.key", pki);
    snprintf(e.host_packages, sizeof(e.host_packages), "%s", host_packages);
    vr_directory_init(ca); /* directory certificates chain to the engine's CA */
    snprintf(dbpath, sizeof(dbpath), "%s", dbspec ? dbspec : "");
    if (!dbspec)
        snprintf(dbpath, sizeof(dbpath), "%s/engine.db", state);
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM and SIGINT are blocked in every thread (threads inherit the
     * mask) and taken by sigwait below: a stop requested during start-up
     * waits until start-up is done, and no thread is interrupted. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* Hundreds of monitor threads would each get a malloc arena (up to 8
     * per core), and every arena keeps its own free memory. */
    mallopt(M_ARENA_MAX, 4);
    gnutls_global_init();
    pthread_mutex_init(&e.sched_lock, NULL);
    mkdir(state, 0700);
    /* One engine per state directory: two would monitor the same hosts
     * and resume the same jobs. The lock dies with the process. */
    char lockpath[1100];
    snprintf(lockpath, sizeof(lockpath), "%s/engine.lock", state);
    int lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
        VR_ERROR("another vireo-engine is running on %s (or it cannot be locked)", state);
        return 1;
    }
    vr_error err = {0};
    vr_http *http = NULL;
    vr_http_opts hopts = {.address = addr, .port = atoi(colon + 1), .cert_file = hcert ? hcert : cert,
                          .key_file = hkey ? hkey : key, .max_body = 1 << 20, .threads = 4,
                          .idle_timeout_s = vr_timeout_http_idle_s(&e), .streamer = vr_transfer_stream,
                          .observe = vr_apistats_observe, .park_relevant = vr_events_relevant};
    e.vmstats = vr_vmstats_new();
    e.statshist = vr_statshist_new(VR_STATSHIST_STEP_S);
    /* One engine per database too (two state dirs may point at one). */
    snprintf(e.ssh_key_file, sizeof(e.ssh_key_file), "%s/" VR_SSHKEY_FILE, state);
    if (vr_sshkey_ensure(state, &e.ssh_pubkey, &err) < 0 ||
        vr_db_open_claimed(dbpath, &e.db, &err) < 0 ||
        vr_auth_bootstrap(&e, admin_pw, &err) < 0 || vr_perm_bootstrap(&e, &err) < 0 ||
        vr_macpool_init(&e, macpool_given, &err) < 0 ||
        vr_hostview_new(e.db, &e.view, &err) < 0 ||
        vr_tls_creds_new(ca, cert, key, &e.agent_creds, &err) < 0 ||
        vr_hostmon_start(&e, &err) < 0 || vr_storagemon_start(&e, &err) < 0 || vr_poolmon_start(&e, &err) < 0 ||
        vr_ovfstore_start(&e, &err) < 0 ||
        vr_balancer_start(&e, &err) < 0 || vr_kdump_start(&e, &err) < 0 ||
        vr_http_start(&hopts, api_handle, &e, &http, &err) < 0) {
        VR_ERROR("%s", err.message);
        shut_down(&e, http, 1);
        close(lockfd);
        return 1;
    }
    vr_tls_creds_set_timeout(e.agent_creds, vr_timeout_tls_handshake_ms(&e));
    vr_tls_creds_set_revoked(e.agent_creds, vr_cert_is_revoked, &e); /* a removed host's key is refused */
    vr_jobs_resume(&e);
    /* The backend's name only: a URI may carry a password. */
    VR_INFO("vireo-engine serving https://%s (%s database, schema v%d)", listen,
            vr_db_backend(e.db), vr_db_version(e.db));
    vr_sd_notify("READY=1\nSTATUS=serving the REST API");
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    VR_INFO("stopping (signal %d)", sig);
    vr_sd_notify("STOPPING=1");
    int status = shut_down(&e, http, 0);
    close(lockfd); /* after the database: the next engine may start now */
    if (status == 0)
        VR_INFO("stopped");
    return status;
}
