// scopes.json in the state directory: read at start, written after every
// change (see scope_state.hpp for the format).
#pragma once

#include <string>

#include "scope_rules.hpp"

namespace dnsvis {

enum class ScopeStateLoad : uint8_t {
    absent,       // no file yet: the configured default applies
    loaded,       // `rules` holds the file's rules
    moved_aside,  // damaged or unreadable: renamed to `aside`, the configured default applies
    unreadable,   // could not be read nor moved: the configured default applies, and
                  // saving must not replace the file
};

struct ScopeStateLoadResult {
    ScopeStateLoad status = ScopeStateLoad::absent;
    std::string aside;   // where a damaged file went
    std::string reason;  // why it was refused or unreadable
};

// A damaged file is renamed to "<path>.corrupt", one that cannot be read
// (a symlink, a read error, another owner's mode 0600) to
// "<path>.unreadable", each replacing an older one: the next write must not
// destroy what the operator may want to look at, and the next start should
// not trip over it again.
ScopeStateLoadResult load_scope_state_file(const std::string& path, ScopeRules& rules);

// What became of a state file that could be neither read nor moved aside
// at start, asked again before a save: the operator may have fixed its
// directory since.
enum class UnusedStateFile : uint8_t {
    gone,   // removed by someone: nothing to keep
    moved,  // renamed to "<path>.unreadable" now
    stuck,  // still there and still immovable: `reason` says why
};
UnusedStateFile move_unused_state_file_aside(const std::string& path, std::string& reason);

bool save_scope_state_file(const std::string& path, const ScopeRules& rules, std::string& error);

}  // namespace dnsvis
