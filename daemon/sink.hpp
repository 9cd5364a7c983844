// Where reported entries go. Every sink writes the same field list and counts
// the entries it could not deliver itself, so a loss is never silent.
#pragma once

#include <cstdint>

#include "transaction_fields.hpp"

namespace dnsvis {

class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(const FieldList& fields) = 0;
    // Called after each batch of events.
    virtual void flush() {}
    // Entries that could not be delivered so far.
    uint64_t lost() const { return lost_; }

protected:
    uint64_t lost_ = 0;
};

}  // namespace dnsvis
