#include "statistics_names.hpp"

#include <cctype>

namespace dnsvis {

std::vector<std::pair<std::string, uint64_t>> named_counters(const Statistics& s) {
    std::vector<std::pair<std::string, uint64_t>> out;
    out.reserve(counter_field_count);
    for (const CounterField& counter : counter_fields(s)) {
        std::string name;
        for (char c : counter.field.substr(std::string_view("DNSVIS_").size()))
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.emplace_back(std::move(name), counter.value);
    }
    return out;
}

}  // namespace dnsvis
