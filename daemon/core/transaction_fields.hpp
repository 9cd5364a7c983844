// Turns a transaction or a summary into the journal fields of the contract
// (../shared/design.md). Both sinks, journald and JSON lines, print exactly
// this list, so the two outputs cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <memory>

#include "cgroup_path.hpp"
#include "container_cgroup.hpp"
#include "container_metadata.hpp"
#include "statistics.hpp"
#include "transaction.hpp"

namespace dnsvis {

// One MESSAGE_ID per kind of entry; explained in the journal catalog.
inline constexpr std::string_view message_id_transaction = "44f8838485b245d4ac2a7d9509a49043";
inline constexpr std::string_view message_id_timeout = "a4d49b19684f4f8eada9154822aa3992";
inline constexpr std::string_view message_id_summary = "6865af7173214451bda6f168d9555bf0";

// What user space learnt about the socket owner beyond the kernel's view.
struct Attribution {
    std::string exe;          // empty: unknown (process gone, or no permission)
    std::string cgroup_path;  // empty: unknown
    CgroupUnits units;
    CgroupContainer container;                            // from the cgroup path
    std::shared_ptr<const ContainerMetadata> metadata;    // from the runtime, when it answered
};

struct Field {
    std::string_view name;  // refers to static storage
    std::string value;
};

using FieldList = std::vector<Field>;

// `parse_error` is empty when the messages parsed completely; otherwise it
// names what was wrong and is reported as DNS_PARSE_ERROR.
void format_transaction_fields(const Transaction& transaction, const Attribution& attribution,
                               std::string_view parse_error, FieldList& out);
void format_summary_fields(const Statistics& statistics, FieldList& out);

// "412 µs" style is avoided: "0.4 ms", "12.3 ms", "1.25 s".
std::string format_latency(uint64_t nanoseconds);
// syslog priority: 6 when answered with NOERROR, 5 otherwise.
int transaction_priority(const Transaction& transaction);

}  // namespace dnsvis
