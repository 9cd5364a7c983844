// One structured journald entry per entry, in journald's native protocol
// over one connected datagram socket.
//
// sd_journal_sendv() sends each entry to the socket's path, so the kernel
// looks the path up on every call, and passes two iovecs per field (and it
// added CODE_FILE, CODE_LINE and CODE_FUNC of this file to every entry). At
// 20k transactions a second dnsvisd used 12.3% of a core with it, against
// 7.8% now and 4.4% with JSON lines (tests/bench/capture_bench.py measures
// the journal run against the JSON one). Here the entry is one buffer
// (journal_native.hpp) and the socket is connected once.
// As with sd_journal_sendv(), a send waits while journald's queue is full,
// and an entry too large for a datagram goes in a sealed memfd.
#pragma once

#include <string>

#include "journal_native.hpp"
#include "sink.hpp"

namespace dnsvis {

class JournalSink final : public Sink {
public:
    // journald's socket; tests stand in for journald with a socket of their own.
    explicit JournalSink(std::string socket_path = "/run/systemd/journal/socket");
    ~JournalSink() override;
    JournalSink(const JournalSink&) = delete;
    JournalSink& operator=(const JournalSink&) = delete;

    FieldWriter& begin_entry() override;
    void end_entry() override;

private:
    bool deliver(std::string_view entry);
    bool connect_socket();
    bool send_in_memfd(std::string_view entry);

    std::string socket_path_;
    int fd_ = -1;  // connected on first use, and again after journald restarts
    bool unreachable_ = false;  // the last attempt to connect failed (and was logged)
    JournalEntryWriter entry_;
};

}  // namespace dnsvis
