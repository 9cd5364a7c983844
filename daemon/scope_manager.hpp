// Visibility scopes: which DNS traffic dnsvis reports. Rules are kept by
// name (a unit may not be running yet), stored in the state directory, and
// applied to the kernel's scope maps so that traffic nobody asked to see
// never reaches the ring buffer.
//
// The most specific rule wins: process, then container, then unit (deepest
// cgroup first), then global.
//
// This is the boundary between the rules and whoever changes them (the
// D-Bus service, start-up restore). It never throws; a refused change comes
// back as a ScopeResult naming what was wrong, which the bus maps to
// org.dnsvis1.Error.*.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvis {

enum class ScopeKind : uint8_t { global, unit, container, process };

// "global", "unit", "container", "process": the kind column of ListScopes.
std::string_view scope_kind_name(ScopeKind kind);

// One row of ListScopes, signature (ssb).
struct ScopeEntry {
    ScopeKind kind;
    std::string target;  // "" for global, unit name, full container id, pid
    bool enabled;
};

enum class ScopeError : uint8_t {
    none,
    invalid_argument,     // empty or malformed unit name, pid 0, empty container
    no_such_container,    // no running container has that id, prefix or name
    ambiguous_container,  // the id prefix matches more than one container
    no_such_process,      // no process has that pid
    limits_exceeded,      // max_scope_rules rules already, and this would add one
    failed,               // the kernel map or the state file could not be written
};

struct ScopeResult {
    ScopeError error = ScopeError::none;
    std::string message;  // one sentence for the caller, empty on success

    explicit operator bool() const { return error == ScopeError::none; }
};

class ScopeManager {
public:
    virtual ~ScopeManager() = default;

    virtual ScopeResult set_global(bool enabled) = 0;
    virtual ScopeResult set_unit(std::string_view unit, bool enabled) = 0;
    // A full id, a unique id prefix or a container name. The answer may
    // come later (the bus replies asynchronously): a name the runtime has
    // not told yet (a container started a moment ago) is asked for, and
    // `done` runs once the answer is in (at most the runtime's request
    // timeout, 2 s). `done` may run before this returns.
    virtual void set_container_async(std::string_view id_or_name, bool enabled,
                                     std::function<void(ScopeResult)> done) = 0;
    virtual ScopeResult set_process(uint32_t pid, bool enabled) = 0;
    // Drops every rule; global goes back to the configured default.
    virtual ScopeResult reset() = 0;

    virtual bool global() const = 0;
    virtual std::vector<ScopeEntry> list() const = 0;
};

}  // namespace dnsvis
