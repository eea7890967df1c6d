#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "utf8.h"

static unsigned text_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int vr_error_set(vr_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap, again;
    va_start(ap, fmt);
    /* Captured first: an argument may be err's own message. */
    va_copy(again, ap);
    json_t *m = vr_i18n_vcapture(fmt, again);
    va_end(again);
    err->code = code;
    /* Messages quote client strings, paths and libvirt's text and go out as
     * JSON: keep them valid UTF-8 however long they are (a plain vsnprintf
     * could cut a character, and jansson would then refuse the reply). */
    vr_utf8_vformat(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->i18n[0] = '\0';
    if (m) {
        size_t n = json_dumpb(m, err->i18n, sizeof(err->i18n) - 1, JSON_COMPACT);
        err->i18n[n < sizeof(err->i18n) ? n : 0] = '\0';
        json_decref(m);
    }
    err->i18n_hash = text_hash(err->message);
    vr_i18n_remember(err->message, err->i18n);
    return -1;
}

const char *vr_error_text(const vr_error *err, const char *lang, char *buf, size_t size)
{
    if (!err->i18n[0] || !lang || !strcmp(lang, VR_LANG_EN) || err->i18n_hash != text_hash(err->message) ||
        vr_i18n_render_text(buf, size, err->i18n, lang) < 0)
        return err->message;
    return buf;
}

const char *vr_error_captured(const vr_error *err)
{
    return err->i18n[0] && err->i18n_hash == text_hash(err->message) ? err->i18n : NULL;
}

int vr_error_relay(vr_error *err, int code, const char *message, const char *captured)
{
    vr_error_set(err, code, "%s", message);
    if (!err || !captured || strlen(captured) >= sizeof(err->i18n))
        return -1;
    /* Believed only when it says what the message says: a peer cannot make
     * another language tell something the English did not. */
    char en[sizeof(err->message)];
    if (vr_i18n_render_text(en, sizeof(en), captured, VR_LANG_EN) < 0 || strcmp(en, err->message))
        return -1;
    snprintf(err->i18n, sizeof(err->i18n), "%s", captured);
    vr_i18n_remember(err->message, err->i18n);
    return -1;
}

void vr_error_clear(vr_error *err)
{
    if (err) {
        err->code = 0;
        err->message[0] = '\0';
        err->i18n[0] = '\0';
    }
}
