#include "local_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <fstream>
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

// The components of `path`, in order, without empty ones.
void push_components(std::string_view path, std::vector<std::string>& pending) {
    std::vector<std::string> components;
    while (!path.empty()) {
        const size_t slash = path.find('/');
        const std::string_view component = path.substr(0, slash);
        if (!component.empty())
            components.emplace_back(component);
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    }
    // `pending` is a stack: the next component is at its back.
    pending.insert(pending.end(), std::make_move_iterator(components.rbegin()),
                   std::make_move_iterator(components.rend()));
}

}  // namespace

LocalPathResolver::LocalPathResolver(std::string mountinfo_path) : mountinfo_path_(std::move(mountinfo_path)) {}

bool LocalPathResolver::mount_is_local(uint64_t mount_id) {
    auto it = mounts_.find(mount_id);
    if (it == mounts_.end()) {
        std::ifstream file(mountinfo_path_);
        mounts_ = parse_mount_types(std::string(std::istreambuf_iterator<char>(file), {}));
        it = mounts_.find(mount_id);
        if (it == mounts_.end())
            return false;
    }
    return is_local_file_system(it->second);
}

std::optional<ResolvedPath> LocalPathResolver::resolve(std::string_view path) {
    // A trailing slash names a directory, never the regular file asked for.
    if (path.empty() || path.front() != '/' || path.back() == '/')
        return std::nullopt;
    PathFd current(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct statx info {};
    if (current.get() < 0 || !describe(current.get(), info) || !mount_is_local(info.stx_mnt_id))
        return std::nullopt;

    std::vector<std::string> resolved;  // the components of the directory `current` is
    std::vector<std::string> pending;
    push_components(path, pending);
    int links = 0;
    while (!pending.empty()) {
        const std::string component = std::move(pending.back());
        pending.pop_back();
        if (component == ".")
            continue;
        // `current` is a directory on a local mount (checked when it was
        // reached): looking a name up in it cannot wait.
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
            ResolvedPath result;
            for (const std::string& name : resolved)
                result.path += "/" + name;
            result.ino = info.stx_ino;
            return result;
        }
        if (!S_ISDIR(info.stx_mode))
            return std::nullopt;
        current.reset(next.release());
    }
    return std::nullopt;  // the path named a directory ("/", "/usr/..")
}

}  // namespace dnsvis
