#include "driver/hrtimer.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void on_readable(uv_poll_t *p, int status, int events)
{
    hrt_timer *t = (hrt_timer *)p;
    uint64_t expirations;
    (void)events;
    /* Reading clears the expiration; EAGAIN means it was disarmed meanwhile. */
    if (read(t->fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations && status == 0)
        return;
    t->cb(t);
}

int hrt_init(uv_loop_t *loop, hrt_timer *t, hrt_cb cb, cut_err *err)
{
    void *data = t->data;
    memset(t, 0, sizeof *t);
    t->data = data;
    t->cb = cb;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0) return cut_err_set(err, CUT_EIO, "timerfd_create: %s", strerror(errno));
    if (uv_poll_init(loop, &t->poll, t->fd) != 0) {
        close(t->fd);
        return cut_err_set(err, CUT_EIO, "cannot watch the timer");
    }
    t->poll.data = t->data;
    return 0;
}

int hrt_start_at(hrt_timer *t, uint64_t when_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (when_ns == 0) when_ns = 1; /* 0 would disarm */
    its.it_value.tv_sec = (time_t)(when_ns / 1000000000u);
    its.it_value.tv_nsec = (long)(when_ns % 1000000000u);
    if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) return CUT_EIO;
    if (!uv_is_active((uv_handle_t *)&t->poll)) uv_poll_start(&t->poll, UV_READABLE, on_readable);
    return 0;
}

void hrt_stop(hrt_timer *t)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    timerfd_settime(t->fd, 0, &its, NULL);
}

void hrt_close(hrt_timer *t, uv_close_cb close_cb)
{
    t->poll.data = t->data;
    /* uv_close removes the fd from epoll right away, so the fd can be closed now. */
    uv_close((uv_handle_t *)&t->poll, close_cb);
    close(t->fd);
    t->fd = -1;
}
