/* Human-readable output of API entities: aligned tables for lists and
 * "key: value" lines for a single entity. All text from the server is
 * cleaned of control characters before it reaches the terminal. */
#pragma once

#include <stdio.h>
#include <jansson.h>

enum vr_cell_fmt {
    VR_FMT_PLAIN = 0,
    VR_FMT_MIB,  /* integer MiB shown as "512M" */
    VR_FMT_TIME, /* epoch seconds shown as local "YYYY-MM-DD HH:MM:SS" */
};

typedef struct vr_column {
    const char *header;
    const char *keys; /* row member; "a|b" uses the first present, non-null one */
    enum vr_cell_fmt fmt;
} vr_column;

/* Copy of s with control characters replaced by '?' (free with free()). */
char *vr_text_clean(const char *s);

/* Display text of one value: strings as is, objects by their "name" (else
 * "id"), null as "-", anything else as compact JSON. Free with free(). */
char *vr_cell(json_t *v, enum vr_cell_fmt fmt);

/* Print rows (an array of objects) under the headers, columns separated
 * by two spaces and padded to the widest cell. */
void vr_table_print(FILE *f, const vr_column *cols, size_t ncols, json_t *rows);

/* Print each member of obj as "key: value"; nested values as compact JSON. */
void vr_show_print(FILE *f, json_t *obj);
