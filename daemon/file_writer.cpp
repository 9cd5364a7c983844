#include "file_writer.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "capabilities.hpp"
#include "unwritten_lines.hpp"
#include "write_all.hpp"

namespace dnsvis {

namespace {

// Written chunks kept for the next ones' memory.
constexpr size_t max_spare_chunks = 2;

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

void FileWriter::wait_until_written() {
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [&] { return queued_bytes_ == 0 || !thread_.joinable(); });
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
    // Started before dnsvisd attached, this thread would otherwise keep the
    // capabilities the main thread gives up afterwards.
    drop_capabilities_of_this_thread();
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
            lost_ += unwritten_lines(chunk, 0, false).lost_lines;
            return;
        }
    }
    const size_t written = write_out(chunk);
    const UnwrittenLines rest = unwritten_lines(chunk, written, false);
    begun_tail_.assign(chunk, written, rest.begun_rest);
    std::lock_guard lock(mutex_);
    lost_ += rest.lost_lines;
}

size_t FileWriter::write_out(std::string_view text) {
    // errno is cleared before each write(2): one that writes nothing sets
    // none, and then the disk takes no more.
    const size_t written = write_fully(
        [this](std::string_view rest) {
            errno = 0;
            return ::write(fd_, rest.data(), rest.size());
        },
        text);
    const int failure = written == text.size() ? 0 : (errno != 0 ? errno : ENOSPC);
    std::lock_guard lock(mutex_);
    error_ = failure;
    return written;
}

}  // namespace dnsvis
