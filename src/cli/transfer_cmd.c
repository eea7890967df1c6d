/* `vireo disk upload FILE ...` and `vireo disk download DISK FILE`
 * (docs/cli.md "Disk images"): a disk image streamed to or from the
 * engine's /api/disks/ID/content with libcurl's read and write callbacks,
 * one buffer at a time, never the whole file. */
#include "transfer_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "engine_cmd.h"
#include "http_client.h"
#include "storage_cmd.h"
#include "table.h"

extern char **environ;

static const kind sd_kind = {"sd", "storagedomains", NULL, 0, NULL, VR_NO_NAMES, true, false, NULL, NULL, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: vireo disk upload FILE --storage-domain SD [--alias ALIAS] [--format raw|cow]"
               " [--description TEXT] [--json]\n"
               "       vireo disk download ALIAS-or-ID FILE\n"
               "upload detects the image's format with qemu-img info (raw, or qcow2 = cow), creates a disk of"
               " its virtual size\nand streams the file into it; download streams the disk's volume (raw bytes,"
               " or the qcow2 file) to FILE.\n");
}

/* `qemu-img info --output=json FILE` (an argv array, no shell): its
 * format and virtual size. 0, or 1 with a message. */
static int probe(const char *file, char *format, size_t flen, long long *vsize)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return perror("vireo: pipe"), 1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"qemu-img", "info", "--output=json", (char *)file, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "qemu-img", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc) {
        close(pfd[0]);
        fprintf(stderr, "vireo: cannot run qemu-img to detect the format of %s (%s); give --format\n", file,
                strerror(rc));
        return 1;
    }
    char out[65536];
    size_t n = 0;
    ssize_t r;
    while ((r = read(pfd[0], out + n, sizeof(out) - 1 - n)) > 0 || (r < 0 && errno == EINTR))
        n += r > 0 ? (size_t)r : 0;
    close(pfd[0]);
    out[n] = '\0';
    int st = 0;
    waitpid(pid, &st, 0);
    json_t *info = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? json_loads(out, 0, NULL) : NULL;
    const char *fmt = json_string_value(json_object_get(info, "format"));
    *vsize = json_integer_value(json_object_get(info, "virtual-size"));
    if (!fmt) {
        fprintf(stderr, "vireo: qemu-img cannot read %s as a disk image\n", file);
        json_decref(info);
        return 1;
    }
    snprintf(format, flen, "%s", fmt);
    json_decref(info);
    return 0;
}

/* A curl handle set up like the client's own: HTTPS only, the session's
 * CA, its token; no overall timeout (an image takes as long as it takes),
 * but a stalled transfer (under 1 KiB/s for 60 s) is given up. */
static CURL *start(const vr_session *s, const char *url, struct curl_slist **hdrs, char *errbuf)
{
    CURL *c = curl_easy_init();
    char *auth = NULL;
    if (!c || asprintf(&auth, "Authorization: Bearer %s", s->token ? s->token : "") < 0) {
        if (c)
            curl_easy_cleanup(c);
        return NULL;
    }
    *hdrs = curl_slist_append(*hdrs, auth);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    vr_http_secure(c, s, url);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vireo-cli/0.1");
    return c;
}

/* The answer's JSON (a fault, or the disk), kept small. */
typedef struct sink {
    char body[65536];
    size_t len;
    int fd;            /* download: the file (only for a 200) */
    CURL *c;
    long long written;
    bool hole;         /* the file ends in a skipped zero block */
} sink;

static size_t to_body(char *data, size_t size, size_t n, void *userp)
{
    sink *k = userp;
    size_t add = size * n, room = sizeof(k->body) - 1 - k->len;
    memcpy(k->body + k->len, data, add < room ? add : room);
    k->len += add < room ? add : room;
    k->body[k->len] = '\0';
    return add;
}

