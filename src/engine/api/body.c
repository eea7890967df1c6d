/* Request bodies checked against a kind's fields: strict JSON (no
 * duplicate keys, only known members, right types, limits, enums, existing
 * references), defaults filled at create and the stored values at update,
 * so the store always gets a complete set of members. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "dispatch.h"
#include "fault.h"
#include "i18n.h"

json_t *vr_body_parse(vr_call *c, bool update, vr_error *err)
{
    json_error_t jerr;
    json_t *body = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "malformed JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(body)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the body must be a JSON object");
        json_decref(body);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        const vr_field *f = vr_kind_field(c->kind, key);
        unsigned need = update ? (VR_F_UPDATE | VR_F_FIXED) : VR_F_CREATE;
        if (!f || !(f->flags & need)) {
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "body: unknown member '%.100s'", key);
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

/* One member's value against its field. */
static int check_value(vr_call *c, const vr_field *f, json_t *v, vr_error *err)
{
    /* Phrases of the catalog: translated where a message quotes them. */
    static const char *const type_names[] = {
        [VR_FT_ID] = N_("a string"), [VR_FT_STR] = N_("a string"), [VR_FT_NAME] = N_("a string"),
        [VR_FT_INT] = N_("an integer"), [VR_FT_REAL] = N_("a number"), [VR_FT_BOOL] = N_("a boolean"),
        [VR_FT_TIME] = N_("an integer"), [VR_FT_ENUM] = N_("a string"), [VR_FT_REF] = N_("a string"),
        [VR_FT_JSON] = N_("a JSON value")};
    bool ok;
    switch (f->type) {
    case VR_FT_INT: case VR_FT_TIME: ok = json_is_integer(v); break;
    case VR_FT_REAL: ok = json_is_number(v); break;
    case VR_FT_BOOL: ok = json_is_boolean(v); break;
    case VR_FT_JSON: ok = true; break;
    default: ok = json_is_string(v); break;
    }
    if (!ok)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s must be %s", f->name, type_names[f->type]);
    const char *s = json_string_value(v);
    switch (f->type) {
    case VR_FT_NAME:
        if (!vr_valid_name(s))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be 1-64 letters, digits, '.', '-' or '_',"
                                " starting with a letter or digit", f->name);
        break;
    case VR_FT_STR:
        if (f->max && strlen(s) > (size_t)f->max)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s is longer than %lld bytes", f->name, f->max);
        if ((long long)strlen(s) < f->min)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s is shorter than %lld bytes", f->name, f->min);
        break;
    case VR_FT_INT:
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s must be from %lld to %lld", f->name,
                                f->min, f->max);
        break;
    case VR_FT_ENUM: {
        if (vr_names_find(f->values, s) >= 0)
            return 0;
        char list[256] = "";
        for (size_t i = 0, o = 0; i < f->values.n && o < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'", i ? i + 1 == f->values.n ? " or " : ", " : "",
                                  f->values.v[i]);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be %s", f->name, list);
    }
    case VR_FT_REF: {
        const vr_kind *rk = vr_kind_find(f->ref);
        vr_error lookup = {0};
        json_t *row = rk ? vr_kind_get(c->e, rk, s, &lookup) : NULL;
        if (!row && lookup.code == VR_ERR_NOT_FOUND)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "no %s with id '%.64s'", rk->title, s);
        if (!row)
            return *err = lookup, -1;
        json_decref(row);
        break;
    }
    default:
        break;
    }
    return 0;
}

int vr_kind_check_body(vr_call *c, json_t *body, json_t *row, vr_error *err)
{
    const vr_kind *k = c->kind;
    for (size_t i = 0; i < k->nfields; i++) {
        const vr_field *f = &k->fields[i];
        json_t *v = json_object_get(body, f->name);
        if (v && json_is_null(v)) { /* a known member set to null counts as absent */
            json_object_del(body, f->name);
            v = NULL;
        }
        if (!row && (f->flags & VR_F_REQ) && !v)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body: missing required member '%s'", f->name);
        if (v) {
            if (row && (f->flags & VR_F_FIXED) && !(f->flags & VR_F_UPDATE)) {
                json_t *cur = json_object_get(row, f->name);
                if (!json_equal(cur, v))
                    return vr_error_set(err, VR_ERR_CONFLICT, "a %s's %s cannot be changed", k->title, f->name);
            }
            if (check_value(c, f, v, err) < 0)
                return -1;
        } else if (!row && f->dflt && (f->flags & VR_F_CREATE)) {
            json_object_set_new(body, f->name, json_loads(f->dflt, JSON_DECODE_ANY, NULL));
        } else if (row && !(f->flags & VR_F_SPEC) && json_object_get(row, f->name)) {
            json_object_set(body, f->name, json_object_get(row, f->name));
        }
    }
    return 0;
}
