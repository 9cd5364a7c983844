#include "container_match.hpp"

#include <set>

namespace dnsvis {

ContainerMatchResult match_container(std::string_view query, const std::vector<KnownContainer>& known) {
    ContainerMatchResult result;
    if (query.empty())
        return result;
    for (const KnownContainer& container : known)
        if (container.id == query) {
            result.match = ContainerMatch::found;
            result.id = container.id;
            return result;
        }

    std::string_view name = query;
    if (name.front() == '/')
        name.remove_prefix(1);
    // The same container may be listed twice (two cgroups): count ids.
    std::set<std::string_view> named, prefixed;
    for (const KnownContainer& container : known) {
        if (!name.empty() && container.name == name)
            named.insert(container.id);
        if (container.id.compare(0, query.size(), query) == 0)
            prefixed.insert(container.id);
    }
    for (const std::set<std::string_view>* matches : {&named, &prefixed}) {
        if (matches->empty())
            continue;
        result.by_name = matches == &named;
        if (matches->size() > 1) {
            result.match = ContainerMatch::ambiguous;
            result.matches = matches->size();
            return result;
        }
        result.match = ContainerMatch::found;
        result.id = std::string(*matches->begin());
        return result;
    }
    return result;
}

}  // namespace dnsvis
