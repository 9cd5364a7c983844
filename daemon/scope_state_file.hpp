// scopes.json in the state directory: read at start, written after every
// change (see scope_state.hpp for the format).
#pragma once

#include <string>

#include "scope_rules.hpp"

namespace dnsvis {

enum class ScopeStateLoad : uint8_t {
    absent,       // no file yet: the configured default applies
    loaded,       // `rules` holds the file's rules
    moved_aside,  // damaged: renamed to `aside`, the configured default applies
    unreadable,   // could not be read (or moved): the configured default applies
};

struct ScopeStateLoadResult {
    ScopeStateLoad status = ScopeStateLoad::absent;
    std::string aside;   // where a damaged file went
    std::string reason;  // why it was refused or unreadable
};

// A damaged file is renamed to "<path>.corrupt" (replacing an older one), so
// that the next write does not destroy what the operator may want to look
// at, and the next start does not trip over it again.
ScopeStateLoadResult load_scope_state_file(const std::string& path, ScopeRules& rules);

bool save_scope_state_file(const std::string& path, const ScopeRules& rules, std::string& error);

}  // namespace dnsvis
