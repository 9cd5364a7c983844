// Transactions waiting, at most MetadataWait=, for what their container's
// runtime says of it (name, image, labels) before they are written, in
// arrival order.
//
// Bounded in count and in bytes: a transaction holds its rendered answers,
// and one TCP answer may render to half a megabyte, so a count alone would
// let a burst from new containers pin gigabytes. A transaction that does
// not fit is written at once instead, without what the runtime would have
// added.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "transaction.hpp"
#include "attribution.hpp"

namespace dnsvis {

struct HeldTransaction {
    uint64_t deadline_ns = 0;
    Transaction transaction;
    Attribution attribution;
    std::string parse_error;
};

class MetadataWaitQueue {
public:
    static constexpr size_t max_entries = 16384;
    static constexpr size_t max_bytes = 32 * 1024 * 1024;

    // Whether `transaction` (with `attribution`) fits in both bounds.
    bool has_room(const Transaction& transaction, const Attribution& attribution) const;
    // Copies the attribution: the caller's keeps its buffers.
    void hold(uint64_t deadline_ns, Transaction&& transaction, const Attribution& attribution,
              std::string_view parse_error);

    // The containers whose runtime's answer is awaited, one release each:
    // true when `container_id` was not awaited yet.
    bool start_awaiting(const std::string& container_id) { return awaited_.insert(container_id).second; }
    void stop_awaiting(const std::string& container_id) { awaited_.erase(container_id); }

    using Release = std::function<void(HeldTransaction&)>;
    // Takes out every entry of `container_id`, in arrival order; returns how many.
    size_t release(const std::string& container_id, const Release& write);
    // Takes out every entry whose deadline is at or before `now_ns`.
    size_t release_expired(uint64_t now_ns, const Release& write);

    bool empty() const { return entries_.empty(); }
    size_t size() const { return entries_.size(); }
    size_t bytes() const { return bytes_; }

private:
    // What an entry keeps in memory, near enough: the struct and the
    // strings it owns.
    static size_t footprint(const Transaction& transaction, const Attribution& attribution,
                            std::string_view parse_error);

    std::deque<HeldTransaction> entries_;
    std::unordered_set<std::string> awaited_;
    size_t bytes_ = 0;
};

}  // namespace dnsvis
