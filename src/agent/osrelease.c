/* The host's OS (see osrelease.h). */
#include "osrelease.h"

#include "hostinfo.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

/* One value as the shell would read it: quotes removed, \" \\ \$ \` undone
 * inside double quotes and unquoted; nothing undone inside single quotes. */
static void unquote(const char *v, const char *end, char *buf, size_t len)
{
    size_t o = 0;
    char q = 0;
    for (const char *p = v; p < end && o + 1 < len; p++) {
        if (!q && (*p == '"' || *p == '\'')) {
            q = *p;
            continue;
        }
        if (q && *p == q) {
            q = 0;
            continue;
        }
        if (q != '\'' && *p == '\\' && p + 1 < end) {
            p++;
        } else if (!q && (*p == ' ' || *p == '\t')) {
            break; /* an unquoted value ends at blanks (a trailing comment) */
        }
        buf[o++] = *p;
    }
    buf[o] = '\0';
}

int vr_os_release_value(const char *text, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    int found = -1;
    buf[0] = '\0';
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *p = line;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        /* the last assignment wins, as in the shell */
        if (p < end && *p != '#' && (size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            const char *e = end;
            while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            unquote(p + klen + 1, e, buf, len);
            found = 0;
        }
        line = *end ? end + 1 : end;
    }
    return found;
}

json_t *vr_host_os(const char *path)
{
    char text[8192], id[64] = "", version[64] = "", pretty[256] = "";
    const char *paths[] = {path ? path : "/etc/os-release", path ? NULL : "/usr/lib/os-release"};
    bool read = false;
    for (size_t i = 0; i < 2 && !read; i++)
        read = paths[i] && vr_read_file(paths[i], text, sizeof(text)) == 0;
    bool known = read && vr_os_release_value(text, "ID", id, sizeof(id)) == 0 && *id;
    if (known) {
        vr_os_release_value(text, "VERSION_ID", version, sizeof(version));
        vr_os_release_value(text, "PRETTY_NAME", pretty, sizeof(pretty));
    }
    struct utsname u;
    const char *kernel = uname(&u) == 0 ? u.release : "";
    json_t *os = json_pack("{s:s, s:s, s:s, s:s}", "id", known ? id : "unknown", "version", version, "pretty_name",
                           pretty, "kernel", kernel);
    /* text that is not UTF-8 cannot be reported: the OS is then unknown */
    return os ? os : json_pack("{s:s, s:s, s:s, s:s}", "id", "unknown", "version", "", "pretty_name", "", "kernel", "");
}
