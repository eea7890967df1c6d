/* vireo-agent: the per-host daemon. Parses options, connects to libvirt,
 * starts the event thread and serves JSON-RPC over mutual TLS. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <libxml/parser.h>

#include "events.h"
#include "hyp.h"
#include "host_crl.h"
#include "i18n.h"
#include "log.h"
#include "long_jobs.h"
#include "sdnotify.h"
#include "watchdog.h"
#include "server.h"
#include "tls.h"
#include "vm_blockcopy.h"
#include "vm_guestinfo.h"
#include "vm_health.h"
#include "storage/enospc.h"
#include "storage/volume.h"
#include "storage/sdmonitor.h"
#include "vm_jobs.h"
#include "net/dhcp.h"
#include "net/netstate.h"

/* How long a stopping agent waits for client calls in progress. A call
 * stuck in libvirt on a hung VM would never end: the agent exits without
 * it, leaving everything that call uses in place (see stop()). */
#define SHUTDOWN_GRACE_MS 5000

/* Static, not on main's stack: threads that outlive main's return (a call
 * stuck in libvirt while exit() runs) must still find valid memory. */
static vr_agent agent = {.uri = "qemu:///system"};
static vr_server *the_server;

static void on_signal(int sig)
{
    if (the_server)
        vr_server_stop(the_server);
}

/* Orderly stop, in the order that lets each step assume nothing above it
 * still runs: no new connections or jobs; no notifier threads; connections
 * cut and their threads ended (or, when stuck in libvirt, left alone with
 * everything they use); then free. VMs are never touched. */
