/* The stores: each kind's SQL in one file (store/store_KIND.c). A store
 * says how rows are read (one SELECT whose columns are the rendering's
 * members, and the fixed search expressions over them) and how they are
 * written (insert / update / remove with bound parameters). Stores know
 * nothing of HTTP; they fail with a vr_error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "engine.h"

/* One search key: `key` in search=, matched by the SQL expression `expr`
 * (a fixed string with one '?', never user input). */
typedef struct vr_search {
    const char *key;
    const char *expr;
    bool glob;    /* translate * into % (and escape % _ \) */
    bool lower;   /* compare lowercased */
    bool integer; /* the value must be an integer */
    const char *doc;
} vr_search;

/* Where a kind's rows live. */
typedef struct vr_store {
    const char *select;     /* SELECT ... FROM ... (no WHERE/ORDER) */
    const char *id_expr;    /* the id column in that select, e.g. "v.id" */
    const char *order;      /* default ORDER BY list */
    const char *table;      /* for the total's cache (vr_db_table_generation) */
    const vr_search *search;
    size_t nsearch;
    /* Insert a validated create body (name, ids... checked). id is new. */
    int (*insert)(vr_engine *e, const char *id, json_t *body, vr_error *err);
    /* Write a validated update: body holds the new values of all members. */
    int (*update)(vr_engine *e, json_t *row, json_t *body, vr_error *err);
    /* Delete; a row that changed meanwhile is VR_ERR_BAD_STATE. */
    int (*remove)(vr_engine *e, json_t *row, vr_error *err);
} vr_store;


extern const vr_store vr_store_datacenters, vr_store_clusters, vr_store_hosts, vr_store_vms,
    vr_store_events, vr_store_jobs;
