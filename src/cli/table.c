#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

char *vr_text_clean(const char *s)
{
    char *out = strdup(s ? s : "");
    /* A server (or whoever named a VM) must not be able to move the
     * cursor, rewrite earlier lines or break the table layout. */
    for (unsigned char *p = (unsigned char *)out; out && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    return out;
}

static char *format_time(json_t *v)
{
    time_t t = (time_t)json_integer_value(v);
    struct tm tm;
    char buf[64];
    if (!localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
        return NULL;
    return strdup(buf);
}

char *vr_cell(json_t *v, enum vr_cell_fmt fmt)
{
    char *s = NULL;
    if (!v || json_is_null(v))
        return strdup("-");
    if (json_is_string(v))
        return vr_text_clean(json_string_value(v));
    if (json_is_integer(v) && fmt == VR_FMT_MIB &&
        asprintf(&s, "%lldM", (long long)json_integer_value(v)) > 0)
        return s;
    if (json_is_integer(v) && fmt == VR_FMT_TIME && (s = format_time(v)))
        return s;
    if (json_is_object(v)) {
        /* Links to other entities: the name is what a human wants. */
        json_t *label = json_object_get(v, "name");
        if (!json_is_string(label))
            label = json_object_get(v, "id");
        if (json_is_string(label))
            return vr_text_clean(json_string_value(label));
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *clean = vr_text_clean(s);
    free(s);
    return clean;
}

static json_t *pick(json_t *row, const char *keys)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", keys);
    for (char *save = NULL, *k = strtok_r(buf, "|", &save); k; k = strtok_r(NULL, "|", &save)) {
        json_t *v = json_object_get(row, k);
        if (v && !json_is_null(v))
            return v;
    }
    return NULL;
}

/* Width on screen: count UTF-8 code points, not bytes. */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

void vr_table_print(FILE *f, const vr_column *cols, size_t ncols, json_t *rows)
{
    size_t nrows = json_array_size(rows);
    char **cells = calloc((nrows + 1) * ncols, sizeof(char *));
    size_t *w = calloc(ncols, sizeof(size_t));
    if (!cells || !w) {
        free(cells);
        free(w);
        return;
    }
    for (size_t c = 0; c < ncols; c++)
        cells[c] = strdup(cols[c].header);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++)
            cells[(r + 1) * ncols + c] = vr_cell(pick(json_array_get(rows, r), cols[c].keys), cols[c].fmt);
    for (size_t i = 0; i < (nrows + 1) * ncols; i++)
        if (cells[i] && width(cells[i]) > w[i % ncols])
            w[i % ncols] = width(cells[i]);
    for (size_t r = 0; r <= nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[r * ncols + c] ? cells[r * ncols + c] : "";
            if (c + 1 == ncols) /* no trailing blanks */
                fprintf(f, "%s\n", s);
            else
                fprintf(f, "%s%*s", s, (int)(w[c] - width(s) + 2), "");
        }
    }
    for (size_t i = 0; i < (nrows + 1) * ncols; i++)
        free(cells[i]);
    free(cells);
    free(w);
}

void vr_show_print(FILE *f, json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char *k = vr_text_clean(key), *s;
        /* Nested values stay JSON here: show is the full view. */
        if (json_is_object(v) || json_is_array(v)) {
            char *raw = json_dumps(v, JSON_COMPACT);
            s = vr_text_clean(raw);
            free(raw);
        } else {
            s = vr_cell(v, VR_FMT_PLAIN);
        }
        fprintf(f, "%s: %s\n", k, s ? s : "");
        free(k);
        free(s);
    }
}
