/* Verb handlers of src/agent/net that live outside net_verbs.c. */
#pragma once

#include "agent.h"

int vr_vm_update_nic(vr_agent *a, json_t *params, json_t **result, vr_error *err);
