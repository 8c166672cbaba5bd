/* log.h: the program's log file. Nothing writes to the terminal behind curses'
 * back, so every module logs here; the desk opens <home>/fusion.log at start-up.
 * Before log_open, messages at WARN and above go to stderr unless log_quiet(). */
#ifndef FUSION_BASE_LOG_H
#define FUSION_BASE_LOG_H

#include <stdbool.h>

#include "base/err.h"

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Opens (appends to) the log file; thread-safe afterwards. */
int log_open(const char *path, err *e) __attribute__((warn_unused_result));
void log_close(void);
/* Minimum level written (default LOG_INFO; FUSION_LOG_LEVEL=debug lowers it). */
void log_set_level(log_level level);
/* While the terminal UI runs nothing may reach stderr: quiet drops the fallback. */
void log_quiet(bool quiet);
void log_msg(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_D(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_E(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

#endif
