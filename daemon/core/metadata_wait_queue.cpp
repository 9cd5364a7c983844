#include "metadata_wait_queue.hpp"

#include <utility>

namespace dnsvis {

size_t MetadataWaitQueue::footprint(const Transaction& transaction, const Attribution& attribution,
                                    std::string_view parse_error) {
    size_t bytes = sizeof(HeldTransaction) + transaction.question.name.size() + transaction.owner.comm.size() +
                   parse_error.size();
    if (transaction.response)
        for (const DnsRecord& record : transaction.response->answers)
            bytes += sizeof(DnsRecord) + record.name.size() + record.data.size();
    const CgroupUnits& units = attribution.units;
    const CgroupContainer& container = attribution.container;
    bytes += attribution.exe.size() + attribution.cgroup_path.size() + units.unit.size() + units.user_unit.size() +
             units.slice.size() + container.id.size() + container.ns.size() + container.pod_uid.size();
    return bytes;
}

bool MetadataWaitQueue::has_room(const Transaction& transaction, const Attribution& attribution) const {
    return entries_.size() < max_entries && bytes_ + footprint(transaction, attribution, {}) <= max_bytes;
}

void MetadataWaitQueue::hold(uint64_t deadline_ns, Transaction&& transaction, const Attribution& attribution,
                             std::string_view parse_error) {
    bytes_ += footprint(transaction, attribution, parse_error);
    entries_.push_back(HeldTransaction{deadline_ns, std::move(transaction), attribution, std::string(parse_error)});
}

size_t MetadataWaitQueue::release(const std::string& container_id, const Release& write) {
    // One pass that writes the container's entries and closes the others
    // up behind them: erasing each from the middle of the deque would shift
    // half of it every time, seconds of the event loop for a full queue of
    // two containers' transactions interleaved.
    size_t released = 0;
    auto kept = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->attribution.container.id != container_id) {
            if (kept != it)
                *kept = std::move(*it);
            ++kept;
            continue;
        }
        bytes_ -= footprint(it->transaction, it->attribution, it->parse_error);
        write(*it);
        ++released;
    }
    entries_.erase(kept, entries_.end());
    return released;
}

size_t MetadataWaitQueue::release_expired(uint64_t now_ns, const Release& write) {
    size_t released = 0;
    while (!entries_.empty() && entries_.front().deadline_ns <= now_ns) {
        HeldTransaction& entry = entries_.front();
        bytes_ -= footprint(entry.transaction, entry.attribution, entry.parse_error);
        write(entry);
        entries_.pop_front();
        ++released;
    }
    return released;
}

}  // namespace dnsvis
