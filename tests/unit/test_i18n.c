/* Messages as ids plus arguments (src/common/i18n.c, mo.c, error.c): the
 * capture of each printf conversion, rendering in Japanese from the built
 * catalog (reordered arguments, %.*s, %%), causes nested into the message
 * that quotes them, kinds' names as translated terms, Accept-Language
 * negotiation, a damaged catalog refused, and every kind's title among
 * the terms. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "i18n.h"
#include "jsonrpc.h"
#include "kind.h"
#include "mo.h"
#include "terms.h"

static json_t *capture(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *m = vr_i18n_vcapture(fmt, ap);
    va_end(ap);
    return m;
}

static char *dump(json_t *m)
{
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    return s;
}

static void check_capture(void)
{
    char *s = dump(capture("%s '%s' has %lld of %d (%.1f%%) %c %zu %-4s| %.3s", "vm7", "a", 42LL, -7, 12.25, 'x',
                           (size_t)9, "ab", "abcdef"));
    CHECK(s && !strcmp(s, "{\"id\":\"%s '%s' has %lld of %d (%.1f%%) %c %zu %-4s| %.3s\","
                          "\"args\":[\"vm7\",\"a\",\"42\",\"-7\",\"12.2\",\"x\",\"9\",\"ab  \",\"abc\"]}"));
    free(s);
    /* a star's value is an argument of its own, as printf numbers them */
    s = dump(capture("%s: %.*s!", "db", 3, "abcdef"));
    CHECK(s && !strcmp(s, "{\"id\":\"%s: %.*s!\",\"args\":[\"db\",\"3\",\"abc\"]}"));
    free(s);
    /* what cannot be captured is left to the English text */
    CHECK(!capture("%1$s", "x"));
    CHECK(!capture("%m"));
    /* invalid UTF-8 in an argument becomes U+FFFD, so it goes into JSON */
    s = dump(capture("%s", "a\xff"));
    CHECK(s && strstr(s, "a\xEF\xBF\xBD"));
    free(s);
}

static void check_render(void)
{
    char out[512];
    /* English is the id itself */
    json_t *a = json_pack("[s,s]", "data center", "dc1");
    CHECK(vr_i18n_render(out, sizeof(out), "%s '%s' created", a, VR_LANG_EN) > 0 &&
          !strcmp(out, "data center 'dc1' created"));
    json_decref(a);
    /* Japanese reorders: %2$s before %1$s */
    a = json_pack("[s,s,s]", "vm1", "h1", "boom");
    CHECK(vr_i18n_render(out, sizeof(out), "VM '%s' failed to start on host '%s': %s", a, VR_LANG_JA) > 0);
    CHECK(!strcmp(out, "ホスト 'h1' で VM 'vm1' の起動に失敗しました: boom"));
    json_decref(a);
    /* %6$.*5$s takes the sixth argument; the fifth was its precision */
    a = json_pack("[s,s,s,s,s,s]", "db", "h", "5432", "u", "3", "why");
    CHECK(vr_i18n_render(out, sizeof(out), "cannot connect to PostgreSQL database '%s' on %s:%s as '%s': %.*s", a,
                         VR_LANG_JA) > 0);
    CHECK_STR_CONTAINS(out, "h:5432 の PostgreSQL データベース 'db' に 'u' として接続できません: why");
    json_decref(a);
    /* too few arguments for the format: no rendering */
    a = json_pack("[s]", "x");
    CHECK(vr_i18n_render(out, sizeof(out), "%s '%s' created", a, VR_LANG_JA) < 0 && !out[0]);
    json_decref(a);
    /* a message without a translation renders as its id */
    a = json_pack("[s]", "x");
    CHECK(vr_i18n_render(out, sizeof(out), "not in the catalog: %s", a, VR_LANG_JA) > 0 &&
          !strcmp(out, "not in the catalog: x"));
    json_decref(a);
    CHECK(!strcmp(vr_i18n_translate("%s", VR_LANG_JA), "%s"));
}

