#include "exec_record.hpp"

#include <cstring>

namespace dnsvis {

std::string_view exe_from_exec_record(const dnsvis_exec_record& record, uint64_t seen_ns,
                                      std::string_view owner_comm) {
    if (record.since_ns > seen_ns)
        return {};
    const std::string_view comm(record.comm, strnlen(record.comm, sizeof record.comm));
    if (comm != owner_comm)
        return {};
    // path_len counts the NUL; a full buffer may have been cut short.
    if (record.path_len < 2 || record.path_len >= sizeof record.path)
        return {};
    const std::string_view path(record.path, strnlen(record.path, record.path_len));
    if (path.size() + 1 != record.path_len || path.front() != '/')
        return {};
    // A re-exec of /proc/self/exe, or an fexecve() of a descriptor
    // (/dev/fd/N): names that meant something only to the process itself.
    if (path.starts_with("/proc/") || path.starts_with("/dev/fd/"))
        return {};
    return path;
}

}  // namespace dnsvis
