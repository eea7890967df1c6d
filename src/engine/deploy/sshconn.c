#include "sshconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libssh/libssh.h>

#include "i18n.h"
#include "utf8.h"

#define MAX_OUTPUT (64 * 1024)

struct vr_ssh {
    ssh_session session;
    char address[256];
    int timeout_s;
};

void vr_ssh_close(vr_ssh *s)
{
    if (!s)
        return;
    if (s->session) {
        ssh_disconnect(s->session);
        ssh_free(s->session);
    }
    free(s);
}

static int host_key(vr_ssh *s, const vr_ssh_target *t, char fingerprint[128], vr_error *err)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    if (ssh_get_server_publickey(s->session, &key) != SSH_OK ||
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK) {
        ssh_key_free(key);
        return vr_error_set(err, VR_ERR_IO, "host %s sent no usable host key", s->address);
    }
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    snprintf(fingerprint, 128, "%s", fp ? fp : "");
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(key);
    if (t->fingerprint && *t->fingerprint && strcmp(t->fingerprint, fingerprint))
        return vr_error_set(err, VR_ERR_CONFLICT,
                            "the SSH host key of %s changed: %s was pinned, the host now shows %s; "
                            "refusing to log in (if the host was reinstalled, confirm the new key)",
                            s->address, t->fingerprint, fingerprint);
    return 0;
}

int vr_ssh_open(const vr_ssh_target *t, vr_ssh **out, char fingerprint[128], vr_error *err)
{
    fingerprint[0] = '\0';
    vr_ssh *s = calloc(1, sizeof(*s));
    if (!s || !(s->session = ssh_new())) {
        free(s);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    snprintf(s->address, sizeof(s->address), "%s", t->address);
    s->timeout_s = t->timeout_s > 0 ? t->timeout_s : 10;
    unsigned port = (unsigned)(t->port > 0 ? t->port : 22);
    long timeout = s->timeout_s;
    int strict = 0; /* we check the key ourselves, against our pin, not ~/.ssh/known_hosts */
    int no = 0;
    ssh_options_set(s->session, SSH_OPTIONS_HOST, t->address);
    ssh_options_set(s->session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s->session, SSH_OPTIONS_USER, "root");
    ssh_options_set(s->session, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(s->session, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
    ssh_options_set(s->session, SSH_OPTIONS_PROCESS_CONFIG, &no); /* no ~/.ssh/config, no /etc/ssh/ssh_config */
    if (ssh_connect(s->session) != SSH_OK) {
        vr_error_set(err, VR_ERR_IO, "cannot reach %s:%u over SSH: %s", t->address, port,
                     ssh_get_error(s->session));
        goto fail;
    }
    if (host_key(s, t, fingerprint, err) < 0)
        goto fail;
    int rc;
    if (t->password) {
        rc = ssh_userauth_password(s->session, NULL, t->password);
    } else {
        ssh_key key = NULL;
        if (!t->key_file || ssh_pki_import_privkey_file(t->key_file, NULL, NULL, NULL, &key) != SSH_OK) {
            vr_error_set(err, VR_ERR_INTERNAL, "cannot read the engine's SSH key");
            goto fail;
        }
        rc = ssh_userauth_publickey(s->session, NULL, key);
        ssh_key_free(key);
    }
    if (rc != SSH_AUTH_SUCCESS) {
        static const char *const fmts[2][2] = { /* [by password][with libssh's error] */
            {N_("%s refused root's login by the engine's SSH key (is it in root's authorized_keys?)"),
             N_("%s refused root's login by the engine's SSH key (is it in root's authorized_keys?): %s")},
            {N_("%s refused root's login by password"), N_("%s refused root's login by password: %s")}};
        vr_error_set(err, rc == SSH_AUTH_ERROR ? VR_ERR_IO : VR_ERR_FORBIDDEN,
                     fmts[t->password != NULL][rc == SSH_AUTH_ERROR], t->address,
                     rc == SSH_AUTH_ERROR ? ssh_get_error(s->session) : "");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    vr_ssh_close(s);
    return -1;
}

/* Keep the last MAX_OUTPUT bytes: the end of a failing command says why. */
static void append(char **buf, size_t *len, const char *data, size_t n)
{
    if (n >= MAX_OUTPUT) {
        data += n - MAX_OUTPUT;
        n = MAX_OUTPUT;
    }
    if (*len + n > MAX_OUTPUT) {
        size_t drop = *len + n - MAX_OUTPUT;
        memmove(*buf, *buf + drop, *len - drop);
        *len -= drop;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
}

/* Valid UTF-8; control characters other than newline and tab become '?'
 * (output is shown in events and API answers). */
static char *clean_output(const char *buf, size_t len)
{
    size_t need = vr_utf8_sanitize(NULL, 0, buf, len) + 1;
    char *out = malloc(need);
    if (!out)
        return NULL;
    vr_utf8_sanitize(out, need, buf, len);
    for (char *p = out; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            *p = '?';
    return out;
}

void vr_ssh_set_timeout(vr_ssh *s, int timeout_s)
{
    s->timeout_s = timeout_s > 0 ? timeout_s : 10;
}

int vr_ssh_run(vr_ssh *s, const char *command, char **output, int *exit_status, vr_error *err)
{
    return vr_ssh_run_input(s, command, NULL, 0, output, exit_status, err);
}

int vr_ssh_run_input(vr_ssh *s, const char *command, const void *input, size_t input_len, char **output,
                     int *exit_status, vr_error *err)
{
    ssh_channel ch = ssh_channel_new(s->session);
    if (!ch || ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, command) != SSH_OK) {
        if (ch)
            ssh_channel_free(ch);
        return vr_error_set(err, VR_ERR_IO, "cannot run a command on %s: %s", s->address, ssh_get_error(s->session));
    }
    /* Data goes on the command's stdin, never into its text. */
    for (size_t off = 0; input && off < input_len;) {
        int n = ssh_channel_write(ch, (const char *)input + off, (uint32_t)(input_len - off));
        if (n <= 0) {
            ssh_channel_free(ch);
            return vr_error_set(err, VR_ERR_IO, "cannot send data to %s: %s", s->address, ssh_get_error(s->session));
        }
        off += (size_t)n;
    }
    ssh_channel_send_eof(ch);
    char *buf = malloc(MAX_OUTPUT), chunk[4096];
    size_t len = 0;
    time_t deadline = time(NULL) + s->timeout_s;
    int rc = 0;
    while (buf && !ssh_channel_is_eof(ch)) {
        if (time(NULL) > deadline) {
            rc = vr_error_set(err, VR_ERR_IO, "a command on %s did not end within %d s", s->address, s->timeout_s);
            break;
        }
        int got = 0;
        for (int is_stderr = 0; is_stderr < 2 && got >= 0; is_stderr++) {
            int n = ssh_channel_read_timeout(ch, chunk, sizeof(chunk), is_stderr, 200);
            if (n > 0)
                append(&buf, &len, chunk, (size_t)n);
            got = n < 0 ? n : got;
        }
        if (got < 0) {
            rc = vr_error_set(err, VR_ERR_IO, "the SSH connection to %s broke: %s", s->address,
                              ssh_get_error(s->session));
            break;
        }
    }
    if (!buf)
        rc = vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    ssh_channel_send_eof(ch);
    int status = rc == 0 ? ssh_channel_get_exit_status(ch) : -1;
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    if (rc == 0) {
        *exit_status = status;
        if (!(*output = clean_output(buf, len)))
            rc = vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    free(buf);
    return rc;
}
