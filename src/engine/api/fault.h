/* The API's one error path: handlers fail with a vr_error whose code says
 * what went wrong (not found, conflict, invalid, forbidden, unavailable,
 * agent failure...) and whose message names the object; this module alone
 * turns it into an HTTP status and the fault body. */
#pragma once

#include "error.h"
#include "http.h"


/* The HTTP status of an error code. */
int vr_fault_status(int code);

/* Fill resp with the fault of err (status, reason, detail). Returns -1. */
int vr_fault(vr_http_resp *resp, const vr_error *err);
