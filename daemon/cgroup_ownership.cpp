#include "cgroup_ownership.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "container_cgroup.hpp"

namespace dnsvis {

bool cgroup_made_by_user(const std::string& cgroup_root, std::string_view path) {
    struct stat st;
    if (lstat(cgroup_root.c_str(), &st) != 0)
        return true;
    const uid_t root_owner = st.st_uid;
    // Each directory from the top down to the container's: a delegated
    // subtree's own directory is the user's, and so is what they made below.
    std::string directory = cgroup_root;
    const size_t root_length = directory.size();
    size_t start = 0;
    while (start < path.size()) {
        const size_t end = std::min(path.find('/', start), path.size());
        if (end > start) {
            directory += '/';
            directory.append(path.substr(start, end - start));
            if (!container_from_cgroup_path(std::string_view(directory).substr(root_length)).id.empty())
                return false;  // the container's own directory: its parents were the host's
            if (lstat(directory.c_str(), &st) != 0 || st.st_uid != root_owner)
                return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace dnsvis