static int report(const char *what, CURLcode cc, const char *errbuf, long status, sink *k, json_t **ok)
{
    if (cc != CURLE_OK) {
        fprintf(stderr, "vireo: %s: %s\n", what, *errbuf ? errbuf : curl_easy_strerror(cc));
        return 3;
    }
    json_t *j = json_loads(k->body, 0, NULL);
    if (status >= 200 && status < 300) {
        *ok = j;
        return 0;
    }
    json_t *f = json_object_get(j, "fault");
    char *detail = vr_text_clean(json_string_value(json_object_get(f, "detail")) ?: k->body);
    fprintf(stderr, "vireo: HTTP %ld: %s: %s\n", status,
            json_string_value(json_object_get(f, "reason")) ?: "Error", detail ? detail : "");
    free(detail);
    json_decref(j);
    return 1;
}

static int upload(const vr_session *s, int argc, char **argv)
{
    static const struct option opts[] = {{"storage-domain", 1, NULL, 's'}, {"alias", 1, NULL, 'a'},
                                         {"format", 1, NULL, 'f'},         {"description", 1, NULL, 'd'},
                                         {"json", 0, NULL, 'j'},           {"help", 0, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sd = NULL, *alias = NULL, *format = NULL, *desc = NULL;
    bool json = false;
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': sd = optarg; break;
        case 'a': alias = optarg; break;
        case 'f': format = optarg; break;
        case 'd': desc = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !sd || (format && strcmp(format, "raw") && strcmp(format, "cow"))) {
        usage(stderr);
        return 2;
    }
    const char *file = argv[optind];
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vireo: cannot read %s: %s\n", file, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char seen[32] = "";
    long long vsize = 0;
    int rc = 0;
    if (!format || !strcmp(format, "cow"))
        rc = probe(file, seen, sizeof(seen), &vsize);
    if (rc == 0 && *seen && strcmp(seen, "raw") && strcmp(seen, "qcow2")) {
        fprintf(stderr, "vireo: %s is a %s image; Vireo takes raw and qcow2 (qemu-img convert -O qcow2 it)\n",
                file, seen);
        rc = 1;
    } else if (rc == 0 && format && *seen && strcmp(seen, !strcmp(format, "cow") ? "qcow2" : "raw")) {
        fprintf(stderr, "vireo: %s is %s, not %s\n", file, seen, format);
        rc = 1;
    }
    bool cow = format ? !strcmp(format, "cow") : !strcmp(seen, "qcow2");
    /* raw: the disk is the file, to the next 512 bytes */
    long long size = cow ? vsize : (st.st_size + 511) / 512 * 512;
    char *sd_id = NULL, *id = NULL;
    if (rc == 0 && (size <= 0 || st.st_size == 0)) {
        fprintf(stderr, "vireo: %s is empty\n", file);
        rc = 1;
    }
    if (rc == 0)
        rc = vr_resolve(s, &sd_kind, sd, &sd_id);
    json_t *disk = NULL;
    if (rc == 0) {
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        char def[65];
        size_t j = 0;
        for (const char *p = base; *p && j < 64; p++) /* an alias from the file's name */
            def[j++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p) ? *p : '_';
        def[j] = '\0';
        json_t *body = json_pack("{s:s, s:s, s:I, s:s, s:s}", "alias", alias ? alias : def, "storage_domain", sd_id,
                                 "provisioned_size", (json_int_t)size, "format", cow ? "cow" : "raw", "content",
                                 "upload");
        if (desc)
            json_object_set_new(body, "description", json_string(desc));
        vr_response r;
        rc = vr_http(s, "POST", "/api/disks", body, 0, &r);
        json_decref(body);
        const char *v = json_string_value(json_object_get(r.json, "id"));
        if (rc == 0 && !(id = v ? strdup(v) : NULL))
            rc = 3;
        vr_response_free(&r);
    }
    char *url = NULL, errbuf[CURL_ERROR_SIZE] = "";
    if (rc == 0 && asprintf(&url, "%s/api/disks/%s/content", s->url, id) < 0)
        rc = 3;
    if (rc == 0) {
        FILE *in = fdopen(fd, "rb");
        struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
        hdrs = vr_http_add_language(curl_slist_append(hdrs, "Accept: application/json"));
        hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
        sink *k = calloc(1, sizeof(*k));
        CURL *c = in && k ? start(s, url, &hdrs, errbuf) : NULL;
        if (!c) {
            fprintf(stderr, "vireo: cannot initialize libcurl\n");
            rc = 3;
        } else {
            fd = -1; /* the FILE owns it */
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L); /* PUT, read with fread from `in` */
            curl_easy_setopt(c, CURLOPT_READDATA, in);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_body);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
            CURLcode cc = curl_easy_perform(c);
            long status = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            rc = report("upload", cc, errbuf, status, k, &disk);
            curl_easy_cleanup(c);
        }
        if (in)
            fclose(in);
        else if (fd >= 0)
            close(fd);
        fd = -1;
        curl_slist_free_all(hdrs);
        free(k);
        if (rc)
            fprintf(stderr, "vireo: disk %s was not filled (it is illegal or empty now: upload again, or delete"
                    " it)\n", id);
    }
    if (fd >= 0)
        close(fd);
    if (rc == 0 && json) {
        char *t = json_dumps(disk, JSON_INDENT(2));
        printf("%s\n", t ? t : "{}");
        free(t);
    } else if (rc == 0) {
        vr_show_print(stdout, disk);
    }
    json_decref(disk);
    free(url);
    free(id);
    free(sd_id);
    return rc;
}

