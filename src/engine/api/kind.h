/* Engine kinds: every REST collection is described once, as a vr_kind
 * table entry, and served by one generic dispatcher (dispatch.c). The
 * same tables produce the OpenAPI document (openapi.c).
 *
 * A kind names its collection, its store (the SQL, in store/store_*.c),
 * its fields (API name, type, flags, limits, docs), its sub-collections
 * and actions, and optional hooks for rules a table cannot say (a VM's
 * hardware spec, a host joining monitoring). Presentation lives outside
 * the tables: the dispatcher turns a stored row into the JSON rendering
 * (present.c) so another rendering (oVirt's API v4) can be added beside it
 * without touching handlers or tables.
 *
 * Invariants: field names are unique within a kind; a field with F_REQ is
 * also F_CREATE; every field has a column in the store's SELECT (or is
 * F_SPEC: kept inside the row's spec document); tables end with their
 * length, never a NULL sentinel (VR_ARRAY_SIZE, names.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "engine.h"
#include "http.h"
#include "names.h"
#include "store.h"

typedef enum {
    VR_FT_ID,     /* a UUID string assigned by the engine */
    VR_FT_STR,    /* a string of at most max bytes (min..max) */
    VR_FT_NAME,   /* an entity name: 1-64 of [A-Za-z0-9._-] */
    VR_FT_INT,    /* an integer in min..max */
    VR_FT_REAL,   /* a number */
    VR_FT_BOOL,
    VR_FT_TIME,   /* epoch seconds */
    VR_FT_ENUM,   /* one of values[] */
    VR_FT_REF,    /* the id of an object of kind `ref` */
    VR_FT_JSON,   /* a JSON document described by the schema `schema` */
} vr_ftype;

enum {
    VR_F_REQ = 1 << 0,     /* required at create */
    VR_F_CREATE = 1 << 1,  /* may be given at create */
    VR_F_UPDATE = 1 << 2,  /* may be changed by PUT */
    VR_F_NULL = 1 << 3,    /* may be null in the rendering */
    VR_F_SPEC = 1 << 4,    /* kept inside the row's spec document, not a column */
    VR_F_OPT = 1 << 5,     /* may be absent from the rendering */
    VR_F_SORT = 1 << 6,    /* sortby=FIELD accepted */
    VR_F_FIXED = 1 << 7,   /* PUT may repeat it, not change it (409) */
};

/* An enum field's values, as a vr_names (names.h) from a list. */
#define VR_STRS(...) VR_NAMES(((const char *const[]){__VA_ARGS__}))

typedef struct vr_field {
    const char *name;
    vr_ftype type;
    unsigned flags;
    long long min, max;     /* INT range, STR length */
    vr_names values;        /* ENUM */
    const char *ref;        /* REF: the collection it points into */
    const char *schema;     /* JSON: a components/schemas name; STR: a pattern */
    const char *dflt;       /* default at create, as JSON text (NULL: none) */
    const char *doc;
} vr_field;

typedef struct vr_call vr_call;

/* An action: POST /api/COLL/ID/NAME. */
typedef struct vr_action {
    const char *name;
    const char *summary;
    bool job;               /* answers 202 with a job */
    int (*run)(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err);
    const struct vr_field *params; /* body members (none: no body, or {}) */
    size_t nparams;
} vr_action;

