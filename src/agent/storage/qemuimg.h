/* qemu-img, run as a child process with an argv array (never a shell):
 * create, info, resize and convert of volume files. Paths and formats come
 * from the agent's own volume layout, but every value still travels as its
 * own argv element, so nothing in them can become an option. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"

/* Program run for qemu-img; tests may point it elsewhere. */
extern const char *vr_qemuimg_program;

/* Create path as fmt ("raw"/"qcow2") of size bytes. preallocated: raw gets
 * preallocation=falloc, qcow2 preallocation=metadata. qcow2 is compat=1.1. */
int vr_qemuimg_create(const char *path, const char *fmt, long long size, bool preallocated,
                      vr_error *err);

/* A qcow2 overlay at path of size bytes whose backing file is `backing`
 * (a name relative to path's directory: volumes of one image share it). */
int vr_qemuimg_create_overlay(const char *path, const char *backing, const char *backing_fmt,
                              long long size, vr_error *err);

/* `qemu-img commit -b base top`: top's data into base (top is left empty,
 * so top over base still reads the same throughout). Offline only. */
int vr_qemuimg_commit(const char *top, const char *base, vr_error *err);

/* Change path's backing file name without touching data (`rebase -u`):
 * only for a backing with the same content. Offline only. */
int vr_qemuimg_rebase_unsafe(const char *path, const char *backing, const char *backing_fmt,
                             vr_error *err);

/* `qemu-img info --output=json -U` of path; *info is a new reference. */
int vr_qemuimg_info(const char *path, json_t **info, vr_error *err);

/* Grow path (format fmt) to size bytes; preallocated raw files are grown
 * with falloc so they stay preallocated. */
int vr_qemuimg_resize(const char *path, const char *fmt, long long size, bool preallocated,
                      vr_error *err);

/* Asked every ~200 ms while a convert runs: progress (0-100) so far, and
 * whether to stop. Returning true kills qemu-img. */
typedef bool (*vr_qemuimg_progress_fn)(void *opaque, double percent);

/* `qemu-img convert -p -t CACHE -T CACHE -f SRC_FMT -O DST_FMT src dst`.
 * cache is "none" (O_DIRECT, for shared storage) or "writeback" (file
 * systems without O_DIRECT). -ECANCELED when progress asked to stop (the
 * child is killed and reaped); dst is left for the caller to remove. */
int vr_qemuimg_convert(const char *src, const char *src_fmt, const char *dst,
                       const char *dst_fmt, const char *cache, vr_qemuimg_progress_fn progress,
                       void *opaque, vr_error *err);

/* The same into a new qcow2 layer dst over backing (a file name relative
 * to dst's directory, of format backing_fmt): only src's own layer (what
 * it holds above its backing file) is copied. */
int vr_qemuimg_convert_layer(const char *src, const char *src_fmt, const char *dst, const char *backing,
                             const char *backing_fmt, const char *cache, vr_qemuimg_progress_fn progress,
                             void *opaque, vr_error *err);

/* Parse the last "(NN.NN/100%)" progress mark in buf (len bytes); -1 if
 * none. Exposed for unit tests. */
double vr_qemuimg_parse_progress(const char *buf, size_t len);
