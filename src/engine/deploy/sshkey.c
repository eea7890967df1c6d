#include "sshkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "log.h"

/* Write text to path through a new file (mode) renamed into place. */
static int write_file(const char *path, const char *text, mode_t mode, vr_error *err)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return vr_error_set(err, VR_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return vr_error_set(err, VR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

static int make_key(const char *path, vr_error *err)
{
    ssh_key key = NULL;
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot generate the engine's SSH key");
    /* Exported to a name of our own under a 0077 umask, then renamed:
     * the private key is never readable by others, even briefly. */
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    mode_t old = umask(077);
    int rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp);
    umask(old);
    ssh_key_free(key);
    if (rc != SSH_OK || chmod(tmp, 0600) < 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return vr_error_set(err, VR_ERR_IO, "cannot write the engine's SSH key %s", path);
    }
    VR_INFO("made the engine's SSH key %s", path);
    return 0;
}

int vr_sshkey_ensure(const char *state_dir, char **pubkey, vr_error *err)
{
    char path[1024], pubpath[1100];
    snprintf(path, sizeof(path), "%s/" VR_SSHKEY_FILE, state_dir);
    snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return vr_error_set(err, VR_ERR_IO, "cannot read the engine's SSH key %s: %s", path, strerror(errno));
        if (make_key(path, err) < 0)
            return -1;
    } else if (st.st_mode & 077) {
        return vr_error_set(err, VR_ERR_IO, "the engine's SSH key %s is readable by others (mode %o): "
                            "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
    }
    ssh_key key = NULL;
    char *b64 = NULL;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK ||
        ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        ssh_key_free(key);
        return vr_error_set(err, VR_ERR_IO, "cannot read the engine's SSH key %s (not an OpenSSH "
                            "private key without a passphrase?)", path);
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    size_t n = strlen(b64) + strlen(host) + 64;
    char *line = malloc(n);
    if (line)
        snprintf(line, n, "%s %s vireo-engine@%s\n", ssh_key_type_to_char(ssh_key_type(key)), b64,
                 *host ? host : "localhost");
    ssh_string_free_char(b64);
    ssh_key_free(key);
    if (!line)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    /* The .pub beside it, for administrators on the engine machine. */
    if (write_file(pubpath, line, 0644, err) < 0) {
        free(line);
        return -1;
    }
    *pubkey = line;
    return 0;
}