static int fail_start(vr_error *err, const char *vm)
{
    vr_error cause = {0};
    vr_error_set(&cause, VR_ERR_IO, "cannot connect to %s:%d: %s", "10.0.0.1", 54321, "Connection refused");
    return vr_error_set(err, VR_ERR_IO, "cannot start VM '%s': %s", vm, cause.message);
}

static void check_errors(void)
{
    vr_error err = {0};
    char buf[512];
    fail_start(&err, "vm1");
    CHECK(!strcmp(err.message, "cannot start VM 'vm1': cannot connect to 10.0.0.1:54321: Connection refused"));
    CHECK(vr_error_text(&err, VR_LANG_EN, buf, sizeof(buf)) == err.message);
    /* the cause was captured as its own message: both parts are Japanese */
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)),
                  "VM 'vm1' を起動できません: 10.0.0.1:54321 に接続できません: Connection refused"));
    /* re-set with the message itself (a new code): still translated */
    vr_error_set(&err, VR_ERR_CONFLICT, "%s", err.message);
    CHECK_STR_CONTAINS(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)), "を起動できません");
    /* a kind's name is a term: translated though it is an argument */
    vr_error_set(&err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", "data center", "x1");
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)), "識別子が 'x1' のデータセンターはありません"));
    /* a piece made by vr_i18n_format is a message when quoted */
    char why[128];
    vr_i18n_format(why, sizeof(why), " on host '%s'", "h1");
    CHECK(!strcmp(why, " on host 'h1'"));
    vr_error_set(&err, VR_ERR_BAD_STATE, "VM '%s' is %s%s", "vm1", "up", why);
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)), "VM 'vm1' は up です (ホスト 'h1')"));
    /* a phrase of the catalog quoted as an argument is translated; a
     * single word (it could be an object's name) is not */
    vr_error_set(&err, VR_ERR_BAD_STATE, "host '%s' is %s: %s", "h1", "preparingformaintenance",
                 "its VMs migrate away");
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)),
                  "ホスト 'h1' は preparingformaintenance です: VM を他のホストへマイグレーションしています"));
    vr_error_set(&err, VR_ERR_BAD_STATE, "host '%s' is %s: %s", "h1", "nonresponsive", "fenced");
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)), "ホスト 'h1' は nonresponsive です: fenced"));
    /* a message changed by hand afterwards is not rendered from stale ids */
    snprintf(err.message, sizeof(err.message), "changed by hand");
    CHECK(!strcmp(vr_error_text(&err, VR_LANG_JA, buf, sizeof(buf)), "changed by hand"));
    vr_error_clear(&err);
    CHECK(!err.i18n[0]);
}

static void check_negotiate(void)
{
    CHECK(!strcmp(vr_i18n_negotiate(NULL), "en"));
    CHECK(!strcmp(vr_i18n_negotiate(""), "en"));
    CHECK(!strcmp(vr_i18n_negotiate("ja"), "ja"));
    CHECK(!strcmp(vr_i18n_negotiate("ja-JP,ja;q=0.9,en-US;q=0.8"), "ja"));
    CHECK(!strcmp(vr_i18n_negotiate("en-US,en;q=0.9,ja;q=0.8"), "en"));
    CHECK(!strcmp(vr_i18n_negotiate("fr, ja;q=0.5"), "ja"));
    CHECK(!strcmp(vr_i18n_negotiate("ja;q=0"), "en"));
    CHECK(!strcmp(vr_i18n_negotiate("jav, japanese"), "en"));
    CHECK(!strcmp(vr_i18n_negotiate("*"), "en"));
}

static void check_bad_catalog(void)
{
    char path[] = "/tmp/vireo-test-mo-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    /* the magic, then tables pointing past the end of the file */
    unsigned char bad[28] = {0xde, 0x12, 0x04, 0x95, 0, 0, 0, 0, 5, 0, 0, 0, 0xff, 0xff, 0, 0, 28, 0, 0, 0};
    CHECK(write(fd, bad, sizeof(bad)) == (ssize_t)sizeof(bad));
    close(fd);
    vr_error err = {0};
    CHECK(!vr_mo_open(path, &err) && err.code == VR_ERR_IO);
    unlink(path);
    CHECK(!vr_mo_open("/nonexistent/vireo.mo", &err));
}

