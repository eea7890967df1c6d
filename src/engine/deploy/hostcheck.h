/* The first step of a host deploy: what the host is, read over SSH with
 * one fixed command - OS, architecture, hardware virtualization, the
 * packages a Vireo host needs - and what stands in the way. */
#pragma once

#include <jansson.h>

#include "sshconn.h"

/* *report: {"os": "debian 12", "arch": "x86_64", "hw_virt": bool,
 * "dev_kvm": bool, "found": {"libvirtd": bool, "sanlock": bool,
 * "qemu-img": bool, "vireo-agent": bool}, "problems": [text...],
 * "warnings": [text...]}. A host with problems cannot be deployed as it
 * is; warnings (no hardware virtualization: guests run under TCG; missing
 * packages the deploy installs) do not stop it. */
int vr_host_check(vr_ssh *s, const char *address, json_t **report, vr_error *err);
