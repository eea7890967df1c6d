/* Helper programs' paths (helper_path.h). */
#include "helper_path.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef VR_LIBEXECDIR
#define VR_LIBEXECDIR "/usr/libexec/vireo"
#endif

bool vr_helper_path(const char *name, char *path, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(path, size, "%s/%s", self, name) < (int)size && access(path, X_OK) == 0)
                return true;
        }
    }
    static const char *const dirs[] = {VR_LIBEXECDIR, "/usr/libexec/vireo"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (snprintf(path, size, "%s/%s", dirs[i], name) < (int)size && access(path, X_OK) == 0)
            return true;
    return false;
}
