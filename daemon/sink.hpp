// Where reported entries go. Every sink takes the same fields and counts
// the entries it could not deliver itself, so a loss is never silent.
#pragma once

#include <cstdint>

#include "entry_fields.hpp"

namespace dnsvis {

class Sink {
public:
    virtual ~Sink() = default;

    // One entry: its fields go to what begin_entry() returns, in order,
    // and end_entry() completes it.
    virtual FieldWriter& begin_entry() = 0;
    virtual void end_entry() = 0;
    // Called after each batch of events.
    virtual void flush() {}
    // A flush that returns only once what it wrote is written or counted
    // lost, for the final summary to count every loss (a sink that writes
    // from a thread of its own has more to wait for).
    virtual void settle() { flush(); }
    // The last flush: nothing follows, so what the sink still holds is
    // counted as lost.
    virtual void finish() { flush(); }
    // Whether the sink holds output it will write at its next flush even
    // without new entries: the daemon's tick then keeps running.
    virtual bool holds_output() const { return false; }
    // Whether the output can never take an entry again: its reader closed
    // it (EPIPE). The daemon then stops, the way a filter in a pipeline
    // does, instead of counting every entry from then on as lost.
    virtual bool reader_gone() const { return false; }
    // Entries that could not be delivered so far.
    uint64_t lost() const { return lost_; }

protected:
    uint64_t lost_ = 0;
};

}  // namespace dnsvis
