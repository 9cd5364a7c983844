#include "entry_fields.hpp"

namespace dnsvis {

void FieldWriter::add_block(const FieldBlock& block) {
    block.fields().write_to(*this);
}

void FieldList::grow() {
    slots_.emplace_back();
}

}  // namespace dnsvis
