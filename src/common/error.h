/* Typed errors carried from the place a failure is detected up to the RPC
 * reply: a JSON-RPC error code plus a human message naming what failed. */
#pragma once

#include <stddef.h>

/* JSON-RPC 2.0 standard codes. */
#define VR_ERR_PARSE -32700
#define VR_ERR_INVALID_REQUEST -32600
#define VR_ERR_NO_METHOD -32601
#define VR_ERR_INVALID_PARAMS -32602
#define VR_ERR_INTERNAL -32603
/* Vireo codes (documented in docs/agent-api.md). */
#define VR_ERR_LIBVIRT -32000     /* libvirt refused or failed */
#define VR_ERR_NO_VM -32001       /* no such VM */
#define VR_ERR_VM_EXISTS -32002   /* name or UUID already in use */
#define VR_ERR_LIMIT -32003       /* a hypervisor limit would be exceeded */
#define VR_ERR_CONFLICT -32004    /* resource used by another VM (MAC...) */
#define VR_ERR_UNSUPPORTED -32005 /* host cannot do this (e.g. kvm without hw) */
#define VR_ERR_BAD_STATE -32006   /* VM is not in a state allowing this */
#define VR_ERR_NOT_OWNED -32007   /* domain exists but is not managed by Vireo */
#define VR_ERR_IO -32008          /* transport / file error */
#define VR_ERR_UNAVAILABLE -32009 /* a service this one depends on is down (database) */
#define VR_ERR_NOT_SPM -32010     /* a storage change asked of a host that is not the SPM */
#define VR_ERR_LEASE_HELD -32011  /* sanlock: the lease is held by another live host */
#define VR_ERR_STORAGE -32012     /* mount, metadata or storage I/O failure (names the path) */
#define VR_ERR_NETWORK -32013     /* a network configuration the host cannot apply (names the host) */
/* Engine codes (the REST API maps every code to HTTP in engine/api/fault.c). */
#define VR_ERR_NOT_FOUND -32100     /* the object (or path) does not exist */
#define VR_ERR_FORBIDDEN -32101     /* authenticated, but not allowed */
#define VR_ERR_METHOD -32102        /* the resource does not take this method */
#define VR_ERR_UNPROCESSABLE -32103 /* well-formed but cannot be done */

typedef struct vr_error {
    int code;          /* one of VR_ERR_*; 0 when no error was set */
    char message[512]; /* human readable, names the object concerned (English) */
    /* The same message as an id and arguments ({"id","args"} JSON, see
     * i18n.h), for rendering in another language; empty when it did not
     * fit. Trusted only while message is what vr_error_set wrote. */
    char i18n[1536];
    unsigned i18n_hash; /* of message, when i18n was captured */
} vr_error;

/* Record an error (printf-style). Always returns -1 so callers can write
 * `return vr_error_set(err, ...)`. err may be NULL. The message is valid
 * UTF-8 (invalid bytes become U+FFFD) and, when too long, loses its middle
 * rather than its end (see vr_utf8_fit). */
int vr_error_set(vr_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* err's message in lang ("en", "ja"; NULL: English): rendered into buf
 * from its id and arguments, or err->message itself when it has none (set
 * by hand, or relayed from an agent). */
const char *vr_error_text(const vr_error *err, const char *lang, char *buf, size_t size);

/* err's message as its id and arguments (JSON text, see i18n.h), or NULL
 * when it has none or its message was changed since. */
const char *vr_error_captured(const vr_error *err);

/* Record an error relayed from a peer (an agent's reply): message as is,
 * and captured (its id and arguments, may be NULL) kept only when it
 * renders in English to exactly message. Always returns -1. */
int vr_error_relay(vr_error *err, int code, const char *message, const char *captured);

/* Clear err back to "no error". */
void vr_error_clear(vr_error *err);
