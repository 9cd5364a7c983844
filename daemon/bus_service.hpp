// dnsvisd on the system bus: org.dnsvis1 at /org/dnsvis1, interface
// org.dnsvis1.Manager (dbus/org.dnsvis1.xml is the contract; the adaptor is
// generated from it). This file is the glue only: the rules are the
// ScopeManager's, the counters the daemon's.
//
// Changing methods are allowed to root and to whom polkit's
// org.dnsvis1.manage allows, asked for the caller's bus name and without
// blocking the loop: the reply goes out when polkit answers.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "bus_event_source.hpp"
#include "org.dnsvis1.adaptor.h"
#include "scope_manager.hpp"
#include "statistics.hpp"
#include "entry_fields.hpp"

namespace dnsvis {

inline constexpr const char* bus_name = "org.dnsvis1";
inline constexpr const char* bus_object_path = "/org/dnsvis1";

// Constructed before the adaptor, destroyed after it: the object and its
// vtable must go while the connection is still there.
struct BusConnection {
    std::unique_ptr<sdbus::IConnection> connection;
};

class BusService final : private BusConnection, public sdbus::AdaptorInterfaces<org::dnsvis1::Manager_adaptor> {
public:
    struct Sources {
        ScopeManager& scopes;
        std::function<Statistics()> statistics;
        std::string probe_mode;
    };

    // Connects to the system bus, serves it from `event`, registers the
    // object and takes the name. Throws (sdbus::Error, std::system_error)
    // when there is no system bus or the name is refused.
    BusService(sd_event* event, Sources sources);
    ~BusService();

    // False once the connection is lost: the subscribers went with it (no
    // NameOwnerChanged will say so), and formatting a signal nobody can
    // receive would cost every transaction.
    bool has_subscribers() const { return !subscribers_.empty() && !event_source_.broken(); }
    // Sends one Transaction signal to each subscriber.
    void publish_transaction(const FieldList& fields);

private:
    using Reply = std::shared_ptr<sdbus::Result<>>;  // shared: std::function wants copyable callables
    using Done = std::function<void(ScopeResult)>;
    // Calls its argument with the outcome, now or later (a container name
    // may first be asked of the runtime).
    using Action = std::function<void(Done)>;

    // org.dnsvis1.Manager
    void SetGlobal(sdbus::Result<>&& result, bool enabled) override;
    void EnableUnit(sdbus::Result<>&& result, std::string unit) override;
    void DisableUnit(sdbus::Result<>&& result, std::string unit) override;
    void EnableContainer(sdbus::Result<>&& result, std::string container) override;
    void DisableContainer(sdbus::Result<>&& result, std::string container) override;
    void EnableProcess(sdbus::Result<>&& result, uint32_t pid) override;
    void DisableProcess(sdbus::Result<>&& result, uint32_t pid) override;
    std::vector<sdbus::Struct<std::string, std::string, bool>> ListScopes() override;
    void ResetScopes(sdbus::Result<>&& result) override;
    std::map<std::string, uint64_t> GetStatistics() override;
    void Subscribe(sdbus::Result<>&& result) override;
    void Unsubscribe() override;
    bool Global() override;
    std::string Version() override;
    std::string ProbeMode() override;

    // Calls `then` with the caller's bus name once the caller of the current
    // method is authorized (later: from the bus driver's or polkit's
    // answer); replies AccessDenied to `reply` otherwise.
    void authorize(const Reply& reply, std::function<void(const std::string& caller)> then);
    // `uid` is the caller's, or unknown_uid when the bus driver did not say.
    void ask_polkit(const Reply& reply, const std::function<void(const std::string& caller)>& then,
                    const std::string& sender, uint32_t uid);
    void authorization_ended(uint32_t uid);
    // Returns an InvalidArgument error when `why` is not empty; then true.
    static bool refuse_argument(sdbus::Result<>& result, const std::string& why);
    // An authorized change of the rules, answered with its ScopeResult.
    void change(sdbus::Result<>&& result, Action action, bool global_may_change);
    void change(sdbus::Result<>&& result, std::function<ScopeResult()> action, bool global_may_change);
    void finish_change(uint64_t id, const ScopeResult& outcome);
    bool subscribe(const std::string& name);
    void watch_name_owner(const std::string& name);
    void drop_subscriber(const std::string& name);

    Sources sources_;
    BusEventSource event_source_;
    std::unique_ptr<sdbus::IProxy> polkit_;
    std::unique_ptr<sdbus::IProxy> bus_driver_;
    unsigned pending_identifications_ = 0;  // GetConnectionUnixUser calls under way
    unsigned pending_authorizations_ = 0;   // polkit's CheckAuthorization calls under way
    std::map<uint32_t, unsigned> pending_authorizations_by_uid_;  // the same, per caller's uid

    // Changes waiting for their outcome. The replies stay here, not in the
    // callbacks given to the ScopeManager: a reply must not outlive the
    // connection, and those callbacks may outlive this object.
    struct PendingChange {
        Reply reply;
        bool global_may_change;
        bool global_before;  // a failed change may have taken effect all the same
    };
    std::map<uint64_t, PendingChange> pending_changes_;
    uint64_t next_change_id_ = 0;
    std::shared_ptr<BusService*> self_ = std::make_shared<BusService*>(this);  // expires with this object

    struct Subscriber {
        unsigned count = 0;  // Subscribe calls not yet undone by Unsubscribe
        sdbus::Slot watch;   // NameOwnerChanged for this name
    };
    std::map<std::string, Subscriber> subscribers_;
    // Watches of names that left: a match cannot be freed from its own
    // callback, so they go at the next (un)subscription.
    std::vector<sdbus::Slot> retired_watches_;
    std::map<std::string, std::string> signal_fields_;  // reused per signal
    uint64_t monitor_send_errors_ = 0;
};

}  // namespace dnsvis
