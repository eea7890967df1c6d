/* Every timeout of the engine in one place, derived from the three an
 * operator sets (--agent-timeout-s, --poll-ms, --grace-s), with why their
 * order is safe. The agent's own timeouts (its --io-timeout, monitor
 * timeout) are documented in docs/agent-api.md. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Seconds one call to an agent may take (connect + TLS + reply). */
int vr_timeout_agent_call_s(const vr_engine *e, const char *verb);

/* Milliseconds for a TLS handshake with an agent. */
unsigned vr_timeout_tls_handshake_ms(const vr_engine *e);

/* Seconds an HTTP connection may stay silent before it is closed. */
unsigned vr_timeout_http_idle_s(const vr_engine *e);

/* Seconds a job step that makes one agent call may run (the call, plus
 * the database writes around it). */
int vr_timeout_job_step_s(const vr_engine *e, const char *verb);

/* Seconds to wait at shutdown for the engine's threads. */
int vr_timeout_shutdown_s(const vr_engine *e);

/* Refuse settings whose order would be unsafe (e.g. a grace shorter than
 * one poll plus one call: a host would go NonResponsive - and its VMs
 * Unknown - after a single slow answer). */
int vr_timeouts_check(const vr_engine *e, vr_error *err);
