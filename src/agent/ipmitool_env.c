/* vireo-ipmitool: the ipmitool that Host.fence gives fence_ipmilan
 * (its ipmitool_path option).
 *
 * fence_ipmilan hands the BMC password to ipmitool as "-P <password>" on
 * ipmitool's command line. ipmitool overwrites it with X's once it runs,
 * but between exec and that moment any user's `ps` can read it. So the
 * agent gives fence_ipmilan no password and sets IPMI_PASSWORD in its
 * environment (readable by root only); this program swaps fence_ipmilan's
 * "-P ''" for "-E" (ipmitool: the password is in IPMI_PASSWORD) and runs
 * the real ipmitool. Without IPMI_PASSWORD it changes nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IPMITOOL "/usr/bin/ipmitool"

int main(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (!args) {
        fputs("vireo-ipmitool: out of memory\n", stderr);
        return 1;
    }
    bool env = getenv("IPMI_PASSWORD") != NULL;
    int n = 0;
    args[n++] = IPMITOOL;
    for (int i = 1; i < argc; i++) {
        if (env && !strcmp(argv[i], "-P") && i + 1 < argc) {
            args[n++] = "-E";
            i++; /* the (empty) password fence_ipmilan put there */
        } else {
            args[n++] = argv[i];
        }
    }
    args[n] = NULL;
    execv(IPMITOOL, args);
    perror("vireo-ipmitool: " IPMITOOL);
    return 127;
}
