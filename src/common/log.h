/* Minimal leveled logging to stderr, safe to call from any thread. */
#pragma once

enum vr_log_level { VR_LOG_DEBUG = 0, VR_LOG_INFO, VR_LOG_WARN, VR_LOG_ERROR };

/* Messages below this level are dropped. Default: VR_LOG_INFO. */
void vr_log_set_level(enum vr_log_level level);

/* printf-style; a newline is appended. */
void vr_log(enum vr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define VR_DEBUG(...) vr_log(VR_LOG_DEBUG, __VA_ARGS__)
#define VR_INFO(...) vr_log(VR_LOG_INFO, __VA_ARGS__)
#define VR_WARN(...) vr_log(VR_LOG_WARN, __VA_ARGS__)
#define VR_ERROR(...) vr_log(VR_LOG_ERROR, __VA_ARGS__)
