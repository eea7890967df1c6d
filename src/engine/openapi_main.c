/* vireo-openapi: print the engine's OpenAPI document (the one it serves at
 * /api/openapi.json), to keep docs/openapi.json true:
 *   build/src/engine/vireo-openapi > docs/openapi.json */
#include <stdio.h>

#include "kind.h"

int main(void)
{
    json_t *doc = vr_openapi_build();
    if (!doc)
        return 1;
    int rc = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_SORT_KEYS) == 0 && puts("") >= 0 ? 0 : 1;
    json_decref(doc);
    return rc;
}
