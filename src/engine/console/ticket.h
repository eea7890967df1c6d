/* One-time console tickets (docs/rest-api.md "Consoles"): issued by
 * POST /api/vms/ID/ticket for one VM, one user and one console, taken by
 * the WebSocket proxy at most once and only before they expire. Kept in
 * the engine's memory: an engine restart voids them (a client asks again). */
#pragma once

#include <stdbool.h>

#define VR_TICKET_LEN 32 /* characters of base64url: 192 random bits */

typedef struct vr_ticket {
    char vm_id[37];
    char user[128];
    char console[16];      /* serial | graphics */
    long long expires_ms;  /* epoch milliseconds */
    char address[64];      /* graphics: where the VNC listens on the display network ("": reached through the agent) */
    int port;
} vr_ticket;

/* Issue a ticket: fills out (VR_TICKET_LEN + 1 bytes) and t->expires_ms.
 * Returns 0 or -1 (no randomness). */
int vr_ticket_issue(vr_ticket *t, int seconds, char out[VR_TICKET_LEN + 1]);

/* Record where the issued ticket's graphics console listens (the VM's
 * host's address on its cluster's display network, the VNC port), for the
 * proxy to connect there. */
void vr_ticket_set_display(const char *ticket, const char *address, int port);

/* Why a ticket was refused. */
typedef enum {
    VR_TICKET_OK = 0,
    VR_TICKET_UNKNOWN,   /* never issued (or long gone) */
    VR_TICKET_USED,      /* taken before */
    VR_TICKET_EXPIRED,
    VR_TICKET_OTHER_VM,  /* issued for another VM: not taken */
    VR_TICKET_OTHER_USER,/* issued to another user than the caller's token: not taken */
} vr_ticket_status;

/* Take the ticket for vm_id (and user, when not NULL: the caller's bearer
 * token's): on VR_TICKET_OK *t is what was issued and the ticket cannot be
 * taken again. Any other answer leaves *t describing the ticket when it is
 * known (vm_id empty otherwise). */
vr_ticket_status vr_ticket_take(const char *ticket, const char *vm_id, const char *user, vr_ticket *t);

/* Human words for a status ("was already used", ...). */
const char *vr_ticket_status_text(vr_ticket_status s);
