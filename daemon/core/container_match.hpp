// Which container an operator means by a full id, a name or an id prefix,
// in Docker's order: an exact id, then an exact name, then a unique prefix
// of an id. Pure; the caller lists the containers it knows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvis {

struct KnownContainer {
    std::string id;    // full id
    std::string name;  // "" when not known (yet)
};

enum class ContainerMatch : uint8_t { found, none, ambiguous };

struct ContainerMatchResult {
    ContainerMatch match = ContainerMatch::none;
    std::string id;      // the full id, when found
    size_t matches = 0;  // how many matched, when ambiguous
    bool by_name = false;
};

// A name may be given with Docker's leading '/'. An empty query matches
// nothing.
ContainerMatchResult match_container(std::string_view query, const std::vector<KnownContainer>& known);

}  // namespace dnsvis
