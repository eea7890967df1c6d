/* GNU .mo reader (format: gettext manual, "The Format of GNU MO Files"):
 * a header of 32-bit words, then two tables of (length, offset) pairs for
 * the original and translated strings, originals sorted by strcmp. */
#include "mo.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MO_MAGIC 0x950412deu
#define MO_MAX_SIZE (64u << 20) /* a catalog larger than this is not ours */

struct vr_mo {
    unsigned char *data;
    size_t size;
    uint32_t n, orig, trans; /* count, offsets of the two tables */
    int swap;
};

static uint32_t word(const vr_mo *mo, size_t at)
{
    uint32_t v;
    memcpy(&v, mo->data + at, 4);
    return mo->swap ? __builtin_bswap32(v) : v;
}

/* String i of the table at tab: NULL unless it lies inside the file and
 * ends with its NUL. */
static const char *entry(const vr_mo *mo, uint32_t tab, uint32_t i)
{
    uint32_t len = word(mo, (size_t)tab + 8u * i), off = word(mo, (size_t)tab + 8u * i + 4);
    if ((size_t)off + len >= mo->size || mo->data[(size_t)off + len] != '\0')
        return NULL;
    return (const char *)mo->data + off;
}

vr_mo *vr_mo_open(const char *path, vr_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        vr_error_set(err, VR_ERR_IO, "cannot open the catalog %s: %s", path, strerror(errno));
        return NULL;
    }
    vr_mo *mo = calloc(1, sizeof(*mo));
    long size = -1;
    if (mo && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 28 && (unsigned long)size < MO_MAX_SIZE &&
        fseek(f, 0, SEEK_SET) == 0 && (mo->data = malloc((size_t)size)) &&
        fread(mo->data, 1, (size_t)size, f) == (size_t)size) {
        mo->size = (size_t)size;
    }
    fclose(f);
    if (!mo || !mo->size) {
        vr_mo_free(mo);
        vr_error_set(err, VR_ERR_IO, "cannot read the catalog %s", path);
        return NULL;
    }
    uint32_t magic;
    memcpy(&magic, mo->data, 4);
    mo->swap = magic != MO_MAGIC;
    if (mo->swap && __builtin_bswap32(magic) != MO_MAGIC)
        goto bad;
    mo->n = word(mo, 8);
    mo->orig = word(mo, 12);
    mo->trans = word(mo, 16);
    if (word(mo, 4) >> 16 != 0 || mo->n > mo->size / 16 || (size_t)mo->orig + 8u * mo->n > mo->size ||
        (size_t)mo->trans + 8u * mo->n > mo->size || mo->orig % 4 || mo->trans % 4)
        goto bad;
    for (uint32_t i = 0; i < mo->n; i++) /* checked once, so lookups need not */
        if (!entry(mo, mo->orig, i) || !entry(mo, mo->trans, i) ||
            (i && strcmp(entry(mo, mo->orig, i - 1), entry(mo, mo->orig, i)) >= 0))
            goto bad;
    return mo;
bad:
    vr_mo_free(mo);
    vr_error_set(err, VR_ERR_IO, "%s is not a GNU .mo catalog (or is damaged)", path);
    return NULL;
}

const char *vr_mo_lookup(const vr_mo *mo, const char *msgid)
{
    if (!mo || !msgid || !*msgid)
        return NULL;
    uint32_t lo = 0, hi = mo->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(msgid, entry(mo, mo->orig, mid));
        if (c == 0) {
            const char *t = entry(mo, mo->trans, mid);
            return *t ? t : NULL;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

unsigned vr_mo_count(const vr_mo *mo)
{
    return mo ? mo->n : 0;
}

void vr_mo_free(vr_mo *mo)
{
    if (mo) {
        free(mo->data);
        free(mo);
    }
}
