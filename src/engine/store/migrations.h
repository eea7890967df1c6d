/* The schema migrations shared by both backends (migrations.c). */
#pragma once

#include <stddef.h>

#include "db_backend.h"

typedef struct vr_migration {
    int version;            /* the schema version it moves to */
    const char *why;
    const char *sqlite;     /* statements for SQLite */
    const char *pg;         /* statements for PostgreSQL */
    /* Optional C step after the statements, in the same transaction (rows
     * to rewrite); run through the backend's statement function. */
    int (*data_step)(vr_db *db, vr_error *err);
} vr_migration;

extern const vr_migration vr_migrations[];
extern const size_t vr_nmigrations;
