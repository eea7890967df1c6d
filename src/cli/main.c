/* vireo: the command-line client. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo COMMAND ...\n"
               "  agent call [OPTIONS] VERB [JSON]   call a vireo-agent verb\n"
               "  agent events [OPTIONS]             print agent event notifications\n"
               "run 'vireo agent --help' for the connection options\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "agent"))
        return vr_cli_agent(argc - 1, argv + 1);
    fprintf(stderr, "vireo: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
