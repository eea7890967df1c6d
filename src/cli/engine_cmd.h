/* What the engine verbs share: the command-line parser, name lookup, paths
 * and printing (engine_cmd.c), waiting for jobs (jobs_cmd.c). The verbs on
 * a VM's devices (vm_devices_cmd.c) are built from these. Functions that
 * can fail print their own "vireo: ..." message and return the CLI exit
 * code (cli.h). */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "http_client.h"
#include "kinds.h"

/* Options shared by all verbs; each verb accepts a subset (a bit mask).
 * O_EXTRA: the options of the verb's own table (vr_xopt). */
enum { O_SEARCH, O_JSON, O_MAX, O_PAGE, O_WAIT, O_TIMEOUT, O_NAME, O_FOLLOW, O_SORTBY, O_HELP, O_EXTRA };
#define BIT(o) (1u << (o))
#define VR_LIST_OPTS (BIT(O_SEARCH) | BIT(O_JSON) | BIT(O_MAX) | BIT(O_PAGE) | BIT(O_SORTBY))
#define VR_JOB_OPTS (BIT(O_WAIT) | BIT(O_TIMEOUT) | BIT(O_JSON))

#define VR_MAX_POS 2
typedef struct args {
    const char *search, *name, *sortby, *pos[VR_MAX_POS];
    long max, page, timeout;
    bool json, wait, follow;
    unsigned seen;
    int nx, npos;
    /* The verb's own options in command-line order (xval NULL: a flag). */
    const char *xopt[64], *xval[64];
} args;

/* Parse argv[first..]: the options in `allowed` (--help always; with
 * O_EXTRA those of xo[0..nxo)), then the operands named in `operands`
 * ("NAME-or-ID MAC": one word each; "" for none). Returns 0, -1 for --help,
 * or 2 after a message. */
int vr_parse_args(int argc, char **argv, int first, unsigned allowed, const vr_xopt *xo, size_t nxo,
                  const char *operands, args *a);

/* Decimal integer within [min, max], nothing else. */
bool vr_parse_long(const char *s, long min, long max, long *out);
/* "vireo: bad value for --OPT: 'VAL'"; returns 2. */
int vr_bad_value(const char *opt, const char *val);

/* NAME-or-ID of kind k to its id (free with free()). */
int vr_resolve(const vr_session *s, const kind *k, const char *ref, char **id);
/* /api/COLL/ID[/SUB], the id escaped; NULL when out of memory. */
char *vr_entity_path(const kind *k, const char *id, const char *sub);

void vr_print_raw(const vr_response *r);
/* The body as JSON (json) or as "key: value" lines. */
void vr_print_entity(const vr_response *r, bool json);

/* Poll GET /api/jobs/ID until the job ends or `timeout` seconds pass.
 * Returns 0 when it finished; 1 after a message when it failed, was
 * cancelled or is still going at the timeout; 3 when the engine is lost. */
int vr_job_wait(const vr_session *s, const char *job_id, long timeout);

/* After a 2xx answer to a change that the engine may run as a job
 * (202 {"job":{"id","href"}}): without --wait the job's reference is
 * printed; with --wait the job is waited for and *waited set, the caller
 * then printing what changed. Any other answer's body is printed as it
 * is. Returns the exit code. */
int vr_job_answer(const vr_session *s, const vr_response *r, const args *a, bool *waited);

/* METHOD /api/COLL/ID[/SUB] with body (may be NULL) on the entity named
 * ref, a change the engine may run as a job: prints the answer (see
 * vr_job_answer), with --wait the entity once its job finished. */
int vr_entity_change(const vr_session *s, const kind *k, const char *ref, const char *method, const char *sub,
                     json_t *body, const args *a);

/* POST /api/COLL/ID/SUB with body on the entity named ref, an action whose
 * job makes a new entity of kind made (the job's object_id): prints the
 * answer (see vr_job_answer), with --wait the new entity once made. */
int vr_entity_make(const vr_session *s, const kind *k, const char *ref, const char *sub, json_t *body,
                   const kind *made, const args *a);

/* GET path and print the entity (after a job). Returns the exit code. */
int vr_get_print(const vr_session *s, const char *path, bool json);

/* `vireo vm VERB ...` for the device and live-change verbs
 * (vm_devices_cmd.c); -1 when verb is none of them. */
int vr_vm_devices_cmd(const kind *vm, int argc, char **argv);
void vr_vm_devices_usage(FILE *f);

/* create_body.c. Usage checks of `KIND create|update` that need no server
 * (2 with a message on stderr, else 0). */
int vr_create_check(const kind *k, const char *verb, const args *a);
/* The create/update body of a (*out is the caller's); 0 or an exit code. */
int vr_create_body(const vr_session *s, const kind *k, const args *a, json_t **out);
/* Whether verb is `host install` or `host enrollcertificate`. */
bool vr_deploy_verb(const kind *k, const char *verb);
/* Their usage checks: only --ssh-* options, and a way to log in. */
int vr_deploy_check(const kind *k, const char *verb, const args *a);
