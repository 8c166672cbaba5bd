/* log.c: a mutex-guarded append-only log file with UTC timestamps. A message is made
 * safe (base/text.h) before it is written: whatever outside text it carries, the log
 * file (and stderr before it is open) gets one line without raw control bytes. */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/text.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static log_level log_min = LOG_INFO;
static bool log_is_quiet;
static bool log_env_read;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static void log_read_env(void)
{
    if (log_env_read)
        return;
    log_env_read = true;
    const char *lv = getenv("FUSION_LOG_LEVEL");
    if (lv && strcmp(lv, "debug") == 0)
        log_min = LOG_DEBUG;
}

int log_open(const char *path, err *e)
{
    /* The log names entities and operators: it is the operator's alone (0600). */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "ae") : NULL;
    if (!f) {
        int er = errno;
        if (fd >= 0)
            close(fd);
        return err_set(e, ERR_IO, "cannot open log file %s: %s", path, strerror(er));
    }
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    log_read_env();
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    pthread_mutex_unlock(&log_lock);
}

void log_set_level(log_level level)
{
    pthread_mutex_lock(&log_lock);
    log_env_read = true;
    log_min = level;
    pthread_mutex_unlock(&log_lock);
}

void log_quiet(bool quiet)
{
    pthread_mutex_lock(&log_lock);
    log_is_quiet = quiet;
    pthread_mutex_unlock(&log_lock);
}

void log_msg(log_level level, const char *module, const char *fmt, ...)
{
    pthread_mutex_lock(&log_lock);
    log_read_env();
    FILE *out = log_file;
    if (!out && !log_is_quiet && level >= LOG_WARN)
        out = stderr;
    if (level < log_min || !out) {
        pthread_mutex_unlock(&log_lock);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (out == stderr)
        fprintf(out, "fusion: %s: ", module ? module : "-");
    else
        fprintf(out, "%s.%03ldZ %-5s [%s] ", ts, (long)(tv.tv_usec / 1000),
                level_names[level], module ? module : "-");
    va_list ap;
    va_start(ap, fmt);
    char *raw = NULL;
    int n = vasprintf(&raw, fmt, ap);
    if (n < 0)
        raw = NULL; /* undefined after a failure */
    va_end(ap);
    char *safe = n >= 0 ? text_safe_dup(raw, (size_t)n) : NULL;
    fputs(safe ? safe : "(out of memory formatting a message)", out);
    free(safe);
    free(raw);
    fputc('\n', out);
    pthread_mutex_unlock(&log_lock);
}
