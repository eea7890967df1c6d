/* Checksummed key=value metadata files (see mdfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "mdfile.h"
#include "utf8.h"

#define SHA1_LEN 20

static int valid_key(const char *k)
{
    if (!*k || strlen(k) > 64)
        return 0;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int valid_value(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return vr_utf8_valid(v, strlen(v));
}

static int find(const vr_md *md, const char *key)
{
    for (int i = 0; i < md->n; i++)
        if (!strcmp(md->key[i], key))
            return i;
    return -1;
}

const char *vr_md_get(const vr_md *md, const char *key)
{
    int i = find(md, key);
    return i < 0 ? NULL : md->val[i];
}

int vr_md_set(vr_md *md, const char *key, const char *val)
{
    if (!valid_key(key) || !strcmp(key, VR_MD_CKSUM_KEY) || !val || !valid_value(val))
        return -EINVAL;
    char *v = strdup(val);
    if (!v)
        return -ENOMEM;
    int i = find(md, key);
    if (i >= 0) {
        free(md->val[i]);
        md->val[i] = v;
        return 0;
    }
    if (md->n >= VR_MD_MAX_KEYS) {
        free(v);
        return -E2BIG;
    }
    char *k = strdup(key);
    if (!k) {
        free(v);
        return -ENOMEM;
    }
    md->key[md->n] = k;
    md->val[md->n++] = v;
    return 0;
}

int vr_md_set_ll(vr_md *md, const char *key, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    return vr_md_set(md, key, buf);
}

int vr_md_get_ll(const vr_md *md, const char *key, long long *out)
{
    const char *s = vr_md_get(md, key);
    if (!s)
        return -ENOENT;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return -EINVAL;
    *out = v;
    return 0;
}

void vr_md_clear(vr_md *md)
{
    for (int i = 0; i < md->n; i++) {
        free(md->key[i]);
        free(md->val[i]);
    }
    md->n = 0;
}

static void sha1_hex(const char *buf, size_t len, char hex[2 * SHA1_LEN + 1])
{
    unsigned char d[SHA1_LEN];
    gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, len, d);
    for (int i = 0; i < SHA1_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int vr_md_parse(const char *buf, size_t len, const char *label, vr_md *md, vr_error *err)
{
    static const char ck[] = VR_MD_CKSUM_KEY "=";
    if (len > VR_MD_MAX_BYTES)
        return vr_error_set(err, VR_ERR_IO, "%s: metadata larger than %d bytes", label, VR_MD_MAX_BYTES),
               -EBADMSG;
    /* the checksum line is the last line; everything before it is covered */
    size_t body = len;
    if (body && buf[body - 1] == '\n')
        body--;
    while (body && buf[body - 1] != '\n')
        body--;
    size_t cklen = len - body;
    if (cklen < sizeof(ck) - 1 || memcmp(buf + body, ck, sizeof(ck) - 1))
        return vr_error_set(err, VR_ERR_IO, "%s: no checksum line (torn or foreign file)", label), -EBADMSG;
    char want[2 * SHA1_LEN + 1];
    sha1_hex(buf, body, want);
    const char *got = buf + body + sizeof(ck) - 1;
    size_t gotlen = cklen - (sizeof(ck) - 1);
    if (gotlen && got[gotlen - 1] == '\n')
        gotlen--;
    if (gotlen != 2 * SHA1_LEN || memcmp(got, want, gotlen))
        return vr_error_set(err, VR_ERR_IO, "%s: checksum mismatch (torn or corrupt)", label), -EBADMSG;
    for (size_t off = 0; off < body;) {
        const char *nl = memchr(buf + off, '\n', body - off);
        size_t ll = nl ? (size_t)(nl - (buf + off)) : body - off;
        char line[VR_MD_MAX_BYTES + 1];
        memcpy(line, buf + off, ll);
        line[ll] = 0;
        off += ll + 1;
        char *eq = strchr(line, '=');
        if (!eq || memchr(line, 0, ll)) {
            vr_md_clear(md);
            return vr_error_set(err, VR_ERR_IO, "%s: malformed line '%.40s'", label, line), -EBADMSG;
        }
        *eq = 0;
        int rc = vr_md_set(md, line, eq + 1);
        if (rc < 0) {
            vr_md_clear(md);
            return vr_error_set(err, VR_ERR_IO, "%s: bad entry '%.40s': %s", label, line, strerror(-rc)),
                   -EBADMSG;
        }
    }
    return 0;
}

int vr_md_format(const vr_md *md, char **out, size_t *len)
{
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);
    if (!f)
        return -ENOMEM;
    for (int i = 0; i < md->n; i++)
        fprintf(f, "%s=%s\n", md->key[i], md->val[i]);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    char hex[2 * SHA1_LEN + 1];
    sha1_hex(buf, sz, hex);
    size_t total = sz + strlen(VR_MD_CKSUM_KEY) + 1 + 2 * SHA1_LEN + 1;
    if (total > VR_MD_MAX_BYTES) {
        free(buf);
        return -E2BIG;
    }
    char *res = realloc(buf, total + 1);
    if (!res) {
        free(buf);
        return -ENOMEM;
    }
    snprintf(res + sz, total + 1 - sz, "%s=%s\n", VR_MD_CKSUM_KEY, hex);
    *out = res;
    *len = total;
    return 0;
}

int vr_md_read(const char *path, vr_md *md, vr_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        vr_error_set(err, VR_ERR_IO, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    char buf[VR_MD_MAX_BYTES + 1];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            vr_error_set(err, VR_ERR_IO, "cannot read %s: %s", path, strerror(e));
            return -e;
        }
        if (r == 0 || (len += (size_t)r) == sizeof(buf))
            break;
    }
    close(fd);
    return vr_md_parse(buf, len, path, md, err);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int vr_md_write(const char *path, const vr_md *md, vr_error *err)
{
    char *text;
    size_t len;
    int rc = vr_md_format(md, &text, &len);
    if (rc < 0)
        return vr_error_set(err, VR_ERR_IO, "metadata for %s: %s", path, strerror(-rc)), rc;
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        free(text);
        return vr_error_set(err, VR_ERR_IO, "path too long: %s", path), -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        rc = -errno;
        free(text);
        return vr_error_set(err, VR_ERR_IO, "cannot create %s: %s", tmp, strerror(-rc)), rc;
    }
    rc = write_all(fd, text, len);
    free(text);
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) < 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return vr_error_set(err, VR_ERR_IO, "cannot write %s: %s", path, strerror(-rc)), rc;
    }
    /* the rename is durable only once the directory entry is */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) < 0)
            rc = -errno;
        close(dfd);
    }
    if (rc)
        return vr_error_set(err, VR_ERR_IO, "cannot sync directory of %s: %s", path, strerror(-rc)), rc;
    return 0;
}
