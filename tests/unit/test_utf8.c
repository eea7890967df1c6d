/* UTF-8 hygiene: validity per RFC 3629, replacement of invalid sequences,
 * cuts only between characters, middle elision, error messages and log
 * lines that stay valid however long or broken their inputs are. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "log.h"
#include "utf8.h"

#define FFFD VR_UTF8_REPLACEMENT

static bool valid(const char *s) { return vr_utf8_valid(s, strlen(s)); }

static const char *sanitized(const char *src, size_t len, size_t size)
{
    static char out[256];
    vr_utf8_sanitize(out, size, src, len);
    return out;
}

static void check_validity(void)
{
    /* Boundaries of each length class. */
    static const char *const good[] = {
        "", "plain", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "d\xc3\xa9j\xc3\xa0 \xe2\x82\xac"};
    static const char *const bad[] = {
        "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x41", "\xe0\x80\x80", "\xe0\x9f\xbf",
        "\xed\xa0\x80", "\xed\xbf\xbf", "\xe2\x82", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff", "a\xe2\x82"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!valid(bad[i]));
    CHECK(!vr_utf8_valid("a\0b", 3)); /* NUL would end the C string early */
}

static void check_sanitize(void)
{
    CHECK(!strcmp(sanitized("a\xff" "b", 3, 64), "a" FFFD "b"));
    /* One U+FFFD per maximal subpart: "\xe2\x82" is one broken character. */
    CHECK(!strcmp(sanitized("\xe2\x82" "A", 3, 64), FFFD "A"));
    CHECK(!strcmp(sanitized("\xf0\x80\x80\x80", 4, 64), FFFD FFFD FFFD FFFD));
    CHECK(!strcmp(sanitized("\xed\xa0\x80", 3, 64), FFFD FFFD FFFD));
    CHECK(!strcmp(sanitized("x\xe2\x82", 3, 64), "x" FFFD));
    CHECK(!strcmp(sanitized("a\0b", 3, 64), "a" FFFD "b"));
    /* A character that does not fit is left out whole... */
    const char *s = "a\xc3\xa9\xe2\x82\xac" "b"; /* a é € b: 1+2+3+1 bytes */
    CHECK(!strcmp(sanitized(s, 7, 5), "a\xc3\xa9"));
    CHECK(!strcmp(sanitized(s, 7, 4), "a\xc3\xa9"));
    CHECK(!strcmp(sanitized(s, 7, 3), "a"));
    /* ...and a shorter one after it does not close the gap. */
    CHECK(!strcmp(sanitized(s, 7, 6), "a\xc3\xa9"));
    CHECK(vr_utf8_sanitize(NULL, 0, s, 7) == 7);
    char one[1] = {'x'};
    CHECK(vr_utf8_sanitize(one, 1, s, 7) == 7 && one[0] == '\0');
    CHECK(vr_utf8_sanitize((char[8]){0}, 8, "\xff", 1) == 3);
}

static void check_fit(void)
{
    char big[2048], out[64];
    size_t n = (size_t)snprintf(big, sizeof(big), "cannot start VM 'x': ");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\xc3\xa9");
    snprintf(big + n, sizeof(big) - n, ": No such file or directory");
    for (size_t size = 0; size <= sizeof(out); size++) {
        memset(out, 'Z', sizeof(out));
        size_t w = vr_utf8_fit(out, size, big, strlen(big));
        if (size == 0)
            continue;
        CHECK(w == strlen(out) && w < size && valid(out));
    }
    vr_utf8_fit(out, sizeof(out), big, strlen(big));
    CHECK(!strncmp(out, "cannot start VM 'x': ", 21));
    CHECK_STR_CONTAINS(out, "...");
    CHECK(strlen(out) > 27 && !strcmp(out + strlen(out) - 27, ": No such file or directory"));
    /* Short enough: unchanged. */
    CHECK(vr_utf8_fit(out, sizeof(out), "short", 5) == 5 && !strcmp(out, "short"));
}

/* Random bytes biased towards UTF-8 lead and continuation bytes, checked
 * against jansson's own validator (an independent implementation). */
static void check_random(void)
{
    static const unsigned char pool[] = {'a', 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed,
                                         0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f};
    srand(7);
    for (int round = 0; round < 20000; round++) {
        char in[12], out[16];
        size_t len = (size_t)(rand() % (int)sizeof(in));
        for (size_t i = 0; i < len; i++)
            in[i] = (char)pool[rand() % (int)sizeof(pool)];
        json_t *j = json_stringn(in, len);
        if ((j != NULL) != vr_utf8_valid(in, len)) {
            CHECK(!"vr_utf8_valid disagrees with jansson");
            break;
        }
        json_decref(j);
        size_t size = (size_t)(rand() % (int)sizeof(out)) + 1;
        size_t need = vr_utf8_sanitize(out, size, in, len);
        CHECK(valid(out) && strlen(out) < size && (need >= size || strlen(out) == need));
        if (vr_utf8_valid(in, len) && len < size)
            CHECK(strlen(out) == len && !memcmp(out, in, len));
    }
}

static void check_error_and_log(void)
{
    /* The agent's case: libvirt quotes a long non-ASCII path; 512 bytes cut
     * it, and the reason at the end must survive. */
    char path[1100] = "/srv/";
    for (int i = 0; i < 250; i++)
        strcat(path, "\xc3\xa9");
    vr_error err;
    vr_error_set(&err, VR_ERR_LIBVIRT, "cannot start VM '%s': Cannot access storage file '%s': %s",
                 "t-1", path, "No such file or directory");
    CHECK(valid(err.message) && strlen(err.message) < sizeof(err.message));
    CHECK(!strncmp(err.message, "cannot start VM 't-1'", 21));
    CHECK_STR_CONTAINS(err.message, "No such file or directory");
    json_t *j = json_string(err.message);
    CHECK(j != NULL);
    json_decref(j);
    vr_error_set(&err, VR_ERR_INVALID_PARAMS, "unknown member '%s'", "\xff\xfe");
    CHECK(!strcmp(err.message, "unknown member '" FFFD FFFD "'"));

    /* A log line: valid, one line, bounded. */
    FILE *tmp = tmpfile();
    int saved = dup(2);
    CHECK(tmp && saved >= 0 && dup2(fileno(tmp), 2) == 2);
    char long_text[5000];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    long_text[2040] = '\xc3';
    vr_log(VR_LOG_ERROR, "client: bad \xff request\n2020-01-01T00:00:00Z error: forged %s %s", path,
           long_text);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char line[4096] = "";
    rewind(tmp);
    size_t got = fread(line, 1, sizeof(line) - 1, tmp);
    fclose(tmp);
    line[got] = '\0';
    CHECK(got > 0 && got <= 2048 && line[got - 1] == '\n');
    CHECK(strchr(line, '\n') == line + got - 1); /* the forged line did not start */
    line[got - 1] = '\0';
    CHECK(valid(line));
    CHECK_STR_CONTAINS(line, "bad " FFFD " request?2020");
}

int main(void)
{
    check_validity();
    check_sanitize();
    check_fit();
    check_random();
    check_error_and_log();
    return CHECK_DONE();
}