typedef struct vr_kind {
    const char *collection;  /* "vms" */
    const char *type;        /* "vm": events' object_type */
    const char *title;       /* "VM": in messages */
    const char *schema;      /* "Vm": OpenAPI schema name */
    const char *tag;         /* OpenAPI tag */
    const vr_store *store;
    const vr_field *fields;
    size_t nfields;
    const vr_action *actions;
    size_t nactions;
    const char *parent;      /* also nested under this collection ... */
    const char *parent_field;/* ... through this REF field */
    bool no_href;            /* rows have no URL of their own (events) */
    bool read_only;          /* GET only */
    bool no_delete, no_update;
    const char *delete_in_use; /* 409 text when rows still refer to it */
    /* Rules a table cannot say. Each may be NULL. */
    int (*check_create)(vr_call *c, json_t *body, vr_error *err);
    int (*check_update)(vr_call *c, json_t *row, json_t *body, vr_error *err);
    int (*check_delete)(vr_call *c, json_t *row, vr_error *err);
    void (*after_write)(vr_call *c, const char *id, const char *what);
    /* After an update was stored: start a job for what can change live
     * (job_id set: the answer is 202 with it). */
    int (*live_update)(vr_call *c, json_t *before, json_t *body, char job_id[37], vr_error *err);
    void (*present)(vr_engine *e, json_t *row); /* extra members (links...) */
    /* What a create or update consumes of a quota (quota/quota.h): run
     * after the checks, under the quota lock that the dispatcher holds
     * until the row is written, so the check and the write are one step.
     * row is NULL at create. It leaves the chosen quota in body.quota. */
    int (*quota)(vr_call *c, json_t *row, json_t *body, vr_error *err);
    /* Rows made or removed by a job (storage): these replace the store's
     * insert / remove after the checks, recording the row (or its locked
     * status) and the job together. job_id set: the answer is 202 with it;
     * left empty: 201 / 204 as without them. */
    int (*create_job)(vr_call *c, const char *id, json_t *body, char job_id[37], vr_error *err);
    bool create_job_maybe;   /* create_job starts a job for some bodies only (201 or 202) */
    int (*remove_job)(vr_call *c, json_t *row, char job_id[37], vr_error *err);
    /* Children kept inside their parent's row (a VM's NICs and disks live
     * in its spec): the kind has no store; these list, add, change and
     * remove them. A change that needs the host starts a job: job_id is
     * set and the answer is 202; otherwise *reply is the child (201/200),
     * or nothing for a removal (204). */
    int (*children)(vr_engine *e, json_t *parent, json_t **rows, vr_error *err);
    int (*add_child)(vr_call *c, json_t *parent, json_t *body, json_t **reply, char job_id[37], vr_error *err);
    int (*change_child)(vr_call *c, json_t *parent, json_t *child, json_t *body, json_t **reply, char job_id[37],
                        vr_error *err);
    int (*remove_child)(vr_call *c, json_t *parent, json_t *child, char job_id[37], vr_error *err);
} vr_kind;

/* One API request as the handlers see it. */
struct vr_call {
    vr_engine *e;
    vr_http_req *req;
    vr_http_resp *resp;
    const vr_kind *kind;
    const char *user;
};

/* All kinds, and one by collection name (NULL when unknown). */
extern const vr_kind *const vr_kinds[];
extern const size_t vr_nkinds;
const vr_kind *vr_kind_find(const char *collection);
const vr_field *vr_kind_field(const vr_kind *k, const char *name);

/* Kinds defined in api/kinds_*.c. */
extern const vr_kind vr_kind_datacenters, vr_kind_clusters, vr_kind_hosts, vr_kind_vms,
    vr_kind_events, vr_kind_jobs, vr_kind_vm_nics, vr_kind_vm_disks;
/* Storage (api/kinds_storage.c). */
extern const vr_kind vr_kind_storagedomains, vr_kind_disks;
/* Snapshots (api/kinds_snapshots.c). */
extern const vr_kind vr_kind_snapshots, vr_kind_templates, vr_kind_pools;
/* Networks (api/kinds_networks.c). */
extern const vr_kind vr_kind_networks, vr_kind_vnicprofiles, vr_kind_cluster_networks, vr_kind_host_nics;
/* MAC pools (api/kinds_macpools.c). */
extern const vr_kind vr_kind_macpools;
/* Affinity groups (api/kinds_affinity.c). */
extern const vr_kind vr_kind_affinity_groups;
/* Quotas (api/kinds_quotas.c). */
extern const vr_kind vr_kind_quotas;

/* Users, groups, roles, permissions (api/kinds_people.c). */
extern const vr_kind vr_kind_users, vr_kind_groups, vr_kind_group_members, vr_kind_roles, vr_kind_permissions,
    vr_kind_domains;

/* Read one row of a kind by id: a new reference, or NULL with
 * VR_ERR_NOT_FOUND / a database error. Rendered (present). */
json_t *vr_kind_get(vr_engine *e, const vr_kind *k, const char *id, vr_error *err);

/* Check body members against the kind's fields for create (row NULL) or
 * update: types, limits, enums, references; fills defaults at create and
 * the row's values at update, so the store gets every member. */
int vr_kind_check_body(vr_call *c, json_t *body, json_t *row, vr_error *err);

/* The rendering of a stored row (adds href and links, strips hidden). */
void vr_kind_present(vr_engine *e, const vr_kind *k, json_t *row);

/* Replace row's member by its rendering in the request's language from the
 * message id and arguments in id_col / args_col (then dropped from row);
 * rows without them keep their English text (api/kinds_events.c). */
void vr_kind_render(json_t *row, const char *member, const char *id_col, const char *args_col);

/* Answer a request under /api (after authentication). */
void vr_dispatch(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* The OpenAPI document of all kinds (new reference). */
json_t *vr_openapi_build(void);
