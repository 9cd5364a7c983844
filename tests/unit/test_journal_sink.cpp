// The journal sink against a datagram socket standing in for journald: what
// it sends is the native protocol byte for byte, one datagram per entry when
// a batch is flushed, an entry too large for a datagram arrives as a sealed
// memfd, and a journald that restarts or is gone costs a reconnect or a
// counted loss, never a silent one. (The real
// journald is exercised by tests/e2e, through journalctl.)
#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "journal_native.hpp"
#include "journal_sink.hpp"
#include "sink_timing.hpp"
#include "transaction_fields.hpp"

using namespace dnsvis;

namespace {

std::string le64(uint64_t value) {
    std::string out;
    for (int i = 0; i < 8; ++i, value >>= 8)
        out += static_cast<char>(value & 0xff);
    return out;
}

// journald's end: a datagram socket bound to a path of its own.
struct StandIn {
    std::string directory;
    std::string path;
    int fd = -1;

    StandIn() {
        char name[] = "/tmp/dnsvis-journal-XXXXXX";
        directory = mkdtemp(name);
        path = directory + "/socket";
        bind_socket();
    }
    ~StandIn() {
        if (fd >= 0)
            close(fd);
        std::filesystem::remove_all(directory);
    }
    void bind_socket() {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path.c_str());
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    void go_away() {
        close(fd);
        fd = -1;
        unlink(path.c_str());
    }
    void restart() {
        go_away();
        bind_socket();
    }
    // The next datagram, without waiting: its bytes, and the fd it carries (or -1).
    std::string receive(int& passed_fd) {
        std::vector<char> data(1 << 20);
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        iovec iov{data.data(), data.size()};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT);
        REQUIRE(n >= 0);
        passed_fd = -1;
        if (cmsghdr* header = CMSG_FIRSTHDR(&message); header && header->cmsg_type == SCM_RIGHTS)
            std::memcpy(&passed_fd, CMSG_DATA(header), sizeof(int));
        return std::string(data.data(), static_cast<size_t>(n));
    }
    std::string receive() {
        int passed = -1;
        std::string text = receive(passed);
        CHECK(passed == -1);
        return text;
    }
    bool nothing_waiting() {
        char byte;
        return recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
    }
};

void write_entry(JournalSink& sink, const std::vector<std::pair<std::string, std::string>>& fields) {
    FieldWriter& out = sink.begin_entry();
    for (const auto& [name, value] : fields)
        out.add(name, value);
    sink.end_entry();
}

}  // namespace

TEST_CASE("a field without a newline is NAME=value, one with a newline is length-prefixed") {
    std::string out;
    append_journal_field(out, "DNS_NAME", "www.example.test");
    append_journal_field(out, "DNS_ANSWERS", "");
    CHECK(out == "DNS_NAME=www.example.test\nDNS_ANSWERS=\n");

    out.clear();
    append_journal_field(out, "CONTAINER_LABEL", "two\nlines");
    CHECK(out == "CONTAINER_LABEL\n" + le64(9) + "two\nlines\n");

    // The length is little-endian whatever its size.
    out.clear();
    const std::string long_value = std::string(300, 'x') + "\n";
    append_journal_field(out, "X", long_value);
    CHECK(out == "X\n" + le64(301) + long_value + "\n");
    CHECK(static_cast<unsigned char>(out[2]) == 0x2d);  // 301 = 0x012d
    CHECK(static_cast<unsigned char>(out[3]) == 0x01);
}

TEST_CASE("the journal sink sends one datagram per entry, in the native protocol, when a batch is flushed") {
    StandIn journald;
    JournalSink sink(journald.path);
    write_entry(sink, {{"MESSAGE", "dig www.example.test A"}, {"PRIORITY", "6"}, {"CONTAINER_LABEL", "a\nb"}});
    write_entry(sink, {{"MESSAGE", "second"}});
    CHECK(journald.nothing_waiting());  // a batch waits for its flush
    sink.flush();

    std::string expected;
    append_journal_field(expected, "MESSAGE", "dig www.example.test A");
    append_journal_field(expected, "PRIORITY", "6");
    append_journal_field(expected, "CONTAINER_LABEL", "a\nb");
    CHECK(journald.receive() == expected);
    CHECK(journald.receive() == "MESSAGE=second\n");  // nothing carried over from the entry before
    CHECK(journald.nothing_waiting());
    CHECK(sink.lost() == 0);
}