/* Write a block of the download; all-zero blocks become holes, so a sparse
 * disk stays sparse in the file. */
static size_t to_file(char *data, size_t size, size_t n, void *userp)
{
    sink *k = userp;
    size_t add = size * n;
    long status = 0;
    curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return to_body(data, size, n, userp);
    bool zero = true;
    for (size_t i = 0; i < add && zero; i++)
        zero = !data[i];
    if (zero) {
        k->hole = true;
    } else {
        for (size_t done = 0; done < add;) {
            ssize_t w = pwrite(k->fd, data + done, add - done, (off_t)(k->written + (long long)done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return 0; /* curl fails with a write error */
            done += (size_t)w;
        }
        k->hole = false;
    }
    k->written += (long long)add;
    return add;
}

static int download(const vr_session *s, int argc, char **argv)
{
    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 4) {
        usage(stderr);
        return 2;
    }
    char *id = NULL, *url = NULL, *part = NULL, errbuf[CURL_ERROR_SIZE] = "";
    int rc = vr_cli_resolve_disk(s, argv[2], &id);
    if (rc == 0 && (asprintf(&url, "%s/api/disks/%s/content", s->url, id) < 0 ||
                    asprintf(&part, "%s.part", argv[3]) < 0))
        rc = 3;
    sink *k = rc == 0 ? calloc(1, sizeof(*k)) : NULL;
    /* Into FILE.part, renamed at the end: a broken download leaves no FILE. */
    if (rc == 0 && k && (k->fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        fprintf(stderr, "vireo: cannot create %s: %s\n", part, strerror(errno));
        rc = 1;
    }
    if (rc == 0) {
        struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/octet-stream, application/json");
        CURL *c = k ? start(s, url, &hdrs, errbuf) : NULL;
        if (!c) {
            fprintf(stderr, "vireo: cannot initialize libcurl\n");
            rc = 3;
        } else {
            k->c = c;
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_file);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
            CURLcode cc = curl_easy_perform(c);
            long status = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            json_t *ignore = NULL;
            rc = report("download", cc, errbuf, status, k, &ignore);
            json_decref(ignore);
            curl_easy_cleanup(c);
        }
        curl_slist_free_all(hdrs);
        if (rc == 0 && ((k->hole && ftruncate(k->fd, (off_t)k->written) < 0) || fsync(k->fd) < 0 ||
                        rename(part, argv[3]) < 0)) {
            fprintf(stderr, "vireo: cannot write %s: %s\n", argv[3], strerror(errno));
            rc = 1;
        }
        close(k->fd);
        if (rc)
            unlink(part);
        else
            printf("%lld bytes written to %s\n", k->written, argv[3]);
    }
    free(k);
    free(part);
    free(url);
    free(id);
    return rc;
}

int vr_transfer_cmd(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "disk") || (strcmp(argv[1], "upload") && strcmp(argv[1], "download")))
        return -1;
    bool help = argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
    if (help) {
        usage(stdout);
        return 0;
    }
    vr_session s;
    int rc = vr_session_load(&s, 0);
    if (rc == 0)
        rc = !strcmp(argv[1], "upload") ? upload(&s, argc, argv) : download(&s, argc, argv);
    vr_session_clear(&s);
    return rc;
}
