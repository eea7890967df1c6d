/* The browser portals (docs/portal.md): the built files of portal/ served
 * as they are from one directory, with the headers that keep the pages to
 * their own code (a strict Content-Security-Policy, no cookies, no
 * framing). The portals themselves talk only to the public REST API. */
#pragma once

#include <stdbool.h>

#include "http.h"

/* Where the engine looks for the portal unless told (--portal-dir). */
#ifndef VR_PORTAL_DIR
#define VR_PORTAL_DIR "/usr/share/vireo/portal"
#endif

/* Whether path is the portal's: "/", "/admin" or "/vm" (or under them),
 * "/portal/..." (GET /metrics counts them as one route, "{portal}"). */
bool vr_portal_path(const char *path);

/* Answer a portal path: "/", "/admin" and "/vm" (and any path under them)
 * get the one page index.html, "/portal/FILE" the built file FILE (its
 * .gz twin for a client that accepts gzip). Returns false, resp untouched,
 * for every other path. dir may lack the built files: the pages then say
 * how to build them (503), and the rest of the engine is unaffected. */
bool vr_portal_handle(const char *dir, vr_http_req *req, vr_http_resp *resp);
