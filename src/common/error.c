#include "error.h"

#include <stdarg.h>

#include "utf8.h"

int vr_error_set(vr_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    /* Messages quote client strings, paths and libvirt's text and go out as
     * JSON: keep them valid UTF-8 however long they are (a plain vsnprintf
     * could cut a character, and jansson would then refuse the reply). */
    va_list ap;
    va_start(ap, fmt);
    vr_utf8_vformat(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

void vr_error_clear(vr_error *err)
{
    if (err) {
        err->code = 0;
        err->message[0] = '\0';
    }
}
