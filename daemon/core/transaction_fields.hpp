// Turns a transaction or a summary into the journal fields of the contract
// (../shared/design.md). Both sinks, journald and JSON lines, and the bus
// take their fields from this one formatter, so the outputs cannot drift
// apart.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
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
