#include "file_writer.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace dnsvis {

namespace {

// How much nicer than the event loop the writer thread is.
constexpr int writer_niceness = 10;
// Written chunks kept for the next ones' memory.
constexpr size_t max_spare_chunks = 2;

uint64_t count_lines(std::string_view text) { return static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')); }

// Linux gives each thread its own nice value. The service's system call
// filter may refuse it (EPERM); the thread then writes at the loop's priority.
void lower_own_priority() {
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    if (now == -1 && errno != 0)
        return;
    setpriority(PRIO_PROCESS, tid, std::min(now + writer_niceness, 19));
}

}  // namespace

FileWriter::FileWriter(int fd, size_t max_queued) : fd_(fd), max_queued_(max_queued) {
    // The thread takes no signal: dnsvisd reads its signals from a signalfd
    // in the event loop, and a SIGTERM delivered to this thread instead
    // would kill the process with the default action.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

FileWriter::~FileWriter() { finish(); }

void FileWriter::write(std::string_view lines) {
    if (lines.empty())
        return;
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [&] { return queued_bytes_ == 0 || queued_bytes_ + lines.size() <= max_queued_; });
    std::string chunk;
    if (!spare_.empty()) {
        chunk = std::move(spare_.back());
        spare_.pop_back();
    }
    chunk.assign(lines);
    queued_bytes_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    queued_.notify_one();
}

void FileWriter::finish() {
    {
        std::unique_lock lock(mutex_);
        if (!thread_.joinable())
            return;
        stopping_ = true;
        queued_.notify_one();
    }
    thread_.join();
    std::lock_guard lock(mutex_);
    if (!begun_tail_.empty()) {
        ++lost_;  // its start went out, its end never will
        begun_tail_.clear();
    }
}

uint64_t FileWriter::take_lost() {
    std::lock_guard lock(mutex_);
    return std::exchange(lost_, 0);
}

int FileWriter::error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

void FileWriter::run() {
    lower_own_priority();
    std::unique_lock lock(mutex_);
    for (;;) {
        queued_.wait(lock, [&] { return stopping_ || !chunks_.empty(); });
        if (chunks_.empty())
            return;  // stopping, and everything is out
        std::string chunk = std::move(chunks_.front());
        chunks_.pop_front();
        lock.unlock();
        write_chunk(chunk);
        lock.lock();
        queued_bytes_ -= chunk.size();
        if (spare_.size() < max_spare_chunks)
            spare_.push_back(std::move(chunk));
        drained_.notify_all();
    }
}

void FileWriter::write_chunk(const std::string& chunk) {
    // A line begun before goes first; while it cannot, nothing after it may.
    if (!begun_tail_.empty()) {
        begun_tail_.erase(0, write_out(begun_tail_));
        if (!begun_tail_.empty()) {
            std::lock_guard lock(mutex_);
            lost_ += count_lines(chunk);
            return;
        }
    }
    const size_t written = write_out(chunk);
    std::string_view rest = std::string_view(chunk).substr(written);
    if (!rest.empty() && written > 0 && chunk[written - 1] != '\n') {
        // The rest of a line whose start went out: kept, to be finished
        // before anything else. The chunk holds whole lines.
        const size_t end = rest.find('\n');
        const size_t length = end == std::string_view::npos ? rest.size() : end + 1;
        begun_tail_.assign(rest.substr(0, length));
        rest.remove_prefix(length);
    }
    std::lock_guard lock(mutex_);
    lost_ += count_lines(rest);
}

size_t FileWriter::write_out(std::string_view text) {
    size_t written = 0;
    int failure = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
        if (n > 0) {
            written += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            failure = n < 0 ? errno : ENOSPC;  // a write of nothing: the disk takes no more
            break;
        }
    }
    std::lock_guard lock(mutex_);
    error_ = failure;
    return written;
}

}  // namespace dnsvis
