#include "scope_manager.hpp"

namespace dnsvis {

std::string_view scope_kind_name(ScopeKind kind) {
    switch (kind) {
        case ScopeKind::global:
            return "global";
        case ScopeKind::unit:
            return "unit";
        case ScopeKind::container:
            return "container";
        case ScopeKind::process:
            return "process";
    }
    return "global";
}

}  // namespace dnsvis
