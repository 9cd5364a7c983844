// The fields of a journal entry as the formatter hands them to the sinks:
// one at a time (FieldWriter), kept in order (FieldList), or as a block
// that repeats from entry to entry and is rendered once per sink
// (FieldBlock).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvis {

struct Field {
    std::string_view name;  // a journal field name (A-Z, 0-9, _) in static storage
    std::string value;
};

class FieldBlock;

// Receives the fields of one entry, in order. A FieldList keeps them; the
// sinks write each one out as it comes, so a value is copied once, straight
// into the output. `name` is a journal field name in static storage; `value`
// only has to last for the call.
class FieldWriter {
public:
    virtual void add(std::string_view name, std::string_view value) = 0;
    // The block's fields, in order. A sink may render them once and keep
    // the text in the block (FieldBlock::rendered()).
    virtual void add_block(const FieldBlock& block);

protected:
    ~FieldWriter() = default;
};

// The fields of one entry, in order, kept: for the bus, the tests and the
// summaries. A list is reused from entry to entry: clear() keeps the value
// buffers, and add() fills them in place.
class FieldList final : public FieldWriter {
public:
    FieldList() = default;
    FieldList(std::initializer_list<Field> fields) : slots_(fields), size_(fields.size()) {}

    const Field* begin() const { return slots_.data(); }
    const Field* end() const { return slots_.data() + size_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const Field& operator[](size_t i) const { return slots_[i]; }

    void clear() { size_ = 0; }
    void add(std::string_view name, std::string_view value) override {
        if (size_ == slots_.size())
            grow();
        Field& field = slots_[size_++];
        field.name = name;
        field.value.assign(value);
    }

    // Hands every field to `out`, in order.
    void write_to(FieldWriter& out) const {
        for (const Field& field : *this)
            out.add(field.name, field.value);
    }

private:
    void grow();  // rare: kept out of line so add() stays small enough to inline

    std::vector<Field> slots_;  // [0, size_) in use; the rest keep their buffers
    size_t size_ = 0;
};

// The formats the sinks render a FieldBlock in.
enum class BlockFormat : uint8_t { json_line, journal_native };
inline constexpr size_t block_format_count = 2;

// Fields that repeat from entry to entry while the same process asks: who
// it is (DNS_PID to the Kubernetes fields). A busy client sends thousands of
// queries a second, and rendering its dozen fields anew for each showed up in
// profiles, so a block keeps what each sink made of it, and the sink copies
// that text into every entry (tests/bench/format_bench.cpp).
class FieldBlock {
public:
    const FieldList& fields() const { return fields_; }
    // Empties the block for new content; what was rendered goes with it.
    FieldList& refill() {
        fields_.clear();
        for (Rendering& r : renderings_)
            r.made = false;
        return fields_;
    }
    // The block in `format`, made by render(fields, text) on first use.
    template <typename Render>
    const std::string& rendered(BlockFormat format, Render&& render) const {
        Rendering& r = renderings_[static_cast<size_t>(format)];
        if (!r.made) {
            r.text.clear();
            render(fields_, r.text);
            r.made = true;
        }
        return r.text;
    }

private:
    struct Rendering {
        std::string text;
        bool made = false;
    };
    FieldList fields_;
    mutable std::array<Rendering, block_format_count> renderings_;
};

}  // namespace dnsvis
