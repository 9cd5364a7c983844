#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "write_all.hpp"

namespace dnsvis {

namespace {

std::string directory_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// mkdir -p: each missing component is made in turn.
bool make_directories(const std::string& directory) {
    struct stat st;
    if (stat(directory.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return true;
        errno = ENOTDIR;
        return false;
    }
    const std::string parent = directory_of(directory);
    if (parent != directory && !make_directories(parent))
        return false;
    return mkdir(directory.c_str(), 0755) == 0 || errno == EEXIST;
}

}  // namespace

bool write_file_atomically(const std::string& path, std::string_view contents, std::string& error) {
    const std::string directory = directory_of(path);
    if (!make_directories(directory)) {
        error = "cannot create " + directory + ": " + std::strerror(errno);
        return false;
    }
    std::string temporary = path + ".XXXXXX";
    const int fd = mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0) {
        error = "cannot create a temporary file in " + directory + ": " + std::strerror(errno);
        return false;
    }
    // The state is the operator's choice, not a secret, but not theirs to
    // change either: readable by all, written by root.
    const bool written = fchmod(fd, 0644) == 0 && write_all(fd, contents) && fsync(fd) == 0;
    const int saved = errno;
    if (close(fd) < 0 || !written) {
        error = "cannot write " + temporary + ": " + std::strerror(written ? errno : saved);
        unlink(temporary.c_str());
        return false;
    }
    if (rename(temporary.c_str(), path.c_str()) < 0) {
        error = "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno);
        unlink(temporary.c_str());
        return false;
    }
    // The rename itself is durable once the directory is.
    const int dir_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    return true;
}

}  // namespace dnsvis
