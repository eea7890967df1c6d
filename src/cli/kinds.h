/* What the CLI knows of each kind of engine entity: its collection, the
 * columns of its table, its create options and its actions. Data only;
 * engine_cmd.c does the talking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "names.h"
#include "table.h"

/* A verb's own --OPTION (parsed by vr_parse_args): with a value, or a flag. */
typedef struct vr_xopt {
    const char *name;
    bool flag;
} vr_xopt;

/* A --OPT VALUE of `KIND create` and the body member it sets. */
typedef struct create_opt {
    const char *opt, *member, *meta;
    char type;       /* s string, i integer, r NAME-or-ID of kind `ref`,
                        b member of "boot", d disk PATH[,ro], n nic BRIDGE|user,
                        x member of "ssh" (a password from a file, a flag, a port, a text),
                        h member of "high_availability", p of "scheduling_policy"
                        (its name, or a KEY=N of its properties) */
    const char *ref;
    bool required;
} create_opt;

typedef struct kind {
    const char *name, *coll;
    const vr_column *cols;
    size_t ncols;
    const create_opt *create; /* NULL: read-only collection */
    vr_names actions;
    bool action_jobs; /* its actions answer 202 with a job: --wait applies */
    bool by_id;       /* named by id only (no name to look up) */
    /* A column showing a linked entity by name: row[link] (a name or a link
     * object) or row[link_id], names looked up in link_coll. */
    const char *link, *link_id, *link_coll;
} kind;

/* The kind named `name` (datacenter, cluster, host, vm, job) or NULL. */
const kind *vr_kind_find(const char *name);

/* Events: listed only, not a KIND of the command line. */
extern const kind vr_kind_events;

/* The create option `opt` of kind k, or NULL. */
const create_opt *vr_kind_create_opt(const kind *k, const char *opt);

/* Every create option of every kind (getopt needs them all). */
#define VR_NCREATE_NAMES 40
extern const vr_xopt vr_create_opts[VR_NCREATE_NAMES];
