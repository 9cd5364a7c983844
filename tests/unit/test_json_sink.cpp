// The JSON sink against real pipes, a file and a terminal: lines arrive
// whole and in order, a reader that stops reading holds the sink for the
// stall timeout once and then not at all, what it missed is counted, and
// no line is ever cut, however little the reader takes at a time.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "json_sink.hpp"
#include "sink_timing.hpp"

using namespace dnsvis;
using std::chrono::steady_clock;

namespace {

struct Pipe {
    int read_end = -1;
    int write_end = -1;

    explicit Pipe(int size = 4096) {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        read_end = fds[0];
        write_end = fds[1];
        // The test's reads never wait; the sink's end stays as a shell would make it.
        REQUIRE(fcntl(read_end, F_SETFL, O_NONBLOCK) == 0);
        // One page by default: a line of the tests below never fits it evenly.
        REQUIRE(fcntl(write_end, F_SETPIPE_SZ, size) >= size);
    }
    ~Pipe() {
        close_read_end();
        close(write_end);
    }
    void close_read_end() {
        if (read_end >= 0)
            close(read_end);
        read_end = -1;
    }
    // Everything waiting in the pipe, without waiting for more.
    std::string take(size_t at_most = SIZE_MAX) {
        std::string text;
        char data[4096];
        while (text.size() < at_most) {
            const ssize_t n = read(read_end, data, std::min(sizeof data, at_most - text.size()));
            if (n <= 0)
                break;
            text.append(data, static_cast<size_t>(n));
        }
        return text;
    }
};

// Padding makes each line a little over 600 bytes, like a transaction's.
void write_entry(JsonSink& sink, int number) {
    FieldWriter& out = sink.begin_entry();
    out.add("MESSAGE", "entry " + std::to_string(number));
    out.add("DNS_NAME", std::string(560, 'x'));
    sink.end_entry();
}

// The next `count` entries, numbered on from `written`.
void write_entries(JsonSink& sink, int& written, int count) {
    for (int i = 0; i < count; ++i)
        write_entry(sink, written++);
}

// The entry numbers of `text`, which must be whole JSON lines.
std::vector<int> entry_numbers(const std::string& text) {
    std::vector<int> numbers;
    size_t begin = 0;
    while (begin < text.size()) {
        const size_t end = text.find('\n', begin);
        REQUIRE_MESSAGE(end != std::string::npos, "a line without its end: " << text.substr(begin, 80));
        const auto line = nlohmann::json::parse(text.substr(begin, end - begin), nullptr, false);
        REQUIRE_MESSAGE(line.is_object(), "not a whole JSON line: " << text.substr(begin, 80));
        const std::string message = line["MESSAGE"];
        numbers.push_back(std::stoi(message.substr(6)));
        begin = end + 1;
    }
    return numbers;
}

std::string file_text(int fd) {
    std::string text(static_cast<size_t>(lseek(fd, 0, SEEK_END)), '\0');
    REQUIRE(pread(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
    return text;
}

bool increasing(const std::vector<int>& numbers) {
    for (size_t i = 1; i < numbers.size(); ++i) {
        if (numbers[i] <= numbers[i - 1])
            return false;
    }
    return true;
}

// After the sink finished: the file holds `count` entries, whole lines in
// order, and none was lost.
void check_file_holds_every_entry(int fd, const JsonSink& sink, size_t count) {
    const std::vector<int> numbers = entry_numbers(file_text(fd));
    CHECK(numbers.size() == count);
    CHECK(increasing(numbers));
    CHECK(sink.lost() == 0);
}

// The reader, which got `received` so far, reads again: the rest of a line
// half out goes first, then a new entry. Every line it got is whole and in
// order, and every entry written arrived or was counted once.
void check_catching_up(Pipe& pipe, JsonSink& sink, std::string received, int& written) {
    received += pipe.take();
    write_entry(sink, written++);
    sink.flush();
    received += pipe.take();
    const std::vector<int> numbers = entry_numbers(received);
    CHECK(increasing(numbers));
    CHECK(numbers.back() == written - 1);
    CHECK(numbers.size() + sink.lost() == static_cast<uint64_t>(written));
}

}  // namespace

TEST_CASE("JSON lines reach a pipe's reader whole, one per entry, when a batch is flushed") {
    Pipe pipe;
    JsonSink sink(pipe.write_end);
    write_entry(sink, 0);
    write_entry(sink, 1);
    CHECK(pipe.take().empty());
    sink.flush();
    CHECK(entry_numbers(pipe.take()) == std::vector<int>{0, 1});
    CHECK(sink.lost() == 0);
}

TEST_CASE("a reader that takes nothing holds the sink for the stall timeout once, then not at all; no line is cut") {
    Pipe pipe;
    const auto stall_timeout = std::chrono::milliseconds(1000);
    JsonSink sink(pipe.write_end, stall_timeout);
    int written = 0;
    write_entries(sink, written, 20);
    auto start = steady_clock::now();
    sink.flush();
    const auto first_flush = steady_clock::now() - start;
    REQUIRE(sink.lost() > 0);
    CHECK(first_flush >= stall_timeout);
    CHECK(first_flush < stall_timeout * 7 / 4);

    // Stalled: the next batch is counted at once.
    const uint64_t lost_before = sink.lost();
    write_entries(sink, written, 5);
    start = steady_clock::now();
    sink.flush();
    CHECK(steady_clock::now() - start < stall_timeout / 2);
    CHECK(sink.lost() == lost_before + 5);

    // The pipe holds the start of a line. The reader reads again: the
    // line's rest goes out before the next line.
    const std::string received = pipe.take();
    CHECK(received.back() != '\n');
    check_catching_up(pipe, sink, received, written);
}

TEST_CASE("a line half out keeps the sink's tick alive, and is counted as lost if it is still half out at the stop") {
    Pipe pipe;
    const auto stall_timeout = std::chrono::milliseconds(200);
    JsonSink sink(pipe.write_end, stall_timeout);
    int written = 0;
    write_entries(sink, written, 20);
    sink.flush();
    REQUIRE(sink.lost() > 0);
    CHECK(sink.holds_output());  // the rest of a line waits for the next flush
    std::string received = pipe.take();
    REQUIRE(received.back() != '\n');
    // The reader holds again before the rest went out, and dnsvisd stops.
    const uint64_t lost_before = sink.lost();
    write_entries(sink, written, 20);  // enough to fill the pipe again
    sink.finish();
    CHECK_FALSE(sink.holds_output());
    received += pipe.take();
    // The last piece is a line's start without its end; each line before it
    // is whole, and each entry arrived whole or was counted once.
    const size_t cut = received.rfind('\n') + 1;
    CHECK(cut < received.size());
    const std::vector<int> numbers = entry_numbers(received.substr(0, cut));
    CHECK(increasing(numbers));
    CHECK(sink.lost() > lost_before);
    CHECK(numbers.size() + sink.lost() == static_cast<uint64_t>(written));
}

TEST_CASE("the writes of one batch share the stall timeout, however many the batch takes") {
    Pipe pipe(65536);
    const auto stall_timeout = std::chrono::milliseconds(500);
    JsonSink sink(pipe.write_end, stall_timeout);
    // A slow reader, about 640 KB/s: each 256 KiB write-out of the batch
    // alone would get through within the timeout, all of them would not.
    std::string received;
    PacedReader slow(std::chrono::milliseconds(100), [&] { received += pipe.take(65536); });
    const auto start = steady_clock::now();
    for (int i = 0; i < 2000; ++i)  // about 1.2 MB, written out every 256 KiB
        write_entry(sink, i);
    sink.flush();
    const auto took = steady_clock::now() - start;
    slow.stop();
    CHECK(took >= stall_timeout);
    CHECK(took < stall_timeout * 5 / 2);  // a budget per write-out: all 1.2 MB, about 1.9 s
    // Each line arrived whole or was counted, but for one half out.
    received += pipe.take();
    received.resize(received.rfind('\n') + 1);
    CHECK(entry_numbers(received).size() + sink.lost() + (sink.holds_output() ? 1 : 0) == 2000);
}

TEST_CASE("a reader that takes next to nothing holds a flush for the stall timeout at most, and gets whole lines") {
    Pipe pipe;
    const auto stall_timeout = std::chrono::milliseconds(500);
    JsonSink sink(pipe.write_end, stall_timeout);
    // A pager that reads 100 bytes every 20 ms: lines go out a piece at a time.
    std::string received;
    PacedReader trickle(std::chrono::milliseconds(20), [&] { received += pipe.take(100); });
    int written = 0;
    const auto longest = longest_flush(sink, 12, 40, written, [&](int number) { write_entry(sink, number); });
    trickle.stop();
    CHECK(sink.lost() > 0);
    CHECK(longest < stall_timeout * 3);

    // Once it reads everything, the begun line is finished and the next arrives.
    check_catching_up(pipe, sink, received, written);
}

TEST_CASE("a reader that is gone costs every line, counted, without a wait") {
    signal(SIGPIPE, SIG_IGN);  // as systemd runs services; without it the write would kill the writer
    Pipe pipe;
    pipe.close_read_end();
    JsonSink sink(pipe.write_end, std::chrono::milliseconds(1000));
    for (int i = 0; i < 3; ++i)
        write_entry(sink, i);
    const auto start = steady_clock::now();
    sink.flush();
    CHECK(steady_clock::now() - start < std::chrono::milliseconds(500));
    CHECK(sink.lost() == 3);
    signal(SIGPIPE, SIG_DFL);
}

TEST_CASE("a file and a terminal, which cannot be written to without blocking, are written to whole") {
    SUBCASE("a file") {
        FILE* file = std::tmpfile();
        REQUIRE(file);
        JsonSink sink(fileno(file));
        for (int i = 0; i < 500; ++i)  // more than one flush threshold's worth
            write_entry(sink, i);
        sink.finish();  // the writer thread is done
        check_file_holds_every_entry(fileno(file), sink, 500);
        std::fclose(file);
    }
    SUBCASE("a terminal") {
        const int controller = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        REQUIRE(controller >= 0);
        REQUIRE(grantpt(controller) == 0);
        REQUIRE(unlockpt(controller) == 0);
        const int terminal = open(ptsname(controller), O_RDWR | O_NOCTTY | O_CLOEXEC);
        REQUIRE(terminal >= 0);
        termios raw{};
        REQUIRE(tcgetattr(terminal, &raw) == 0);
        cfmakeraw(&raw);  // no newline translation
        REQUIRE(tcsetattr(terminal, TCSANOW, &raw) == 0);
        JsonSink sink(terminal);
        write_entry(sink, 7);
        sink.flush();
        std::string text;
        char data[4096];
        while (text.find('\n') == std::string::npos) {
            const ssize_t n = read(controller, data, sizeof data);
            REQUIRE(n > 0);
            text.append(data, static_cast<size_t>(n));
        }
        CHECK(entry_numbers(text) == std::vector<int>{7});
        CHECK(sink.lost() == 0);
        close(terminal);
        close(controller);
    }
}

// A file's lines are written by a thread of the sink's own, at the
// caller's priority (file_writer.hpp).

namespace {

// Entries 0, 1, ... in `batches` flushes of `entries_each`; returns how many.
int write_batches(JsonSink& sink, int batches, int entries_each) {
    int written = 0;
    for (int batch = 0; batch < batches; ++batch) {
        write_entries(sink, written, entries_each);
        sink.flush();
    }
    return written;
}

// The nice values of this process's threads.
std::vector<int> thread_nice_values() {
    std::vector<int> values;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        // After the command in parentheses: field 3 onwards; the nice value is field 19.
        std::istringstream fields(line.substr(line.rfind(')') + 2));
        std::string field;
        for (int number = 3; number <= 19; ++number)
            fields >> field;
        values.push_back(std::stoi(field));
    }
    return values;
}

}  // namespace

TEST_CASE("a file is written by a thread of its own at the caller's priority, whole lines in order across many flushes") {
    FILE* file = std::tmpfile();
    REQUIRE(file);
    const int own = getpriority(PRIO_PROCESS, 0);
    {
        JsonSink sink(fileno(file));
        write_batches(sink, 200, 7);
        // Once it has written something, the writer is surely running.
        const auto give_up = steady_clock::now() + std::chrono::seconds(5);
        struct stat written_so_far {};
        while (fstat(fileno(file), &written_so_far) == 0 && written_so_far.st_size == 0 &&
               steady_clock::now() < give_up)
            usleep(1000);
        // A nicer writer is starved by a busy host until dnsvisd's ring
        // buffer overflows (file_writer.hpp).
        const std::vector<int> nice_values = thread_nice_values();
        CHECK_MESSAGE(nice_values.size() == 2, "the test's thread and the writer");
        CHECK_MESSAGE(std::count(nice_values.begin(), nice_values.end(), own) == 2,
                      "the writer runs at the test's priority");
        sink.finish();
        check_file_holds_every_entry(fileno(file), sink, 1400);
    }
    std::fclose(file);
}

TEST_CASE("a file that takes no more costs the lines that did not fit, counted; a line begun is finished first") {
    FILE* file = std::tmpfile();
    REQUIRE(file);
    // A file size limit makes the disk "full" after 100 KiB: write(2)
    // fails with EFBIG, and SIGXFSZ is ignored, as it would have to be.
    struct sigaction ignore{}, previous_action{};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(sigaction(SIGXFSZ, &ignore, &previous_action) == 0);
    rlimit previous_limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &previous_limit) == 0);
    rlimit limit = previous_limit;
    limit.rlim_cur = 100 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);

    JsonSink sink(fileno(file));
    const int written = write_batches(sink, 10, 100);
    // What the final summary sees: every loss but the line begun, which
    // counts once the stop makes sure its end never comes.
    sink.settle();
    const uint64_t lost_settled = sink.lost();
    sink.finish();
    REQUIRE(setrlimit(RLIMIT_FSIZE, &previous_limit) == 0);
    REQUIRE(sigaction(SIGXFSZ, &previous_action, nullptr) == 0);

    std::string text = file_text(fileno(file));
    CHECK(text.size() == 100 * 1024);
    CHECK(text.back() != '\n');  // the limit cut a line: its start is out, its end is not
    text.erase(text.rfind('\n') + 1);
    const std::vector<int> numbers = entry_numbers(text);
    REQUIRE(!numbers.empty());
    // Every entry before the cut is there, none missing.
    CHECK(numbers.front() == 0);
    CHECK(numbers.back() == static_cast<int>(numbers.size()) - 1);
    CHECK(increasing(numbers));
    // The cut line counts as lost, so the file's whole lines and the count make up every entry.
    CHECK(numbers.size() + sink.lost() == static_cast<uint64_t>(written));
    CHECK(lost_settled + 1 == sink.lost());
    std::fclose(file);
}
