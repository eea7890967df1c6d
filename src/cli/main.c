/* vireo: the command-line client. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "affinity_cmd.h"
#include "quota_cmd.h"
#include "network_cmd.h"
#include "vm_clone_cmd.h"
#include "export_cmd.h"
#include "people_cmd.h"
#include "host_deploy_cmd.h"
#include "host_fence_cmd.h"
#include "vm_console_cmd.h"
#include "vm_migrate_cmd.h"
#include "vm_placement_cmd.h"
#include "directory_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo COMMAND ...\n"
               "engine (HTTPS REST API, after 'vireo login'):\n"
               "  login [--url URL] [--user USER] [--password-file FILE] [--ca FILE]\n"
               "  logout\n"
               "  KIND list [--search EXPR] [--sortby [-]FIELD] [--max N] [--page N] [--json]\n"
               "  KIND show NAME-or-ID [--json]\n"
               "  KIND create --name NAME [OPTIONS] [--json]\n"
               "  KIND update NAME-or-ID [--name NEW] [create OPTIONS] [--json]\n"
               "  KIND delete NAME-or-ID\n"
               "      KIND: datacenter, cluster, host, vm (job: list, show and cancel only)\n"
               "  vm start|stop|shutdown|reboot|pause|resume|suspend NAME-or-ID [--wait [--timeout S]] [--json]\n"
               "  vm nic-list|nic-add|nic-update|nic-remove|disk-list|disk-add|disk-remove|disk-iotune NAME-or-ID ...\n"
               "  vm set-vcpus NAME-or-ID N | vm balloon NAME-or-ID MIB [--wait] [--json]\n"
               "  vm migrate NAME-or-ID [--host HOST] [--bandwidth-mibps N] [--wait [--timeout S]] [--json]\n"
               "  vm placement NAME-or-ID [--host HOST] [--json]\n"
               "  vm clone NAME-or-ID --name NAME [--snapshot SNAPSHOT-ID] [--description TEXT] [--wait [--timeout S]]\n"
               "  vm|template export NAME-or-ID --domain EXPORT-DOMAIN [--exclusive] [--wait [--timeout S]]\n"
               "  sd vms|templates EXPORT-DOMAIN | sd import-vm|import-template EXPORT-DOMAIN NAME --cluster C --domain DATA\n"
               "      [--clone] [--name N]\n"
               "  sd vms|templates DATA-DOMAIN --unregistered | sd register-vm|register-template DATA-DOMAIN NAME --cluster C\n"
               "      [--reassign-bad-macs]\n"
               "  vm console NAME-or-ID   the serial console in this terminal (Ctrl-] ends it)\n"
               "  job cancel ID [--json]\n"
               "  host activate|deactivate NAME-or-ID [--wait [--timeout S]] [--json]\n"
               "  host fence NAME-or-ID status|start|stop|restart [--wait [--timeout S]] [--json]\n"
               "  host remove NAME-or-ID [--clean [--force]] [--wait [--timeout S]] [--json]\n"
               "  sd list|show|create|attach|activate|maintenance|detach|remove ...   storage domains\n"
               "  disk list|show|create|delete|copy|move|extend|resolve ...   disks ('vireo sd --help', 'vireo disk --help')\n"
               "  snapshot list|show|create|delete|preview|commit|undo|restore ...   VM snapshots\n"
               "  template list|show|create|delete|createvm ...   templates, VMs from them\n"
               "  pool list|show|create|update|delete|allocate|release ...   VM pools\n"
               "  network list|show|create|update|delete|attach|detach|cluster-list|host-nics|setup ...   networks\n"
               "  vnicprofile list|show|create|delete ...   vNIC profiles ('vireo network --help')\n"
               "  macpool list|show|create|update|delete ...   MAC pools ('vireo network --help')\n"
               "  affinitygroup list|show|create|update|delete ...   VMs that run together or apart\n"
               "  quota list|show|create|update|delete ...   a data center's quotas ('vireo quota --help')\n"
               "  user list|show|create|update|delete ...   users (NAME@internal; uid@PROFILE from a directory)\n"
               "  group list|show|create|delete|members|add-member|remove-member ...   groups\n"
               "  role list|show|create|update|delete ...   roles made of action groups\n"
               "  permission list|show|add|delete ...   a role for a user or group on an object\n"
               "  directory list|show|create|update|delete ...   LDAP directory profiles (uid@PROFILE logins)\n"
               "  directory search PROFILE TEXT [--groups] [--max N] [--json]   a directory's users or groups\n"
               "  events [--max N] [--page N] [--search EXPR] [--sortby [-]FIELD] [--json]\n"
               "  events --follow [--max N] [--search EXPR] [--json]   new events as they come\n"
               "  run 'vireo KIND --help' for the create options of a kind (vm: and its device verbs)\n"
               "agent (direct, mutual TLS):\n"
               "  agent call [OPTIONS] VERB [JSON]   call a vireo-agent verb\n"
               "  agent events [OPTIONS]             print agent event notifications\n"
               "  run 'vireo agent --help' for the connection options\n"
               "exit status: 0 ok, 1 refused by the server, 2 usage error, 3 server unreachable\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "agent"))
        return vr_cli_agent(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "vm") && !strcmp(argv[2], "migrate"))
        return vr_vm_migrate_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "directory"))
        return vr_directory_cmd(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "vm") && !strcmp(argv[2], "placement"))
        return vr_vm_placement_cmd(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "vm") && !strcmp(argv[2], "console"))
        return vr_vm_console_cmd(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "vm") && !strcmp(argv[2], "clone"))
        return vr_vm_clone_cmd(argc - 1, argv + 1);
    int xrc = argc > 2 ? vr_export_cmd(argc - 1, argv + 1) : -1; /* vm|template export, sd vms|templates|import-*|register-* */
    if (xrc >= 0)
        return xrc;
    if (argc > 2 && !strcmp(argv[1], "host") && !strcmp(argv[2], "fence"))
        return vr_host_fence_cmd(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "host") && !strcmp(argv[2], "remove"))
        return vr_host_remove_cmd(argc - 1, argv + 1);
    int rc = vr_network_cmd(argc - 1, argv + 1);
    if (rc < 0)
        rc = vr_affinity_cmd(argc - 1, argv + 1);
    if (rc < 0)
        rc = vr_quota_cmd(argc - 1, argv + 1);
    if (rc < 0)
        rc = vr_people_cmd(argc - 1, argv + 1);
    if (rc < 0)
        rc = vr_cli_engine(argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "vireo: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
