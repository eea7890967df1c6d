#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int vr_error_set(vr_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
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
