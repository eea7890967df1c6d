/* Running a helper program (mount, umount) as an argv array: no shell, no
 * string pasting, a deadline, and its output kept for the error message. */
#pragma once

#include <stddef.h>

/* Run argv[0] (an absolute path) with argv, stdin from /dev/null, stdout
 * and stderr captured into out (NUL-terminated, trimmed, may be NULL).
 * Killed after timeout_s seconds. Returns the exit status (0..255), or
 * -ETIMEDOUT, or another -errno when it could not be started. */
int vr_run_argv(const char *const argv[], int timeout_s, char *out, size_t size);

/* The same with `input` written to its stdin (then closed): how secrets
 * reach a helper, never on its command line. NULL: stdin from /dev/null. */
int vr_run_argv_input(const char *const argv[], const char *input, int timeout_s, char *out, size_t size);

/* The same with extra_env ("NAME=value" strings, NULL-terminated) added to
 * the helper's environment: for a secret a helper reads from there
 * (IPMI_PASSWORD), which only root can read, unlike a command line. */
int vr_run_argv_env_input(const char *const argv[], const char *const extra_env[], const char *input,
                          int timeout_s, char *out, size_t size);
