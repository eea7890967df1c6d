/* The REST API's search expressions (src/engine/api/listing.c,
 * vr_search_parse) for every kind with a store. Input: a byte choosing the
 * kind, then the search= text.
 *
 * Properties: a refused expression has a clean message (valid UTF-8,
 * non-empty); an accepted one becomes SQL that the database runs without
 * error against the real schema - the client's text only ever travels as
 * bound values. */
#include <unistd.h>

#include "dispatch.h"
#include "fuzz.h"

static vr_db *db;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char path[] = "/tmp/vireo-fuzz-search-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    unlink(path);
    vr_error err = {0};
    if (vr_db_open(path, &db, &err) < 0) {
        fprintf(stderr, "fuzz_engine_search: %s\n", err.message);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const vr_kind *k = vr_kinds[data[0] % vr_nkinds];
    if (!k->store)
        return 0;
    char *search = strndup((const char *)data + 1, size - 1);
    if (!search)
        return 0;
    char where[1200], values[9][256];
    vr_dbv args[10];
    int nargs = 0;
    vr_error err = {0};
    if (vr_search_parse(k, search, where, sizeof(where), values, args, &nargs, &err) < 0) {
        vr_fuzz_check_message(err.message, sizeof(err.message));
    } else {
        char sql[2600];
        snprintf(sql, sizeof(sql), "SELECT count(*) AS n FROM (%s) AS r%s%s", k->store->select, *where ? " WHERE " : "",
                 where);
        json_t *row = vr_db_query_one(db, sql, args, nargs, &err);
        if (!row)
            fprintf(stderr, "search '%s' on %s gave SQL that failed: %s\n", search, k->collection, err.message);
        FUZZ_ASSERT(row != NULL);
        json_decref(row);
    }
    free(search);
    return 0;
}
