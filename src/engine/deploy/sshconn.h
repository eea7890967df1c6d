/* SSH sessions to hosts being deployed (libssh): connect, check the host
 * key against the pinned fingerprint before anything is sent, log in as
 * root with a password or the engine's key (sshkey.h), run fixed commands
 * and collect their output. */
#pragma once

#include <stdbool.h>

#include "error.h"

typedef struct vr_ssh vr_ssh;

typedef struct vr_ssh_target {
    const char *address;
    int port;                 /* 22 when 0 */
    const char *password;     /* root's; NULL: log in with key_file */
    const char *key_file;     /* the engine's private key */
    const char *fingerprint;  /* pinned "SHA256:..." host key; NULL or "": first contact */
    int timeout_s;            /* connect and each command (10 when 0) */
} vr_ssh_target;

/* Connect and authenticate as root. fingerprint receives the host key's
 * SHA256 fingerprint as soon as it is known (also when a later step
 * fails), so the first contact can show it for confirmation. Errors:
 * VR_ERR_IO (unreachable, timeout), VR_ERR_CONFLICT (the host key is not
 * the pinned one: nothing, not even the password, was sent), VR_ERR_FORBIDDEN
 * (authentication refused). Passwords never appear in messages. */
int vr_ssh_open(const vr_ssh_target *t, vr_ssh **out, char fingerprint[128], vr_error *err);

/* Run command (a fixed text: never built from input) on the host; *output
 * gets stdout and stderr, made valid UTF-8 with control characters other
 * than newline and tab replaced, at most 64 KiB (its end kept). */
int vr_ssh_run(vr_ssh *s, const char *command, char **output, int *exit_status, vr_error *err);

/* vr_ssh_run with input_len bytes of input on the command's stdin (then
 * end of file): how files and data reach the host, never through the
 * command's text. */
int vr_ssh_run_input(vr_ssh *s, const char *command, const void *input, size_t input_len, char **output,
                     int *exit_status, vr_error *err);

/* How long each following command may take (a package install takes
 * minutes; 10 s when 0). */
void vr_ssh_set_timeout(vr_ssh *s, int timeout_s);

void vr_ssh_close(vr_ssh *s);
