#include "process_stat.hpp"

namespace dnsvis {

std::optional<uint64_t> start_time_from_proc_stat(std::string_view stat) {
    const size_t paren = stat.rfind(')');
    if (paren == std::string_view::npos || stat.find('(') == std::string_view::npos)
        return std::nullopt;
    // After "pid (comm)" come fields 3 (state), 4, ... 22 (starttime).
    std::string_view rest = stat.substr(paren + 1);
    int field = 2;
    size_t pos = 0;
    while (pos < rest.size()) {
        while (pos < rest.size() && rest[pos] == ' ')
            ++pos;
        if (pos >= rest.size() || rest[pos] == '\n')
            break;
        size_t end = pos;
        while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n')
            ++end;
        if (++field == 22) {
            const std::string_view text = rest.substr(pos, end - pos);
            if (text.empty() || text.size() > 20)
                return std::nullopt;
            uint64_t value = 0;
            for (char c : text) {
                if (c < '0' || c > '9')
                    return std::nullopt;
                const uint64_t digit = static_cast<uint64_t>(c - '0');
                if (value > (UINT64_MAX - digit) / 10)
                    return std::nullopt;
                value = value * 10 + digit;
            }
            return value;
        }
        pos = end;
    }
    return std::nullopt;
}

std::optional<uint32_t> tgid_from_proc_status(std::string_view status) {
    constexpr std::string_view key = "Tgid:";
    size_t pos = 0;
    while (pos < status.size()) {
        size_t end = status.find('\n', pos);
        if (end == std::string_view::npos)
            end = status.size();
        std::string_view line = status.substr(pos, end - pos);
        pos = end + 1;
        if (line.substr(0, key.size()) != key)
            continue;
        line.remove_prefix(key.size());
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        if (line.empty() || line.size() > 10)
            return std::nullopt;
        uint64_t value = 0;
        for (char c : line) {
            if (c < '0' || c > '9')
                return std::nullopt;
            value = value * 10 + static_cast<uint64_t>(c - '0');
        }
        if (value == 0 || value > UINT32_MAX)
            return std::nullopt;
        return static_cast<uint32_t>(value);
    }
    return std::nullopt;
}

}  // namespace dnsvis
