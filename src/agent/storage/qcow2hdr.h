/* A qcow2 overlay written by the agent itself, without running qemu-img:
 * the header of an empty layer over a backing file is a few hundred bytes
 * and three small tables (QEMU's docs/interop/qcow2.txt), and a process
 * start costs more than the whole write (docs/performance.md "Live
 * snapshot"). */
#pragma once

#include "error.h"

/* Create path (it must not exist; never through a symlink) as an empty
 * qcow2 (version 3, compat=1.1, 64 KiB clusters, 16-bit refcounts) layer of
 * size bytes over `backing` (a name relative to path's directory) of format
 * backing_fmt ("raw"/"qcow2"): what `qemu-img create -f qcow2 -o compat=1.1
 * -b BACKING -F FMT PATH SIZE` makes, flushed to storage. size: a multiple
 * of 512 above 0, at most 64 TiB. A failure removes what it created. */
int vr_qcow2_create_overlay(const char *path, const char *backing, const char *backing_fmt,
                            long long size, vr_error *err);
