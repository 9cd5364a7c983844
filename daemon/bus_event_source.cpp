#include "bus_event_source.hpp"

#include <poll.h>
#include <sys/epoll.h>

#include <cstdint>
#include <system_error>

#include "log.hpp"

namespace dnsvis {

namespace {

// Messages handled per wake-up: a client flooding the bus must not keep
// the loop from draining the ring buffer. What is left is handled on the
// next iteration (the connection's timeout is then "now").
constexpr int max_messages_per_dispatch = 64;

uint32_t epoll_events(short poll_events) {
    uint32_t events = 0;
    if (poll_events & POLLIN)
        events |= EPOLLIN;
    if (poll_events & POLLOUT)
        events |= EPOLLOUT;
    return events;
}

}  // namespace

BusEventSource::BusEventSource(sd_event* event, sdbus::IConnection& connection) : connection_(connection) {
    const sdbus::IConnection::PollData poll = connection_.getEventLoopPollData();
    int r = sd_event_add_io(event, &io_source_, poll.fd, epoll_events(poll.events), on_io, this);
    if (r >= 0)
        r = sd_event_source_set_prepare(io_source_, on_prepare);
    if (r >= 0)
        r = sd_event_add_time(event, &time_source_, CLOCK_MONOTONIC, UINT64_MAX, 0, on_time, this);
    if (r < 0) {
        disable();
        throw std::system_error(-r, std::generic_category(), "Cannot add the bus to the event loop");
    }
    sd_event_source_set_description(io_source_, "bus-io");
    sd_event_source_set_description(time_source_, "bus-timeout");
    sd_event_source_set_enabled(time_source_, SD_EVENT_OFF);
}

BusEventSource::~BusEventSource() {
    disable();
}

void BusEventSource::disable() {
    io_source_ = sd_event_source_disable_unref(io_source_);
    time_source_ = sd_event_source_disable_unref(time_source_);
}

// Called from the sources' own callbacks: they are switched off here and
// freed by the destructor.
void BusEventSource::give_up(const char* reason) {
    log_warning("Lost the system bus connection, D-Bus control is off until dnsvisd restarts: %s", reason);
    broken_ = true;
    sd_event_source_set_enabled(io_source_, SD_EVENT_OFF);
    sd_event_source_set_enabled(time_source_, SD_EVENT_OFF);
}

void BusEventSource::dispatch() {
    try {
        for (int i = 0; i < max_messages_per_dispatch; ++i)
            if (!connection_.processPendingRequest())
                break;
    } catch (const std::exception& error) {
        // The bus went away (dbus-daemon stopped): capture goes on without it.
        give_up(error.what());
    }
}

int BusEventSource::on_io(sd_event_source*, int, uint32_t, void* userdata) {
    static_cast<BusEventSource*>(userdata)->dispatch();
    return 0;
}

int BusEventSource::on_time(sd_event_source*, uint64_t, void* userdata) {
    static_cast<BusEventSource*>(userdata)->dispatch();
    return 0;
}

int BusEventSource::on_prepare(sd_event_source*, void* userdata) {
    auto* self = static_cast<BusEventSource*>(userdata);
    if (self->broken_)
        return 0;
    sdbus::IConnection::PollData poll;
    try {
        poll = self->connection_.getEventLoopPollData();
    } catch (const std::exception& error) {
        self->give_up(error.what());
        return 0;
    }
    sd_event_source_set_io_events(self->io_source_, epoll_events(poll.events));
    if (poll.timeout_usec == UINT64_MAX) {
        sd_event_source_set_enabled(self->time_source_, SD_EVENT_OFF);
    } else {
        sd_event_source_set_time(self->time_source_, poll.timeout_usec);
        sd_event_source_set_enabled(self->time_source_, SD_EVENT_ONESHOT);
    }
    return 0;
}

}  // namespace dnsvis
