// One structured journald entry per entry, in journald's native protocol
// over one connected datagram socket, sent a batch at a time.
//
// sd_journal_sendv() sends each entry to the socket's path, so the kernel
// looks the path up on every call, and passes two iovecs per field (and it
// added CODE_FILE, CODE_LINE and CODE_FUNC of this file to every entry).
// Here each entry is one buffer (journal_native.hpp), the socket is
// connected once, and the entries of a batch of events leave in one
// sendmmsg() call, still one datagram each, as the protocol wants.
// tests/bench/capture_bench.py measures the journal run against the JSON one.
//
// As with sd_journal_sendv(), a send waits while journald's queue is full,
// and an entry too large for a datagram goes in a sealed memfd. Unlike it,
// the waits are bounded (output_stall.hpp), since a journald that takes
// nothing or next to nothing (it is stopped, or wedged on its disk) would
// otherwise hold dnsvisd's one event loop; past the bound, the rest of the
// batch is counted as lost.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "journal_native.hpp"
#include "output_stall.hpp"
#include "sink.hpp"

namespace dnsvis {

class JournalSink final : public Sink {
public:
    // journald's socket; tests stand in for journald with a socket of their own.
    explicit JournalSink(std::string socket_path = "/run/systemd/journal/socket",
                         std::chrono::milliseconds stall_timeout = std::chrono::seconds(5));
    ~JournalSink() override;
    JournalSink(const JournalSink&) = delete;
    JournalSink& operator=(const JournalSink&) = delete;

    FieldWriter& begin_entry() override { return writer_; }
    void end_entry() override;
    // Sends the entries written since the last flush: a batch ends.
    void flush() override;

private:
    // Appends each field to the batch, right after the entry before.
    class BatchWriter final : public FieldWriter {
    public:
        explicit BatchWriter(std::string& batch) : batch_(batch) {}
        void add(std::string_view name, std::string_view value) override { append_journal_field(batch_, name, value); }
        void add_block(const FieldBlock& block) override;

    private:
        std::string& batch_;
    };

    void send_entries();
    bool deliver(std::string_view entry);
    bool connect_socket();
    bool send_in_memfd(std::string_view entry);
    bool send_waiting(const msghdr& message);

    std::string socket_path_;
    OutputStall stall_;
    int fd_ = -1;  // connected on first use, and again after journald restarts
    bool unreachable_ = false;  // the last attempt to connect failed (and was logged)

    std::string batch_;        // the entries, back to back
    std::vector<size_t> ends_;  // where each one ends in batch_
    BatchWriter writer_{batch_};
    std::vector<iovec> pieces_;  // kept for their memory
    std::vector<mmsghdr> messages_;
};

}  // namespace dnsvis
