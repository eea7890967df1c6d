/* Disk image transfer (docs/rest-api.md, "Disk content"): PUT
 * /api/disks/ID/content streams an image into a disk made for it, GET
 * streams a disk's volume out; both move the bytes in chunks through an
 * agent (Volume.write / Volume.read), never holding a whole image. */
#pragma once

#include "engine.h"
#include "http.h"

/* The server's streamer (vr_http_opts.streamer): takes the body of PUT
 * /api/disks/ID/content after authentication and the checks that need no
 * body (refusing before the body otherwise); NULL for every other request. */
vr_http_stream *vr_transfer_stream(void *engine, vr_http_req *req, vr_http_resp *resp);

/* GET /api/disks/ID/content of an authenticated request: true when the
 * path is this resource (resp is filled: a streamed answer or a fault). */
bool vr_transfer_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* Record disk `id` from a checked create body with "content": "upload":
 * status `empty`, no volume yet (the first upload makes it). */
int vr_transfer_disk_create(vr_engine *e, const char *id, json_t *body, vr_error *err);
