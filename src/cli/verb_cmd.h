/* What the command files built of verb tables share (network_cmd.c,
 * people_cmd.c): finding and parsing a verb, usage, sending a change and
 * printing lists. Functions print their own messages and return the CLI
 * exit code (cli.h). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "engine_cmd.h"

/* `vireo OBJ VERB OPERANDS [--OPTS]`: opts lists the verb's own options as
 * " a b c " (vr_xopt names); usage is their synopsis. */
typedef struct vr_verb {
    const char *obj, *verb, *operands, *opts, *usage;
    unsigned allowed;
} vr_verb;

/* argv[1] among the verbs of argv[0], its arguments parsed into a (a
 * create needs --name). NULL when there is nothing to run: *rc is then the
 * exit code (0 after --help, 2 after a message). */
const vr_verb *vr_verb_parse(int argc, char **argv, const vr_verb *verbs, size_t n, const vr_xopt *xo, size_t nxo,
                             args *a, int *rc);

/* Does --opt apply to v? */
bool vr_verb_has(const vr_verb *v, const char *opt);

/* METHOD path with body (may be NULL); prints the answer's entity. */
int vr_send_print(const vr_session *s, const char *method, const char *path, json_t *body, const args *a);

/* GET path and print its `coll` member as a table (or the JSON). */
int vr_list_print(const vr_session *s, const char *path, const char *coll, const vr_column *cols, size_t ncols,
                  const args *a);

/* GET the collection of k with --search, --sortby, --max, --page. */
int vr_kind_list_print(const vr_session *s, const kind *k, const args *a);

/* A kind whose names are unique within a parent only (affinity groups in
 * a cluster, quotas in a data center): list, show, create, update and
 * delete, the parent given by an option (--cluster) when a name is not
 * unique or for a create. */
typedef struct vr_nested {
    const kind *k;            /* its collection and columns */
    const char *parent_coll;  /* "clusters" */
    const char *parent_opt;   /* "cluster": its --option */
    const char *title;        /* "affinity group", in messages */
} vr_nested;

/* Run verb v (list, show, create, update, delete) of n; parent is the
 * parent's id or NULL. */
int vr_nested_run(const vr_session *s, const vr_nested *n, const vr_verb *v, const args *a, json_t *body,
                  const char *parent);

/* Build a verb's body from its options (*ref: an id an option resolved,
 * e.g. --cluster, or NULL), then run it. */
typedef int (*vr_verb_build_fn)(const vr_session *s, const vr_verb *v, const args *a, json_t *body, char **ref);
typedef int (*vr_verb_run_fn)(const vr_session *s, const vr_verb *v, const args *a, json_t *body, const char *ref);

/* A whole `vireo OBJ VERB ...` command: parse (vr_verb_parse), log in,
 * build, run; returns the exit code. */
int vr_verb_main(int argc, char **argv, const vr_verb *verbs, size_t n, const vr_xopt *xo, size_t nxo,
                 vr_verb_build_fn build, vr_verb_run_fn run);
