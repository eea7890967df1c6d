/* Host deploy jobs (docs/operations.md "Host deploy over SSH"): install a
 * host over SSH - connect and pin its host key, check it, install the
 * packages, make its key on the host and sign its certificate request,
 * write the certificate and CA back, configure and start the agent - then
 * hand it to its monitor (installing -> initializing -> up), or mark it
 * installfailed with the step and its output. Enrolling a certificate
 * runs the key and certificate steps on an installed host, which stays up.
 *
 * The root password lives only in memory, from the request to the job
 * that uses it: never in the database, a log, an event or an answer. A
 * job that finds it gone (the engine restarted) fails and says so; one
 * that logs in with the engine's key starts again. */
#pragma once

#include "engine.h"

/* Check body.ssh of a create, install or enrollcertificate request:
 * {port 1-65535 (default 22), password | use_engine_key: true,
 * fingerprint "SHA256:...", soft_fencing}; fills the default port. For an
 * action, stored is the host's stored ssh member (port, pinned fingerprint
 * and soft_fencing are taken from it when not given; NULL at create). */
int vr_deploy_check_ssh(json_t *ssh, json_t *stored, vr_error *err);

/* Whether a create body's ssh asks for an install: it has a password or
 * use_engine_key (else it only says how to reach the host: host_ssh.h). */
bool vr_deploy_wanted(json_t *ssh);

/* The stored form of ssh: {port, fingerprint ("" until first contact),
 * auth: "password" | "engine_key", soft_fencing} - never the password
 * (new reference). */
json_t *vr_deploy_stored_ssh(json_t *ssh);

/* Start action ("install" or "enrollcertificate") on host_id with the
 * checked ssh member: a pending job (one deploy job per host at a time,
 * VR_ERR_BAD_STATE otherwise). The password, if any, goes to the job in
 * memory only. */
int vr_deploy_submit(vr_engine *e, const char *host_id, const char *action, json_t *ssh, const char *user,
                     char job_id[37], vr_error *err);

/* After an engine restart (host removals too: removejob.h): an install or enrollment by the engine's key
 * runs again from its first step; one by password fails (the password is
 * gone) and an install leaves the host installfailed. False when job is
 * not a deploy job. */
bool vr_deploy_resume(vr_engine *e, json_t *job);