static void check_terms(void)
{
    for (size_t i = 0; i < vr_nkinds; i++) {
        bool found = false;
        for (size_t t = 0; t < vr_nterms && !found; t++)
            found = !strcmp(vr_kinds[i]->title, vr_terms[t]);
        if (!found)
            fprintf(stderr, "kind title '%s' is not in src/engine/core/terms.c\n", vr_kinds[i]->title);
        CHECK(found);
    }
}

/* An agent's error reaches the engine with its id and arguments (the
 * reply's error.data.i18n, vr_rpc_error) and is believed only when it
 * renders to the very message it came with (vr_error_relay). */
static void check_relay(void)
{
    vr_error agent = {0}, got = {0}, outer = {0};
    char buf[512];
    vr_error_set(&agent, VR_ERR_IO, "cannot connect to %s:%d: %s", "10.0.0.1", 54321, "Connection refused");
    json_t *id = json_integer(7);
    json_t *reply = vr_rpc_error(id, &agent);
    json_decref(id);
    json_t *e = json_object_get(reply, "error");
    char *cap = json_dumps(json_object_get(json_object_get(e, "data"), "i18n"), JSON_COMPACT);
    CHECK(cap && strstr(cap, "cannot connect to %s:%d: %s"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    CHECK(vr_error_relay(&got, VR_ERR_IO, msg, cap) == -1 && !strcmp(got.message, msg));
    CHECK(!strcmp(vr_error_text(&got, VR_LANG_JA, buf, sizeof(buf)),
                  "10.0.0.1:54321 に接続できません: Connection refused"));
    /* quoted by the engine's own message: both parts Japanese */
    vr_error_set(&outer, VR_ERR_IO, "cannot start VM '%s': %s", "vm1", got.message);
    CHECK(!strcmp(vr_error_text(&outer, VR_LANG_JA, buf, sizeof(buf)),
                  "VM 'vm1' を起動できません: 10.0.0.1:54321 に接続できません: Connection refused"));
    /* a capture that says something else than the message is dropped */
    vr_error_relay(&got, VR_ERR_IO, "cannot connect to 10.0.0.2:1: refused", cap);
    CHECK(!strcmp(vr_error_text(&got, VR_LANG_JA, buf, sizeof(buf)), "cannot connect to 10.0.0.2:1: refused"));
    /* as is one that does not parse, and none at all (a message this
     * thread did not relay before: one it did keeps its ids) */
    vr_error_relay(&got, VR_ERR_IO, "cannot connect to 10.0.0.3:9: x", "{not json");
    CHECK(!strcmp(vr_error_text(&got, VR_LANG_JA, buf, sizeof(buf)), "cannot connect to 10.0.0.3:9: x"));
    vr_error_relay(&got, VR_ERR_STORAGE, "cannot connect to 10.0.0.4:9: x", NULL);
    CHECK(!strcmp(vr_error_text(&got, VR_LANG_JA, buf, sizeof(buf)), "cannot connect to 10.0.0.4:9: x") &&
          got.code == VR_ERR_STORAGE);
    free(cap);
    json_decref(reply);
}

int main(void)
{
    vr_error err = {0};
    /* off until enabled: an agent's errors carry no capture */
    vr_error_set(&err, VR_ERR_IO, "cannot read %s", "x");
    CHECK(!err.i18n[0] && !strcmp(err.message, "cannot read x"));
    vr_error_clear(&err);
    vr_i18n_enable();
    vr_i18n_set_terms(vr_terms, vr_nterms);
    CHECK(vr_i18n_load(VR_TEST_LOCALE_DIR, &err) == 0);
    if (err.code)
        fprintf(stderr, "%s\n", err.message);
    check_capture();
    check_render();
    check_errors();
    check_relay();
    check_negotiate();
    check_bad_catalog();
    check_terms();
    vr_i18n_unload();
    return CHECK_DONE();
}
