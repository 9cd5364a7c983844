#include "cgroup_ownership.hpp"

#include <sys/stat.h>

#include <algorithm>

namespace dnsvis {

bool cgroup_made_by_user(const std::string& cgroup_root, std::string_view path) {
    struct stat st;
    if (lstat(cgroup_root.c_str(), &st) != 0)
        return false;
    const uid_t root_owner = st.st_uid;
    // Each directory from the top down: a delegated subtree's own directory
    // is the user's, and so is everything the user made below it.
    std::string directory = cgroup_root;
    size_t start = 0;
    while (start < path.size()) {
        const size_t end = std::min(path.find('/', start), path.size());
        if (end > start) {
            directory += '/';
            directory.append(path.substr(start, end - start));
            if (lstat(directory.c_str(), &st) != 0)
                return false;
            if (st.st_uid != root_owner)
                return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace dnsvis
