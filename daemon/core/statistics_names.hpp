// Every counter under its lower-case name, as GetStatistics returns them
// and `dnsvisctl stats` prints them: the summary's DNSVIS_* fields without
// the prefix, lower-cased ("captured", "lost", "lost_ringbuf", ...).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "statistics.hpp"

namespace dnsvis {

std::vector<std::pair<std::string, uint64_t>> named_counters(const Statistics& statistics);

}  // namespace dnsvis
