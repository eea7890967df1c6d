/* Subcommands of the vireo CLI. Each returns the process exit code:
 * 0 success, 1 the server refused (message printed), 2 usage error,
 * 3 cannot reach the server. */
#pragma once

#include <stdbool.h>

typedef struct vr_session vr_session;

int vr_cli_agent(int argc, char **argv);

/* `vireo login|logout|events|datacenter|cluster|host|vm|job ...` against
 * vireo-engine's REST API. argv[0] is the command; returns -1 if it is
 * none of these. */
int vr_cli_engine(int argc, char **argv);
/* `vireo login` / `vireo logout` (http_client.c). */
int vr_cli_login(int argc, char **argv);
int vr_cli_logout(int argc, char **argv);

/* `vireo events --follow` (events_follow.c): print `backlog` recent events,
 * then new ones as they come, until SIGINT/SIGTERM or an error. */
int vr_events_follow(const vr_session *s, const char *search, long backlog, bool json);
