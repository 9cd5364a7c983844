// A hash set that owns its elements and is searched by a hash the caller
// computed, for the transaction table's pending queries.
//
// Why not std::unordered_map: its bucket index is a division by a prime,
// and in dnsvisd's profile that division and the bucket load were most of a
// lookup, which runs twice per transaction. Here the slots are a power of
// two (a mask), open addressing with linear probing keeps a lookup in one or
// two neighbouring cache lines, and each slot holds the full hash, so a
// mismatch rarely touches an element. Elements live on the heap and never
// move, so pointers to them (the deadline list) stay valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace dnsvis {

template <typename T>
class OwningHashSet {
public:
    explicit OwningHashSet(size_t initial_slots = 1024) : slots_(round_up(initial_slots)), mask_(slots_.size() - 1) {}

    size_t size() const { return size_; }

    // The element with this hash for which `same(element)` holds, or null.
    template <typename Same>
    T* find(uint64_t hash, Same&& same) const {
        for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const Slot& slot = slots_[i];
            if (!slot.element)
                return nullptr;
            if (slot.hash == hash && same(*slot.element))
                return slot.element.get();
        }
    }

    // Adds an element that is not in the set yet.
    T& insert(uint64_t hash, std::unique_ptr<T> element) {
        if (2 * (size_ + 1) > slots_.size())
            grow();
        T& added = *element;
        place(hash, std::move(element));
        ++size_;
        return added;
    }

    // Takes `element`, which is in the set under `hash`, out of it.
    std::unique_ptr<T> extract(uint64_t hash, const T& element) {
        size_t i = hash & mask_;
        while (slots_[i].element.get() != &element)
            i = (i + 1) & mask_;
        std::unique_ptr<T> taken = std::move(slots_[i].element);
        --size_;
        // Backward-shift deletion: later members of the probe run move up
        // into the hole unless they already sit at or after their home slot
        // as seen from the hole, so no tombstones ever slow lookups down.
        size_t hole = i;
        for (size_t j = (i + 1) & mask_; slots_[j].element; j = (j + 1) & mask_) {
            const size_t home = slots_[j].hash & mask_;
            const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (stays)
                continue;
            slots_[hole] = std::move(slots_[j]);
            hole = j;
        }
        return taken;
    }

    void clear() {
        for (Slot& slot : slots_)
            slot.element.reset();
        size_ = 0;
    }

private:
    struct Slot {
        uint64_t hash = 0;
        std::unique_ptr<T> element;  // null: free
    };

    static size_t round_up(size_t n) {
        size_t slots = 16;
        while (slots < n)
            slots *= 2;
        return slots;
    }

    void place(uint64_t hash, std::unique_ptr<T> element) {
        size_t i = hash & mask_;
        while (slots_[i].element)
            i = (i + 1) & mask_;
        slots_[i].hash = hash;
        slots_[i].element = std::move(element);
    }

    void grow() {
        std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.size() * 2));
        mask_ = slots_.size() - 1;
        for (Slot& slot : old) {
            if (slot.element)
                place(slot.hash, std::move(slot.element));
        }
    }

    std::vector<Slot> slots_;
    size_t mask_;
    size_t size_ = 0;
};

}  // namespace dnsvis