static void stop(vr_tls_creds *creds)
{
    VR_INFO("stopping; running VMs are left running");
    vr_sd_notify("STOPPING=1");
    vr_watchdog_stop(); /* stopping takes up to TimeoutStopSec, not WatchdogSec */
    vr_vm_jobs_stop();
    vr_health_stop();
    vr_guestinfo_stop();
    vr_enospc_stop();
    vr_sd_monitor_stop();
    vr_net_stop(); /* an unconfirmed setup is rolled back at the next start */
    int busy = vr_server_shutdown(the_server, SHUTDOWN_GRACE_MS);
    vr_events_stop();
    vr_long_jobs_stop(); /* shutdown watchers may outlive us, silently */
    vr_blockcopies_stop(5000); /* before libvirt goes (vr_hyp_close) */
    vr_volume_copies_stop(5000);
    vr_volume_wipes_stop(5000);
    if (busy == 0) {
        vr_server_free(the_server);
        the_server = NULL;
        vr_hyp_close(&agent);
        vr_tls_creds_free(creds);
    }
    VR_INFO("stopped");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vireo-agent --ca FILE --cert FILE --key FILE [options]\n"
            "  --listen ADDR:PORT   address to serve on (default 0.0.0.0:54321)\n"
            "  --uri URI            libvirt URI (default qemu:///system)\n"
            "  --max-frame BYTES    largest accepted request (default 1048576)\n"
            "  --max-clients N      concurrent connections (default 64)\n"
            "  --console-dir DIR    where virtlogd keeps console logs\n"
            "                       (default /var/log/libvirt/qemu)\n"
            "  --storage-root DIR   where storage is mounted (default /run/vireo/storage)\n"
            "  --crl FILE           revoked certificates (PEM CRL of the CA), kept up to date by the\n"
            "                       engine (Host.setRevocationList); default: none until it sends one\n"
            "  --net-state FILE     last good network configuration (default\n"
            "                       " VR_NET_STATE_DEFAULT ")\n"
            "  --run-dir DIR        runtime files: DHCP clients' pid, lease and log files in\n"
            "                       DIR/dhcp (default /run/vireo)\n"
            "  --job-dir DIR        records of long jobs, read back after a restart\n"
            "                       (default /var/lib/vireo/jobs)\n"
            "  --sanlock-io-timeout SECS  sanlock I/O timeout of joined lockspaces (default 10;\n"
            "                       a dead host's leases expire after 8x this + 60 s)\n"
            "  --io-timeout SECS    TLS handshake and stalled read/write limit\n"
            "                       (default 10; a begun frame must be complete in 3x)\n"
            "  --migration-transport tls|tcp  how libvirtd reaches a migration's destination\n"
            "                       (default tls: qemu+tls://; tcp: qemu+tcp://, test hosts)\n"
            "  --max-outgoing-migrations N  concurrent live migrations sent (default 2, or\n"
            "                       the number of CPUs if fewer)\n"
            "  --monitor-timeout SECS  a VM whose QEMU leaves a monitor command\n"
            "                       unanswered this long is not responding (default 15)\n"
            "  --debug              verbose logging\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, 0, 'l'},  {"uri", required_argument, 0, 'u'},
        {"ca", required_argument, 0, 'a'},      {"cert", required_argument, 0, 'c'},
        {"key", required_argument, 0, 'k'},     {"max-frame", required_argument, 0, 'f'},
        {"max-clients", required_argument, 0, 'm'}, {"console-dir", required_argument, 0, 'd'},
        {"io-timeout", required_argument, 0, 't'}, {"debug", no_argument, 0, 'D'},
        {"monitor-timeout", required_argument, 0, 'M'}, {"help", no_argument, 0, 'h'},
        {"storage-root", required_argument, 0, 'S'},
        {"net-state", required_argument, 0, 'N'},
        {"sanlock-io-timeout", required_argument, 0, 'L'},
        {"migration-transport", required_argument, 0, 'T'},
        {"max-outgoing-migrations", required_argument, 0, 'O'},
        {"job-dir", required_argument, 0, 'J'},
        {"run-dir", required_argument, 0, 'R'},
        {"crl", required_argument, 0, 'C'},
        {0, 0, 0, 0}};
    vr_i18n_enable(); /* errors keep their id and arguments for the engine (vr_rpc_error) */
    vr_server_opts sopts = {.listen = "0.0.0.0:54321", .max_frame = VR_FRAME_DEFAULT_MAX,
                            .max_clients = 64, .io_timeout_s = 10};
    const char *ca = NULL, *cert = NULL, *key = NULL, *crl = NULL;
    int monitor_timeout_s = 15;
    const char *net_state = VR_NET_STATE_DEFAULT;
    const char *job_dir = "/var/lib/vireo/jobs";
    const char *run_dir = "/run/vireo";
    snprintf(agent.console_log_dir, sizeof(agent.console_log_dir), "/var/log/libvirt/qemu");
    snprintf(agent.storage_root, sizeof(agent.storage_root), "/run/vireo/storage");
    agent.sanlock_io_timeout = 10;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': sopts.listen = optarg; break;
        case 'u': agent.uri = optarg; break;
        case 'a': ca = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'C': crl = optarg; break;
        case 'f': sopts.max_frame = strtoul(optarg, NULL, 10); break;
        case 'm': sopts.max_clients = atoi(optarg); break;
        case 'd': snprintf(agent.console_log_dir, sizeof(agent.console_log_dir), "%s", optarg); break;
        case 'L':
            agent.sanlock_io_timeout = atoi(optarg);
            if (agent.sanlock_io_timeout < 1 || agent.sanlock_io_timeout > 60) {
                fprintf(stderr, "vireo-agent: --sanlock-io-timeout must be 1..60\n");
                return 2;
            }
            break;
        case 'N':
        case 'J':
        case 'R':
            if (optarg[0] != '/' || strlen(optarg) >= 500) {
                fprintf(stderr, "vireo-agent: --%s must be an absolute path under 500 bytes\n",
                        c == 'N' ? "net-state" : c == 'R' ? "run-dir" : "job-dir");
                return 2;
            }
            *(c == 'N' ? &net_state : c == 'R' ? &run_dir : &job_dir) = optarg;
            break;
        case 'S':
            if (optarg[0] != '/' || strlen(optarg) >= sizeof(agent.storage_root) - 64) {
                fprintf(stderr, "vireo-agent: --storage-root must be an absolute path under 190 bytes\n");
                return 2;
            }
            snprintf(agent.storage_root, sizeof(agent.storage_root), "%s", optarg);
            break;
        case 't': sopts.io_timeout_s = atoi(optarg); break;
        case 'T':
            if (strcmp(optarg, "tls") && strcmp(optarg, "tcp")) {
                fprintf(stderr, "vireo-agent: --migration-transport must be tls or tcp\n");
                return 2;
            }
            agent.migration_tcp = !strcmp(optarg, "tcp");
            break;
        case 'O':
            agent.max_outgoing_migrations = atoi(optarg);
            if (agent.max_outgoing_migrations < 1 || agent.max_outgoing_migrations > 64) {
                fprintf(stderr, "vireo-agent: --max-outgoing-migrations must be 1..64\n");
                return 2;
            }
            break;
        case 'M': monitor_timeout_s = atoi(optarg); break;
        case 'D': vr_log_set_level(VR_LOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!ca || !cert || !key || sopts.max_frame < 64 || sopts.max_clients < 1 ||
        sopts.io_timeout_s < 1 || monitor_timeout_s < 1) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    xmlInitParser();
    gnutls_global_init();

    vr_error err = {0};
    vr_tls_creds *creds = NULL;
    if (vr_agent_crl_init(ca, crl, &err) < 0 || vr_tls_creds_new(ca, cert, key, &creds, &err) < 0) {
        VR_ERROR("%s", err.message);
        return 1;
    }
    vr_tls_creds_set_revoked(creds, vr_agent_crl_revoked, NULL); /* docs/pki.md "Revocation" */
    if (vr_events_init(&err) < 0 ||
        vr_hyp_open(&agent, &err) < 0 ||
        vr_server_new(&agent, creds, &sopts, &the_server, &err) < 0) {
        VR_ERROR("%s", err.message);
        return 1;
    }
    agent.server = the_server;
    /* After the listen succeeded (no other agent runs here any more), before
     * serving: jobs a previous agent left running are failed as
     * interrupted, so whoever follows them learns it. */
    if (vr_long_jobs_restore(&agent, job_dir, &err) < 0) {
        VR_ERROR("%s", err.message);
        return 1;
    }
    vr_tls_creds_set_timeout(creds, (unsigned)sopts.io_timeout_s * 1000);
    vr_dhcp_init(run_dir); /* before vr_net_start restores dhcp networks */
    if (vr_events_start(&agent, &err) < 0 || vr_health_start(&agent, monitor_timeout_s, &err) < 0 ||
        vr_guestinfo_start(&agent, &err) < 0 ||
        vr_enospc_start(&agent, &err) < 0 || vr_sd_monitor_start(&agent, &err) < 0 ||
        vr_net_start(&agent, net_state, &err) < 0) {
        VR_ERROR("%s", err.message);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Listening since vr_server_new, everything started: a unit ordered
     * after the agent may count on it answering. */
    vr_sd_notify("READY=1\nSTATUS=serving JSON-RPC over TLS");
    /* Alive means: accepting connections and running libvirt's event loop
     * (VM events, ENOSPC pauses). A hung libvirt call blocks only its VM's
     * job, so it is not counted; VMs never notice an agent restart. */
    static const char *const loops[] = {"connection accept loop", "libvirt event loop"};
    long long wd_ms;
    if (vr_watchdog_start(2, loops, &wd_ms, &err) < 0) {
        VR_ERROR("%s", err.message);
        return 1;
    }
    if (wd_ms)
        VR_INFO("systemd watchdog: a ping every %lld ms while both loops run", wd_ms / 2);
    vr_server_run(the_server);
    stop(creds);
    return 0;
}
