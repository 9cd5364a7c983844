// Fields of /proc/PID/stat. Pure parsing of the text; the caller reads the
// file.
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

}  // namespace dnsvis
