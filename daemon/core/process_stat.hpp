// Fields of /proc/PID/stat and /proc/PID/status. Pure parsing of the text;
// the caller reads the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dnsvis {

// Field 22, starttime: when the process started, in clock ticks after boot.
// Together with the pid it names one process for good, as a pid alone does
// not (pids are reused). The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'. nullopt when the
// text is not such a line.
std::optional<uint64_t> start_time_from_proc_stat(std::string_view stat);

// The thread group id ("Tgid:") from the text of /proc/PID/status: the
// process a thread id belongs to. nullopt when there is no such line.
std::optional<uint32_t> tgid_from_proc_status(std::string_view status);

}  // namespace dnsvis
