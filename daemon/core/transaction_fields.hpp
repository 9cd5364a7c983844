// Turns a transaction or a summary into the journal fields of the contract
// (org.dnsvis1(5) lists them). Both sinks, journald and JSON lines, and the
// bus take their fields from this one formatter, so the outputs cannot
// drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attribution.hpp"
#include "entry_fields.hpp"
#include "statistics.hpp"
#include "transaction.hpp"

namespace dnsvis {

// One MESSAGE_ID per kind of entry; explained in the journal catalog.
inline constexpr std::string_view message_id_transaction = "44f8838485b245d4ac2a7d9509a49043";
inline constexpr std::string_view message_id_timeout = "a4d49b19684f4f8eada9154822aa3992";
inline constexpr std::string_view message_id_summary = "6865af7173214451bda6f168d9555bf0";

// Turns transactions and summaries into fields. It keeps the buffer that
// MESSAGE and DNS_ANSWERS are composed in, so steady traffic formats its
// entries without allocating.
class EntryFormatter {
public:
    // `parse_error` is empty when the messages parsed completely; otherwise
    // it names what was wrong and is reported as DNS_PARSE_ERROR.
    void transaction(const Transaction& transaction, const Attribution& attribution, std::string_view parse_error,
                     FieldWriter& out);
    void summary(const Statistics& statistics, FieldWriter& out);

private:
    // The fields of an owner, and what they were made from.
    struct OwnerBlock {
        bool filled = false;
        uint32_t pid = 0;
        uint32_t uid = 0;
        std::string comm;
        Attribution attribution;
        FieldBlock block;
    };
    // A busy host interleaves its busy processes' queries: a block per
    // process, in the slot its pid picks, keeps each one's rendering while
    // the others' entries come between.
    static constexpr size_t owner_slots = 256;

    const FieldBlock& owner_block(const Transaction& transaction, const Attribution& attribution);

    std::string scratch_;
    std::vector<OwnerBlock> owners_ = std::vector<OwnerBlock>(owner_slots);
};

// The same, into a cleared list, for one-off entries.
void format_transaction_fields(const Transaction& transaction, const Attribution& attribution,
                               std::string_view parse_error, FieldList& out);
void format_summary_fields(const Statistics& statistics, FieldList& out);

// "412 µs" style is avoided: "0.4 ms", "12.3 ms", "1.25 s".
std::string format_latency(uint64_t nanoseconds);
// syslog priority: 6 when answered with NOERROR, 5 otherwise.
int transaction_priority(const Transaction& transaction);

}  // namespace dnsvis
