#include "scope_state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "atomic_file.hpp"
#include "scope_state.hpp"

namespace dnsvis {

namespace {

// Far more than max_scope_rules rules take; a bigger file is not ours.
constexpr off_t max_state_bytes = 4 * 1024 * 1024;

bool read_whole(const std::string& path, std::string& text, int& error) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        error = errno;
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        error = errno;
    else if (!S_ISREG(st.st_mode))
        error = EINVAL;
    else if (st.st_size > max_state_bytes)
        error = EFBIG;
    if (error != 0) {
        close(fd);
        return false;
    }
    text.clear();
    char buffer[65536];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = errno;
            close(fd);
            return false;
        }
        if (n == 0)
            break;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > static_cast<size_t>(max_state_bytes)) {
            error = EFBIG;
            close(fd);
            return false;
        }
    }
    close(fd);
    return true;
}

}  // namespace

ScopeStateLoadResult load_scope_state_file(const std::string& path, ScopeRules& rules) {
    ScopeStateLoadResult result;
    std::string text;
    int error = 0;
    const char* aside_suffix = ".corrupt";
    if (!read_whole(path, text, error)) {
        if (error == ENOENT)
            return result;
        if (error == EFBIG)
            result.reason = "larger than 4 MiB";
        else if (error == EINVAL)
            result.reason = "not a regular file";
        else {
            // Not damaged as far as we know, only unreadable to us (a
            // symlink, another owner's mode 0600, EIO): it goes aside all
            // the same, since the next change would otherwise replace it.
            result.reason = std::strerror(error);
            aside_suffix = ".unreadable";
        }
    } else if (parse_scope_state(text, rules, result.reason)) {
        result.status = ScopeStateLoad::loaded;
        return result;
    }
    result.aside = path + aside_suffix;
    if (std::rename(path.c_str(), result.aside.c_str()) < 0) {
        result.status = ScopeStateLoad::unreadable;
        result.reason += std::string(", and it cannot be moved to ") + result.aside + ": " + std::strerror(errno);
        result.aside.clear();
        return result;
    }
    result.status = ScopeStateLoad::moved_aside;
    return result;
}

UnusedStateFile move_unused_state_file_aside(const std::string& path, std::string& reason) {
    struct stat st;
    if (lstat(path.c_str(), &st) < 0 && errno == ENOENT)
        return UnusedStateFile::gone;
    const std::string aside = path + ".unreadable";
    if (std::rename(path.c_str(), aside.c_str()) < 0) {
        if (errno == ENOENT)
            return UnusedStateFile::gone;
        reason = std::string("it still cannot be moved to ") + aside + ": " + std::strerror(errno);
        return UnusedStateFile::stuck;
    }
    return UnusedStateFile::moved;
}

bool save_scope_state_file(const std::string& path, const ScopeRules& rules, std::string& error) {
    return write_file_atomically(path, format_scope_state(rules), error);
}

}  // namespace dnsvis
