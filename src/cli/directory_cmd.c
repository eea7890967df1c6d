/* vireo directory search: find a directory's users or groups (see
 * directory_cmd.h). The profile is named by name or id; the engine takes
 * both, so it is only escaped into the path. */
#include "directory_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"
#include "table.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo directory list|show|create|update|delete ...   directory profiles (see 'vireo directory create --help')\n"
               "       vireo directory search PROFILE TEXT [--groups] [--max N] [--json]\n"
               "  the users (with --groups: the groups) of directory profile PROFILE whose name contains TEXT\n"
               "  (\"\" lists them all, up to --max, default 50); add one with\n"
               "  'vireo user create --name uid@PROFILE' or 'vireo group create --name GROUP@PROFILE'\n");
}

int vr_directory_cmd(int argc, char **argv)
{
    static const vr_xopt xo[] = {{"groups", true}};
    args a;
    if (argc >= 2 && strcmp(argv[1], "search") && strcmp(argv[1], "--help"))
        return vr_directory_profile_cmd(argc, argv); /* the profiles' own verbs */
    if (argc < 2 || strcmp(argv[1], "search")) {
        usage(argc < 2 || strcmp(argv[1], "--help") ? stderr : stdout);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    int rc = vr_parse_args(argc, argv, 2, BIT(O_JSON) | BIT(O_MAX) | BIT(O_EXTRA), xo, 1, "PROFILE TEXT", &a);
    if (rc) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : rc;
    }
    bool groups = a.nx > 0; /* --groups is the only extra option */
    vr_session s;
    char *prof = vr_http_escape(a.pos[0]), *text = vr_http_escape(a.pos[1]), path[1024];
    if (!prof || !text) {
        free(prof);
        free(text);
        return 3;
    }
    snprintf(path, sizeof(path), "/api/domains/%s/%s?search=%s&max=%ld", prof, groups ? "groups" : "users", text,
             a.max > 0 ? a.max : 50);
    free(prof);
    free(text);
    if ((rc = vr_session_load(&s, 0)) != 0)
        return rc;
    vr_response r;
    rc = vr_http(&s, "GET", path, NULL, 0, &r);
    if (rc == 0 && a.json) {
        vr_print_entity(&r, true);
    } else if (rc == 0) {
        static const vr_column ucols[] = {{"NAME", "name", 0}, {"DISPLAY NAME", "display_name", 0},
                                          {"EMAIL", "email", 0}, {"USER ID", "user_id", 0}};
        static const vr_column gcols[] = {{"NAME", "name", 0}, {"DESCRIPTION", "description", 0},
                                          {"GROUP ID", "group_id", 0}};
        vr_table_print(stdout, groups ? gcols : ucols, groups ? 3 : 4,
                       json_object_get(r.json, groups ? "groups" : "users"));
        if (json_is_true(json_object_get(r.json, "truncated")))
            fprintf(stderr, "vireo: the directory has more: narrow TEXT or raise --max (at most 500)\n");
    }
    vr_response_free(&r);
    vr_session_clear(&s);
    return rc;
}
