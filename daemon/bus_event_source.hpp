// Serves an sdbus-c++ connection from dnsvisd's sd-event loop, so the bus
// and the ring buffer share one thread and nothing needs a lock.
//
// sdbus-c++ 1.2 (Debian 12) has no attachSdEventLoop(); it exposes the
// connection's fd, poll events and timeout instead. This does what
// sd_bus_attach_event() does with them: an I/O source and a timer, both
// re-armed from a prepare callback before every poll, since sending a
// message or queuing a reply changes what the connection waits for.
#pragma once

#include <systemd/sd-event.h>

#include <sdbus-c++/IConnection.h>

namespace dnsvis {

class BusEventSource final {
public:
    // Throws sdbus::Error when the connection has no fd to poll, and
    // std::system_error when the event sources cannot be added.
    BusEventSource(sd_event* event, sdbus::IConnection& connection);
    ~BusEventSource();
    BusEventSource(const BusEventSource&) = delete;
    BusEventSource& operator=(const BusEventSource&) = delete;

    // The connection failed and is no longer served (until dnsvisd restarts).
    bool broken() const { return broken_; }

private:
    void dispatch();
    void disable();
    void give_up(const char* reason);

    static int on_io(sd_event_source* source, int fd, uint32_t revents, void* userdata);
    static int on_time(sd_event_source* source, uint64_t usec, void* userdata);
    static int on_prepare(sd_event_source* source, void* userdata);

    sdbus::IConnection& connection_;
    sd_event_source* io_source_ = nullptr;
    sd_event_source* time_source_ = nullptr;
    bool broken_ = false;
};

}  // namespace dnsvis