TEST_CASE("a block of fields is sent as its fields would be, and follows its changes") {
    StandIn journald;
    JournalSink sink(journald.path);
    FieldBlock owner;
    owner.refill().add("DNS_PID", "7");
    owner.refill().add("DNS_EXE", "/usr/bin/dig");  // refill() empties: only this one stays
    auto send = [&](std::string_view name) {
        FieldWriter& out = sink.begin_entry();
        out.add("DNS_NAME", name);
        out.add_block(owner);
        sink.end_entry();
    };
    send("a.test");
    send("b.test");  // the same block: its rendering is reused
    FieldList& refilled = owner.refill();
    refilled.add("DNS_PID", "8");
    refilled.add("DNS_COMM", "two\nlines");
    send("c.test");
    sink.flush();

    auto expected = [](std::string_view name, const std::vector<std::pair<std::string, std::string>>& fields) {
        std::string out;
        append_journal_field(out, "DNS_NAME", name);
        for (const auto& [field, value] : fields)
            append_journal_field(out, field, value);
        return out;
    };
    CHECK(journald.receive() == expected("a.test", {{"DNS_EXE", "/usr/bin/dig"}}));
    CHECK(journald.receive() == expected("b.test", {{"DNS_EXE", "/usr/bin/dig"}}));
    CHECK(journald.receive() == expected("c.test", {{"DNS_PID", "8"}, {"DNS_COMM", "two\nlines"}}));
    CHECK(journald.nothing_waiting());
}

TEST_CASE("an entry too large for a datagram arrives in a sealed memfd") {
    StandIn journald;
    JournalSink sink(journald.path);
    // Larger than any send buffer the sink may get (it asks for 8 MiB).
    const std::string huge(9 * 1024 * 1024, 'a');
    write_entry(sink, {{"MESSAGE", "before"}});
    write_entry(sink, {{"MESSAGE", "large"}, {"DNS_ANSWERS", huge}});
    write_entry(sink, {{"MESSAGE", "after"}});
    sink.flush();
    REQUIRE(sink.lost() == 0);

    CHECK(journald.receive() == "MESSAGE=before\n");
    int memfd = -1;
    CHECK(journald.receive(memfd).empty());  // the datagram carries only the fd
    REQUIRE(memfd >= 0);
    const int seals = fcntl(memfd, F_GET_SEALS);
    CHECK((seals & F_SEAL_WRITE) != 0);
    CHECK((seals & F_SEAL_GROW) != 0);
    CHECK((seals & F_SEAL_SHRINK) != 0);
    CHECK((seals & F_SEAL_SEAL) != 0);  // journald drops a memfd that is not sealed for good
    std::string expected;
    append_journal_field(expected, "MESSAGE", "large");
    append_journal_field(expected, "DNS_ANSWERS", huge);
    std::string content(expected.size() + 1, '\0');
    CHECK(pread(memfd, content.data(), content.size(), 0) == static_cast<ssize_t>(expected.size()));
    content.resize(expected.size());
    CHECK(content == expected);
    close(memfd);
    CHECK(journald.receive() == "MESSAGE=after\n");  // the rest of the batch follows, in order
}

TEST_CASE("a full batch is sent without waiting for the flush, and waits for a reader that lags") {
    StandIn journald;
    JournalSink sink(journald.path);
    // A socket queue holds few datagrams (net.unix.max_dgram_qlen, often
    // 10): the sink waits for the reader, as journald's clients do.
    std::vector<std::string> received;
    std::thread reader([&] {
        char data[256];
        for (int i = 0; i < 256; ++i) {
            const ssize_t n = recv(journald.fd, data, sizeof data, 0);
            if (n < 0)
                return;
            received.emplace_back(data, static_cast<size_t>(n));
        }
    });
    for (int i = 0; i < 256; ++i)
        write_entry(sink, {{"MESSAGE", "entry " + std::to_string(i)}});
    reader.join();
    REQUIRE(received.size() == 256);
    for (int i = 0; i < 256; ++i)
        CHECK(received[i] == "MESSAGE=entry " + std::to_string(i) + "\n");
    CHECK(journald.nothing_waiting());
    CHECK(sink.lost() == 0);
}

