#include "local_path.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <iterator>
#include <utility>
#include <vector>

namespace dnsvis {

namespace {

// As the kernel's own limit on links followed in one lookup.
constexpr int max_symlinks = 40;

// An O_PATH descriptor, closed when it goes out of scope.
class PathFd {
public:
    explicit PathFd(int fd = -1) : fd_(fd) {}
    ~PathFd() { reset(-1); }
    PathFd(const PathFd&) = delete;
    PathFd& operator=(const PathFd&) = delete;
    void reset(int fd) {
        if (fd_ >= 0)
            close(fd_);
        fd_ = fd;
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

// What statx says about an open path without asking any server.
bool describe(int fd, struct statx& info) {
    return statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO | STATX_MNT_ID, &info) == 0 &&
           (info.stx_mask & STATX_MNT_ID) != 0;
}

// Pushes the components of `path` onto `pending`, a stack whose back is the
// next to walk; empty ones are left out. A trailing slash adds ".", so that
// the last name must be a directory, as for the kernel.
void push_components(std::string_view path, std::vector<std::string>& pending) {
    std::vector<std::string> components;
    const bool trailing_slash = path.size() > 1 && path.back() == '/';
    while (!path.empty()) {
        const size_t slash = path.find('/');
        const std::string_view component = path.substr(0, slash);
        if (!component.empty())
            components.emplace_back(component);
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    }
    if (trailing_slash)
        components.emplace_back(".");
    pending.insert(pending.end(), std::make_move_iterator(components.rbegin()),
                   std::make_move_iterator(components.rend()));
}

std::string join(const std::vector<std::string>& components) {
    std::string path;
    for (const std::string& name : components)
        path += "/" + name;
    return path.empty() ? "/" : path;
}

}  // namespace

LocalPathResolver::LocalPathResolver(std::string mountinfo_path)
    : mountinfo_path_(std::move(mountinfo_path)),
      mountinfo_fd_(open(mountinfo_path_.c_str(), O_RDONLY | O_CLOEXEC)) {}

LocalPathResolver::~LocalPathResolver() {
    if (mountinfo_fd_ >= 0)
        close(mountinfo_fd_);
}

void LocalPathResolver::read_table() {
    mount_is_local_.clear();
    foreign_mount_points_.clear();
    read_once_ = true;
    if (mountinfo_fd_ < 0)
        return;  // no table: no mount counts as local
    std::string text;
    char buffer[16384];
    for (off_t offset = 0;;) {
        const ssize_t n = pread(mountinfo_fd_, buffer, sizeof buffer, offset);
        if (n <= 0)
            break;
        text.append(buffer, static_cast<size_t>(n));
        offset += n;
    }
    for (Mount& mount : parse_mountinfo(text)) {
        const bool local = is_local_file_system(mount.type);
        mount_is_local_[mount.id] = local;
        if (!local)
            foreign_mount_points_.insert(std::move(mount.mount_point));
    }
}

void LocalPathResolver::refresh() {
    // /proc/PID/mountinfo reports a change in the mount namespace as
    // POLLPRI (and POLLERR) once, to each open file.
    pollfd changed{mountinfo_fd_, POLLPRI, 0};
    if (!read_once_ || (mountinfo_fd_ >= 0 && poll(&changed, 1, 0) > 0 && (changed.revents & (POLLPRI | POLLERR))))
        read_table();
}

bool LocalPathResolver::mount_is_local(uint64_t mount_id) {
    auto it = mount_is_local_.find(mount_id);
    if (it == mount_is_local_.end()) {
        read_table();
        it = mount_is_local_.find(mount_id);
        if (it == mount_is_local_.end())
            return false;
    }
    return it->second;
}

std::optional<ResolvedPath> LocalPathResolver::resolve(std::string_view path) {
    // A trailing slash names a directory, never the regular file asked for.
    if (path.empty() || path.front() != '/' || path.back() == '/')
        return std::nullopt;
    refresh();
    PathFd current(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct statx info {};
    if (current.get() < 0 || !describe(current.get(), info) || !mount_is_local(info.stx_mnt_id))
        return std::nullopt;

    // The directory `current` is, always reached through local mounts only,
    // so ".." leads back to a directory already checked.
    std::vector<std::string> resolved;
    std::vector<std::string> pending;
    push_components(path, pending);
    int links = 0;
    while (!pending.empty()) {
        const std::string component = std::move(pending.back());
        pending.pop_back();
        if (component == ".")
            continue;
        if (component != "..") {
            // Stepping onto a mount point enters the mount: not one that is
            // not local (see the header).
            resolved.push_back(component);
            const bool foreign = foreign_mount_points_.contains(join(resolved));
            resolved.pop_back();
            if (foreign)
                return std::nullopt;
        }
        PathFd next(openat(current.get(), component.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0 || !describe(next.get(), info) || !mount_is_local(info.stx_mnt_id))
            return std::nullopt;
        if (S_ISLNK(info.stx_mode)) {
            if (++links > max_symlinks)
                return std::nullopt;
            char target[PATH_MAX];
            const ssize_t length = readlinkat(next.get(), "", target, sizeof target);
            if (length <= 0 || static_cast<size_t>(length) >= sizeof target)
                return std::nullopt;
            const std::string_view link(target, static_cast<size_t>(length));
            if (link.front() == '/') {
                current.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
                resolved.clear();
                if (current.get() < 0)
                    return std::nullopt;
            }
            push_components(link, pending);
            continue;
        }
        if (component == "..") {
            if (!resolved.empty())
                resolved.pop_back();
        } else {
            resolved.push_back(component);
        }
        if (pending.empty()) {
            if (!S_ISREG(info.stx_mode))
                return std::nullopt;
            return ResolvedPath{join(resolved), info.stx_ino};
        }
        if (!S_ISDIR(info.stx_mode))
            return std::nullopt;
        current.reset(next.release());
    }
    return std::nullopt;  // the path named a directory ("/usr/..", "/usr/.")
}

}  // namespace dnsvis
