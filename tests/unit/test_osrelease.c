/* The agent's reading of os-release(5) (src/agent/osrelease.c): quoted
 * values with the shell's escapes, comments, the last assignment winning,
 * and a missing file reported as an unknown OS. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "osrelease.h"

int main(void)
{
    char v[128];
    const char *text = "# a comment: ID=fake\n"
                       "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                       "NAME='Debian \"GNU\" Linux'\n"
                       "  ID=debian   \n"
                       "VERSION_ID=\"12\"\r\n"
                       "HOME_URL=\"https://www.debian.org/\"\n"
                       "QUOTED=\"a \\\"b\\\" \\$c\"\n"
                       "VERSION_ID=12.4 # a later line wins; an unquoted value ends at a blank\n"
                       "IDX=not-the-id";
    CHECK(vr_os_release_value(text, "ID", v, sizeof(v)) == 0 && !strcmp(v, "debian"));
    CHECK(vr_os_release_value(text, "PRETTY_NAME", v, sizeof(v)) == 0 &&
          !strcmp(v, "Debian GNU/Linux 12 (bookworm)"));
    CHECK(vr_os_release_value(text, "NAME", v, sizeof(v)) == 0 && !strcmp(v, "Debian \"GNU\" Linux"));
    CHECK(vr_os_release_value(text, "QUOTED", v, sizeof(v)) == 0 && !strcmp(v, "a \"b\" $c"));
    CHECK(vr_os_release_value(text, "VERSION_ID", v, sizeof(v)) == 0 && !strcmp(v, "12.4"));
    CHECK(vr_os_release_value(text, "VERSION", v, sizeof(v)) < 0 && !v[0]);
    CHECK(vr_os_release_value("", "ID", v, sizeof(v)) < 0);
    /* A short buffer is cut, never overrun. */
    char small[6];
    CHECK(vr_os_release_value(text, "PRETTY_NAME", small, sizeof(small)) == 0 && !strcmp(small, "Debia"));

    /* From a file; a missing one is an unknown OS, not an error. */
    char path[] = "/tmp/vireo-osrelease-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *file = "ID=\"rhel\"\nVERSION_ID='9.2'\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.2 (Plow)\"\n";
    CHECK(write(fd, file, strlen(file)) == (ssize_t)strlen(file));
    close(fd);
    json_t *os = vr_host_os(path);
    CHECK(!strcmp(json_string_value(json_object_get(os, "id")), "rhel"));
    CHECK(!strcmp(json_string_value(json_object_get(os, "version")), "9.2"));
    CHECK(!strcmp(json_string_value(json_object_get(os, "pretty_name")), "Red Hat Enterprise Linux 9.2 (Plow)"));
    CHECK(json_string_length(json_object_get(os, "kernel")) > 0); /* uname's release */
    json_decref(os);
    unlink(path);
    os = vr_host_os(path);
    CHECK(!strcmp(json_string_value(json_object_get(os, "id")), "unknown"));
    CHECK(!strcmp(json_string_value(json_object_get(os, "version")), ""));
    CHECK(json_string_length(json_object_get(os, "kernel")) > 0);
    json_decref(os);
    return CHECK_DONE();
}
