/* notify.c: an eventfd plus an atomic topic mask (see notify.h). Ordering: a notifier
 * ORs its topics in before it writes the eventfd, and the loop drains the eventfd before
 * it takes the mask, so a topic is either taken now or followed by another wake-up. */
#include "notify.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int notify_fd = -1;
static atomic_uint notify_topics;

int ui_notify_init(err *e)
{
    if (notify_fd >= 0)
        return 0;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot create the UI notification descriptor: %s",
                       strerror(errno));
    atomic_store(&notify_topics, 0);
    notify_fd = fd;
    return 0;
}

void ui_notify_close(void)
{
    if (notify_fd >= 0)
        close(notify_fd);
    notify_fd = -1;
}

int ui_notify_fd(void)
{
    return notify_fd;
}

void ui_notify(unsigned topics)
{
    int saved = errno;
    atomic_fetch_or(&notify_topics, topics ? topics : UI_TOPIC_ALL);
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the loop is woken anyway. */
    ssize_t r = write(notify_fd, &one, sizeof one);
    (void)r;
    errno = saved;
}

unsigned ui_notify_take(void)
{
    uint64_t count = 0, v;
    while (read(notify_fd, &v, sizeof v) == (ssize_t)sizeof v)
        count += v;
    unsigned topics = atomic_exchange(&notify_topics, 0);
    if (count > 0 && topics == 0)
        topics = UI_TOPIC_ALL;
    return topics;
}

int ui_thread_create(pthread_t *t, void *(*fn)(void *), void *arg, err *e)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "cannot start a worker thread: %s", strerror(rc));
    return 0;
}
