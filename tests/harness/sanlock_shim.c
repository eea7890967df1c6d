/* LD_PRELOAD shim for the test harness ONLY: sanlock's daemon raises
 * RLIMIT_MEMLOCK/RLIMIT_NOFILE at start and exits when that fails; the
 * sandbox the tests run in lacks CAP_SYS_RESOURCE, so such a setrlimit
 * fails with EPERM. Here it "succeeds" and the limit stays what it was,
 * which is harmless for sanlock run with -l 0 (no mlockall) and -w 0 (no
 * watchdog device). Production hosts run sanlock unmodified, with wdmd. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>

int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
    int (*real)(__rlimit_resource_t, const struct rlimit *) =
        (int (*)(__rlimit_resource_t, const struct rlimit *))dlsym(RTLD_NEXT, "setrlimit");
    int rc = real ? real(resource, rlim) : -1;
    if (rc < 0 && errno == EPERM) {
        errno = 0;
        return 0;
    }
    return rc;
}
