/* Messages as an id plus arguments, rendered per language (issue 12,
 * docs/architecture.md "Languages").
 *
 * The printf format of vr_error_set and vr_event IS the message id, as in
 * gettext: each call is captured as {"id": format, "args": [...]}, every
 * argument rendered to text on its own (an argument quoting a message this
 * thread just produced becomes that message, so a cause wrapped into
 * "cannot start VM %s: %s" is translated too). Rendering looks the id up
 * in the language's catalog (po/<lang>.po compiled by msgfmt, read by
 * mo.c) and puts the arguments into the translation, which may reorder
 * them with %1$s. English is the id itself. */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

#include "error.h"

#define VR_LANG_EN "en"
#define VR_LANG_JA "ja"

/* Capture messages from now on (the engine calls it first thing; the
 * agent and the CLI, whose messages are not rendered per reader, never
 * do, so vr_error_set costs them nothing more). */
void vr_i18n_enable(void);

/* Load the catalogs under localedir (<dir>/ja/LC_MESSAGES/vireo.mo, as
 * meson installs it). Call once before threads start. A missing catalog
 * leaves that language out (-1 with err set; English always works). */
int vr_i18n_load(const char *localedir, vr_error *err);
void vr_i18n_unload(void);

/* The language to answer in for an Accept-Language value (RFC 9110
 * q-values; "ja", "ja-JP"... give Japanese when its catalog is loaded,
 * anything else English). Returns a static string; NULL means English. */
const char *vr_i18n_negotiate(const char *accept_language);

/* The language of the request this thread serves (API threads set it per
 * request; every other thread renders English). */
void vr_i18n_thread_set(const char *lang);
const char *vr_i18n_thread(void);

/* Mark a string for extraction into the catalogs (scripts/update-po)
 * where it is not a format given to vr_error_set / vr_event. */
#define N_(s) (s)

/* Words the engine puts into messages as arguments - object kinds ("data
 * center", "VM") - that are translated like messages: a captured %s
 * argument equal to one becomes that message. Set once before threads
 * start; terms must outlive the process's use of them. */
void vr_i18n_set_terms(const char *const *terms, size_t n);

/* Capture fmt and its arguments as {"id": fmt, "args": [text...]} (new
 * reference), or NULL when fmt uses what cannot be captured (%n, %m,
 * positional arguments) or memory is short. Consumes ap. */
json_t *vr_i18n_vcapture(const char *fmt, va_list ap);

/* snprintf for a piece of text that is itself a message (a suffix, a
 * reason quoted later): dst gets the English text, valid UTF-8 (as
 * vr_utf8_format), and the thread remembers its capture, so a message
 * that quotes dst takes it translated. Returns the length written. */
size_t vr_i18n_format(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t vr_i18n_vformat(char *dst, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Note that this thread produced the message `english` whose capture is
 * the JSON text `captured`: a later capture whose %s argument is exactly
 * that text takes the captured message instead. */
void vr_i18n_remember(const char *english, const char *captured);

/* The captured message this thread recently produced as exactly text
 * (see vr_i18n_remember), as {"id","args"} (new reference), or NULL. */
json_t *vr_i18n_recall(const char *text);

/* The translation of msgid in lang (msgid itself when there is none). */
const char *vr_i18n_translate(const char *msgid, const char *lang);

/* Render the message id with args (a JSON array of strings and nested
 * {"id","args"} objects) in lang into dst: valid UTF-8, cut in the middle
 * when too long. Returns its length, or -1 (dst empty) when the arguments
 * do not fit the format. */
int vr_i18n_render(char *dst, size_t size, const char *id, const json_t *args, const char *lang);

/* The same from a capture as JSON text; -1 also when it does not parse. */
int vr_i18n_render_text(char *dst, size_t size, const char *captured, const char *lang);
