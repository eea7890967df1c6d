/* Consoles for the engine's WebSocket proxy (docs/agent-api.md "Console
 * verbs"): VM.setTicket sets a VM's VNC password for a while, and
 * VM.attachConsole turns the caller's connection into a byte relay to the
 * VM's serial console or its VNC server. */
#pragma once

#include "agent.h"
#include "tls.h"

typedef struct vr_console vr_console;

/* Open the console params name ({uuid, console: serial|graphics}) for
 * VM.attachConsole; nothing is sent yet. */
int vr_console_open(vr_agent *a, json_t *params, vr_console **out, vr_error *err);

/* Relay bytes between the console and the TLS connection (socket fd)
 * until either side ends: a serial console first replays the tail of its
 * log. Frees c. The connection carries no more frames afterwards. */
void vr_console_relay(vr_console *c, vr_tls_conn *tls, int fd);

/* Close an unused console. NULL-safe. */
void vr_console_free(vr_console *c);

/* The VM's console log file: <console-dir>/vireo-<uuid in lowercase>-console.log
 * (named after the UUID so it can be read after the VM is gone). */
void vr_console_log_path(const vr_agent *a, const char *uuid, char *path, size_t len);

extern const vr_verb vr_vm_console_verbs[];