TEST_CASE("after journald restarts the sink connects again; while it is gone entries are counted as lost") {
    StandIn journald;
    JournalSink sink(journald.path);
    write_entry(sink, {{"MESSAGE", "before"}});
    sink.flush();
    CHECK(journald.receive() == "MESSAGE=before\n");

    journald.restart();  // a new socket at the same path
    write_entry(sink, {{"MESSAGE", "after a restart"}});
    write_entry(sink, {{"MESSAGE", "and another"}});
    sink.flush();
    CHECK(journald.receive() == "MESSAGE=after a restart\n");
    CHECK(journald.receive() == "MESSAGE=and another\n");
    CHECK(sink.lost() == 0);

    journald.go_away();
    write_entry(sink, {{"MESSAGE", "nobody listens"}});
    write_entry(sink, {{"MESSAGE", "still nobody"}});
    write_entry(sink, {{"MESSAGE", "nor now"}});
    sink.flush();
    CHECK(sink.lost() == 3);

    journald.bind_socket();
    write_entry(sink, {{"MESSAGE", "back"}});
    sink.flush();
    CHECK(journald.receive() == "MESSAGE=back\n");
    CHECK(sink.lost() == 3);
}

TEST_CASE("a journald that takes nothing holds the sink for the stall timeout once, then not at all; what it missed is counted") {
    using std::chrono::steady_clock;
    StandIn journald;  // reads nothing until the end
    const auto stall_timeout = std::chrono::milliseconds(1000);
    JournalSink sink(journald.path, stall_timeout);
    // Fill journald's queue, however long this machine lets it be
    // (net.unix.max_dgram_qlen, the socket buffers).
    int written = 0;
    steady_clock::duration last_flush{};
    while (sink.lost() == 0 && written < 100'000) {
        for (int i = 0; i < 100; ++i)
            write_entry(sink, {{"MESSAGE", "entry " + std::to_string(written++)}});
        const auto start = steady_clock::now();
        sink.flush();
        last_flush = steady_clock::now() - start;
    }
    REQUIRE(sink.lost() > 0);
    // It waited, once: not a full timeout again for the entry after the
    // last one journald's queue took (sendmmsg() returns that count first).
    CHECK(last_flush >= stall_timeout);
    CHECK(last_flush < stall_timeout * 7 / 4);

    // Stalled: the next batch is counted at once, without a wait.
    const uint64_t lost_before = sink.lost();
    for (int i = 0; i < 5; ++i)
        write_entry(sink, {{"MESSAGE", "entry " + std::to_string(written++)}});
    const auto start = steady_clock::now();
    sink.flush();
    CHECK(steady_clock::now() - start < stall_timeout / 2);
    CHECK(sink.lost() == lost_before + 5);

    // What journald's queue took arrived in order; the rest is what was counted.
    int received = 0;
    bool in_order = true;
    while (!journald.nothing_waiting()) {
        in_order = in_order && journald.receive() == "MESSAGE=entry " + std::to_string(received) + "\n";
        ++received;
    }
    CHECK(in_order);
    CHECK(received + sink.lost() == static_cast<uint64_t>(written));

    // Once journald reads again, entries are delivered and waited for again.
    write_entry(sink, {{"MESSAGE", "back"}});
    sink.flush();
    CHECK(journald.receive() == "MESSAGE=back\n");
    CHECK(sink.lost() == lost_before + 5);
}

TEST_CASE("a journald that takes next to nothing holds a flush for the stall timeout at most") {
    StandIn journald;
    const auto stall_timeout = std::chrono::milliseconds(500);
    JournalSink sink(journald.path, stall_timeout);
    // journald wedged on its disk: one entry every 50 ms.
    PacedReader trickle(std::chrono::milliseconds(50), [&] {
        char data[256];
        (void)recv(journald.fd, data, sizeof data, MSG_DONTWAIT);
    });
    int written = 0;
    // 30 batches of 200: enough to fill any queue many times over.
    const auto longest = longest_flush(sink, 30, 200, written, [&](int number) {
        write_entry(sink, {{"MESSAGE", "entry " + std::to_string(number)}});
    });
    trickle.stop();
    CHECK(sink.lost() > 0);
    // Each entry let in does not buy another full wait.
    CHECK(longest < stall_timeout * 3);
}
