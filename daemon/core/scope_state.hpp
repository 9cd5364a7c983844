// The state file that keeps visibility scopes across restarts
// (scopes.json in the state directory):
//
//   {"version": 1, "global": false,
//    "rules": [{"kind": "unit", "target": "nginx.service", "enabled": true},
//              {"kind": "container", "target": "<full id>", "enabled": false},
//              {"kind": "process", "pid": 4242, "start_time": 123456, "enabled": true}]}
//
// "global" is null when it was never set (the configured default applies).
// Pure text <-> rules; reading, writing and moving a bad file aside are the
// daemon's.
#pragma once

#include <string>
#include <string_view>

#include "scope_rules.hpp"

namespace dnsvis {

constexpr int scope_state_version = 1;

// The file's text: one JSON document and a newline.
std::string format_scope_state(const ScopeRules& rules);

// Reads the text back. The whole file is refused, with one sentence in
// `error`, when it is not valid JSON, has another version, or holds any
// rule of the wrong shape or type (an invalid unit name, a pid of 0, more
// than max_scope_rules rules...): half a rule set would show traffic the
// operator hid, or hide what they asked to see.
bool parse_scope_state(std::string_view text, ScopeRules& rules, std::string& error);

}  // namespace dnsvis
