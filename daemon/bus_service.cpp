#include "bus_service.hpp"

#include <chrono>

#include "dnsvis_build_config.h"
#include "log.hpp"
#include "scope_rules.hpp"
#include "statistics_names.hpp"
#include "utf8_text.hpp"

namespace dnsvis {

namespace {

constexpr const char* manage_action = "org.dnsvis1.manage";
constexpr const char* access_denied = "org.freedesktop.DBus.Error.AccessDenied";
constexpr const char* limits_exceeded = "org.freedesktop.DBus.Error.LimitsExceeded";
// Bounds on what clients can make the daemon hold. polkit's answer may take
// up to authorization_timeout, and a user's own agent may never give it: a
// bound per uid keeps one user from locking every other one out. In all,
// below the 128 replies dbus-daemon lets one connection wait for (its
// max_replies_per_connection), past which it would refuse the checks
// itself, and they would look like polkit's refusal.
constexpr unsigned max_pending_authorizations = 96;
constexpr unsigned max_pending_authorizations_per_uid = 8;
constexpr uint32_t unknown_uid = UINT32_MAX;
// Callers whose uid the bus driver has not told yet (a few ms each).
constexpr unsigned max_pending_identifications = 256;
constexpr size_t max_subscribers = 64;
constexpr size_t max_pending_changes = 64;
// polkit may ask a human for a password: give them time.
constexpr auto authorization_timeout = std::chrono::minutes(2);

const char* error_name(ScopeError error) {
    switch (error) {
        case ScopeError::invalid_argument:
            return "org.dnsvis1.Error.InvalidArgument";
        case ScopeError::no_such_container:
            return "org.dnsvis1.Error.NoSuchContainer";
        case ScopeError::ambiguous_container:
            return "org.dnsvis1.Error.AmbiguousContainer";
        case ScopeError::no_such_process:
            return "org.dnsvis1.Error.NoSuchProcess";
        case ScopeError::limits_exceeded:
            return limits_exceeded;
        case ScopeError::none:
        case ScopeError::failed:
            break;
    }
    return "org.dnsvis1.Error.Failed";
}

// Runs an asynchronous call's continuation, which answers the caller. An
// answer that cannot be sent (the caller or the bus went away) must not
// unwind through sd-bus's C frames into the event loop, which would turn
// D-Bus control off for good.
template <typename Continuation>
void answering(const std::string& caller, Continuation&& continuation) {
    try {
        continuation();
    } catch (const sdbus::Error& error) {
        log_debug("Cannot answer %s: %s", caller.c_str(), error.getMessage().c_str());
    }
}

std::string name_owner_match(const std::string& name) {
    return "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
           "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" +
           name + "'";
}

}  // namespace

BusService::BusService(sd_event* event, Sources sources)
    : BusConnection{sdbus::createSystemBusConnection()},
      AdaptorInterfaces(*connection, bus_object_path),
      sources_(std::move(sources)),
      event_source_(event, *connection),
      polkit_(sdbus::createProxy(*connection, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")),
      bus_driver_(sdbus::createProxy(*connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")) {
    registerAdaptor();
    connection->requestName(bus_name);
}

BusService::~BusService() {
    unregisterAdaptor();
    try {
        connection->releaseName(bus_name);
    } catch (const sdbus::Error&) {
        // Gone with the connection anyway.
    }
}

// A caller whose effective uid is 0 is allowed at once. The uid is the bus
// driver's GetConnectionUnixUser for the caller's unique name (taken from
// the socket when it connected, not read from /proc), asked
// asynchronously: a synchronous call would stop capture for as long as the
// bus takes to answer (up to 25 s). Anyone else is asked of polkit by bus
// name (not pid: a pid can be reused before polkit looks at it),
// interaction allowed; no polkit means no.
void BusService::authorize(const Reply& reply, std::function<void(const std::string& caller)> then) {
    std::string sender;
    try {
        sender = getObject().getCurrentlyProcessedMessage()->getSender();
    } catch (const sdbus::Error& error) {
        log_debug("Cannot learn who called: %s", error.getMessage().c_str());
    }
    if (sender.empty()) {
        reply->returnError(sdbus::Error(access_denied, "Cannot identify the caller"));
        return;
    }
    if (pending_identifications_ >= max_pending_identifications) {
        reply->returnError(sdbus::Error(limits_exceeded, "Too many calls pending; try again later"));
        return;
    }
    auto identified = [this, reply, then = std::move(then), sender](const sdbus::Error* error, uint32_t uid) {
        --pending_identifications_;
        if (error)
            log_debug("Cannot learn the uid of %s (%s), treating the caller as unprivileged", sender.c_str(),
                      error->getMessage().c_str());
        answering(sender, [&] {
            if (!error && uid == 0)
                then(sender);
            else
                ask_polkit(reply, then, sender, error ? unknown_uid : uid);
        });
    };
    ++pending_identifications_;
    try {
        bus_driver_->callMethodAsync("GetConnectionUnixUser")
            .onInterface("org.freedesktop.DBus")
            .withArguments(sender)
            .uponReplyInvoke(std::move(identified));
    } catch (const sdbus::Error& error) {
        --pending_identifications_;
        reply->returnError(sdbus::Error(access_denied, "Cannot identify the caller: " + error.getMessage()));
    }
}

void BusService::ask_polkit(const Reply& reply, const std::function<void(const std::string& caller)>& then,
                            const std::string& sender, uint32_t uid) {
    const auto held = pending_authorizations_by_uid_.find(uid);
    const unsigned held_by_uid = held == pending_authorizations_by_uid_.end() ? 0 : held->second;
    if (pending_authorizations_ >= max_pending_authorizations || held_by_uid >= max_pending_authorizations_per_uid) {
        reply->returnError(sdbus::Error(limits_exceeded, "Too many authorizations pending; try again later"));
        return;
    }

    using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
    const Subject subject{std::string("system-bus-name"),
                          std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(sender)}}};
    const std::map<std::string, std::string> details;
    const uint32_t allow_user_interaction = 1;
    ++pending_authorizations_;
    ++pending_authorizations_by_uid_[uid];
    try {
        polkit_->callMethodAsync("CheckAuthorization")
            .onInterface("org.freedesktop.PolicyKit1.Authority")
            .withTimeout(authorization_timeout)
            .withArguments(subject, std::string(manage_action), details, allow_user_interaction, std::string())
            .uponReplyInvoke(
                [this, reply, then, sender, uid](const sdbus::Error* error,
                                                 sdbus::Struct<bool, bool, std::map<std::string, std::string>> answer) {
                    authorization_ended(uid);
                    answering(sender, [&] {
                        if (error) {
                            log_debug("polkit could not authorize %s (%s: %s): access denied", sender.c_str(),
                                      error->getName().c_str(), error->getMessage().c_str());
                            reply->returnError(sdbus::Error(access_denied, "Not authorized: polkit is not available"));
                        } else if (!std::get<0>(answer)) {
                            reply->returnError(
                                sdbus::Error(access_denied, std::string("Not authorized to ") + manage_action));
                        } else {
                            then(sender);
                        }
                    });
                });
    } catch (const sdbus::Error& error) {
        authorization_ended(uid);
        reply->returnError(sdbus::Error(access_denied, "Not authorized: " + error.getMessage()));
    }
}

void BusService::authorization_ended(uint32_t uid) {
    --pending_authorizations_;
    auto it = pending_authorizations_by_uid_.find(uid);
    if (it != pending_authorizations_by_uid_.end() && --it->second == 0)
        pending_authorizations_by_uid_.erase(it);
}

void BusService::change(sdbus::Result<>&& result, Action action, bool global_may_change) {
    auto reply = std::make_shared<sdbus::Result<>>(std::move(result));
    authorize(reply, [this, reply, action = std::move(action), global_may_change](const std::string&) {
        if (pending_changes_.size() >= max_pending_changes) {
            reply->returnError(sdbus::Error(limits_exceeded, "Too many changes pending; try again later"));
            return;
        }
        const uint64_t id = next_change_id_++;
        pending_changes_.emplace(id, PendingChange{reply, global_may_change, sources_.scopes.global()});
        std::weak_ptr<BusService*> self = self_;
        action([self, id](ScopeResult outcome) {
            if (auto alive = self.lock())
                (*alive)->finish_change(id, outcome);
        });
    });
}

void BusService::change(sdbus::Result<>&& result, std::function<ScopeResult()> action, bool global_may_change) {
    change(std::move(result), Action([action = std::move(action)](Done done) { done(action()); }), global_may_change);
}

void BusService::finish_change(uint64_t id, const ScopeResult& outcome) {
    auto it = pending_changes_.find(id);
    if (it == pending_changes_.end())
        return;
    const PendingChange pending = std::move(it->second);
    pending_changes_.erase(it);
    answering("a scope change", [&] {
        if (outcome)
            pending.reply->returnResults();
        else
            pending.reply->returnError(sdbus::Error(error_name(outcome.error),
                                                    outcome.message.empty() ? "The change failed" : outcome.message));
        // A change that could not be saved is in effect all the same.
        if (pending.global_may_change && (outcome || sources_.scopes.global() != pending.global_before))
            getObject().emitPropertiesChangedSignal(INTERFACE_NAME, {"Global"});
    });
}

// Arguments are checked before the caller is authorized: a bad one needs no
// authorization to be refused, and a call that waits for polkit (up to
// authorization_timeout) keeps its arguments meanwhile.
bool BusService::refuse_argument(sdbus::Result<>& result, const std::string& why) {
    if (why.empty())
        return false;
    result.returnError(sdbus::Error(error_name(ScopeError::invalid_argument), why));
    return true;
}

void BusService::SetGlobal(sdbus::Result<>&& result, bool enabled) {
    change(
        std::move(result), [this, enabled] { return sources_.scopes.set_global(enabled); }, true);
}

void BusService::EnableUnit(sdbus::Result<>&& result, std::string unit) {
    if (refuse_argument(result, unit_rule_name_error(unit)))
        return;
    change(
        std::move(result), [this, unit] { return sources_.scopes.set_unit(unit, true); }, false);
}

void BusService::DisableUnit(sdbus::Result<>&& result, std::string unit) {
    if (refuse_argument(result, unit_rule_name_error(unit)))
        return;
    change(
        std::move(result), [this, unit] { return sources_.scopes.set_unit(unit, false); }, false);
}

void BusService::EnableContainer(sdbus::Result<>&& result, std::string container) {
    if (refuse_argument(result, container_rule_id_error(container)))
        return;
    change(std::move(result),
           Action([this, container](Done done) { sources_.scopes.set_container_async(container, true, done); }), false);
}

void BusService::DisableContainer(sdbus::Result<>&& result, std::string container) {
    if (refuse_argument(result, container_rule_id_error(container)))
        return;
    change(std::move(result),
           Action([this, container](Done done) { sources_.scopes.set_container_async(container, false, done); }),
           false);
}

void BusService::EnableProcess(sdbus::Result<>&& result, uint32_t pid) {
    if (refuse_argument(result, process_rule_pid_error(pid)))
        return;
    change(
        std::move(result), [this, pid] { return sources_.scopes.set_process(pid, true); }, false);
}

void BusService::DisableProcess(sdbus::Result<>&& result, uint32_t pid) {
    if (refuse_argument(result, process_rule_pid_error(pid)))
        return;
    change(
        std::move(result), [this, pid] { return sources_.scopes.set_process(pid, false); }, false);
}

void BusService::ResetScopes(sdbus::Result<>&& result) {
    change(
        std::move(result), [this] { return sources_.scopes.reset(); }, true);
}

std::vector<sdbus::Struct<std::string, std::string, bool>> BusService::ListScopes() {
    std::vector<sdbus::Struct<std::string, std::string, bool>> out;
    for (const ScopeEntry& entry : sources_.scopes.list())
        out.emplace_back(std::string(scope_kind_name(entry.kind)), entry.target, entry.enabled);
    return out;
}

std::map<std::string, uint64_t> BusService::GetStatistics() {
    std::map<std::string, uint64_t> out;
    for (auto& [name, value] : named_counters(sources_.statistics()))
        out.emplace(std::move(name), value);
    // Not a journal loss: Transaction signals sd-bus could not queue. What
    // the bus daemon drops for a subscriber that does not read, it does not
    // tell the sender of.
    out.emplace("monitor_dropped", monitor_send_errors_);
    return out;
}

bool BusService::Global() {
    return sources_.scopes.global();
}

std::string BusService::Version() {
    return DNSVIS_VERSION;
}

std::string BusService::ProbeMode() {
    return sources_.probe_mode;
}

void BusService::Subscribe(sdbus::Result<>&& result) {
    retired_watches_.clear();
    auto reply = std::make_shared<sdbus::Result<>>(std::move(result));
    authorize(reply, [this, reply](const std::string& caller) {
        if (!subscribe(caller)) {
            reply->returnError(sdbus::Error(limits_exceeded, "Too many subscribers"));
            return;
        }
        reply->returnResults();
    });
}

void BusService::Unsubscribe() {
    retired_watches_.clear();
    const std::string caller = getObject().getCurrentlyProcessedMessage()->getSender();
    auto it = subscribers_.find(caller);
    if (it == subscribers_.end())
        throw sdbus::Error("org.dnsvis1.Error.NotSubscribed", "This bus name is not subscribed");
    if (--it->second.count == 0)
        subscribers_.erase(it);
}

bool BusService::subscribe(const std::string& name) {
    auto it = subscribers_.find(name);
    if (it != subscribers_.end()) {
        ++it->second.count;
        return true;
    }
    if (subscribers_.size() >= max_subscribers)
        return false;
    Subscriber& subscriber = subscribers_[name];
    subscriber.count = 1;
    try {
        watch_name_owner(name);
    } catch (const sdbus::Error& error) {
        log_warning("Cannot watch subscriber %s, dropping it: %s", name.c_str(), error.getMessage().c_str());
        subscribers_.erase(name);
        return false;
    }
    return true;
}

// A subscriber that disconnects without Unsubscribe stops the emission as
// soon as the bus says its name is gone. The name may already be gone when
// the watch starts (polkit took its time), so it is looked up once too.
void BusService::watch_name_owner(const std::string& name) {
    subscribers_[name].watch = connection->addMatch(name_owner_match(name), [this, name](sdbus::Message& message) {
        std::string changed, old_owner, new_owner;
        message >> changed >> old_owner >> new_owner;
        if (changed == name && new_owner.empty())
            drop_subscriber(name);
    });
    bus_driver_->callMethodAsync("GetNameOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(name)
        .uponReplyInvoke([this, name](const sdbus::Error* error, std::string) {
            if (error)
                drop_subscriber(name);
        });
}

void BusService::drop_subscriber(const std::string& name) {
    auto it = subscribers_.find(name);
    if (it == subscribers_.end())
        return;
    log_debug("Subscriber %s left the bus", name.c_str());
    retired_watches_.push_back(std::move(it->second.watch));
    subscribers_.erase(it);
}

void BusService::publish_transaction(const FieldList& fields) {
    signal_fields_.clear();
    // sd-bus refuses a string that is not UTF-8, and with it the signal.
    for (const Field& field : fields)
        signal_fields_.emplace(std::string(field.name),
                               is_bus_text(field.value) ? std::string(field.value) : bus_text(field.value));
    // Sent to each subscriber, not broadcast: the stream carries every
    // user's DNS, and only the authorized subscribers may read it.
    for (const auto& [name, subscriber] : subscribers_) {
        try {
            sdbus::Signal signal = getObject().createSignal(INTERFACE_NAME, "Transaction");
            signal.setDestination(name);
            signal << signal_fields_;
            signal.send();
        } catch (const sdbus::Error& error) {
            if (monitor_send_errors_++ == 0)
                log_warning("Cannot send a Transaction signal to %s (counted from now on as monitor_dropped): %s",
                            name.c_str(), error.getMessage().c_str());
        }
    }
}

}  // namespace dnsvis
