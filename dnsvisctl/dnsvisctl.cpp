// dnsvisctl: steers and watches dnsvisd over the system bus (org.dnsvis1).
// Exit status: 0 success; 1 failure; 2 bad usage or an argument dnsvisd
// rejected as invalid; 3 no such container or process, or an ambiguous
// container id prefix; 4 access denied; 5 dnsvisd cannot be reached.
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dnsvis_build_config.h"
#include "org.dnsvis1.proxy.h"
#include "pager.hpp"
#include "utf8_text.hpp"

namespace dnsvisctl {

namespace {

enum ExitCode : int {
    exit_ok = 0,
    exit_failure = 1,
    exit_usage = 2,
    exit_no_such_target = 3,
    exit_access_denied = 4,
    exit_unreachable = 5,
};

constexpr const char* bus_name = "org.dnsvis1";
constexpr const char* object_path = "/org/dnsvis1";
// polkit may ask for a password before a change is allowed.
constexpr uint64_t method_timeout_usec = 150'000'000;

struct Options {
    bool json = false;
    bool pager = true;
};

void print_help() {
    std::printf(
        "Usage: dnsvisctl [OPTIONS] COMMAND [TARGET]\n"
        "\n"
        "Shows and changes which DNS traffic dnsvisd reports.\n"
        "\n"
        "Commands:\n"
        "  status                        Version, probes, global visibility, rules, counters\n"
        "  scopes                        List the visibility rules\n"
        "  stats                         Show every counter\n"
        "  reset                         Drop every rule; global goes back to the configured default\n"
        "  enable|disable global         Make all traffic visible, or only what a rule names\n"
        "  enable|disable unit UNIT      A systemd unit and its cgroup subtree (nginx.service)\n"
        "  enable|disable container ID   A container by full id, unique id prefix or name\n"
        "  enable|disable process PID    A process (its thread group)\n"
        "  monitor                       Print transactions as they are reported, until interrupted\n"
        "\n"
        "A target that starts with '-' follows \"--\": dnsvisctl enable unit -- -.slice\n"
        "\n"
        "Options:\n"
        "  -h --help                     Show this help and exit\n"
        "     --version                  Show the version and exit\n"
        "     --json                     JSON output (status, stats: one object; scopes: an array;\n"
        "                                monitor: one object per line)\n"
        "     --no-pager                 Do not pipe long output into a pager\n"
        "\n"
        "Exit status: 0 success, 1 failure, 2 bad usage or invalid argument, 3 no such\n"
        "container or process (or an ambiguous id prefix), 4 access denied, 5 dnsvisd\n"
        "cannot be reached. See dnsvisctl(1).\n");
}

int usage_error(const char* format, const char* argument = "") {
    std::fprintf(stderr, "dnsvisctl: ");
    std::fprintf(stderr, format, argument);
    std::fprintf(stderr, " (see dnsvisctl --help)\n");
    return exit_usage;
}

int exit_code_for(const sdbus::Error& error) {
    const std::string& name = error.getName();
    if (name == "org.freedesktop.DBus.Error.AccessDenied" ||
        name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")
        return exit_access_denied;
    if (name == "org.dnsvis1.Error.InvalidArgument" || name == "org.freedesktop.DBus.Error.InvalidArgs")
        return exit_usage;
    if (name == "org.dnsvis1.Error.NoSuchContainer" || name == "org.dnsvis1.Error.NoSuchProcess" ||
        name == "org.dnsvis1.Error.AmbiguousContainer")
        return exit_no_such_target;
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
        name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Disconnected" ||
        name == "org.freedesktop.DBus.Error.FileNotFound" || name.rfind("org.freedesktop.DBus.Error.Spawn", 0) == 0 ||
        name.rfind("org.freedesktop.systemd1.", 0) == 0)
        return exit_unreachable;
    return exit_failure;
}

// A transaction as `resolvectl monitor` would show it: time and the
// daemon's human line.
void print_transaction(const std::map<std::string, std::string>& fields, bool json) {
    if (json) {
        std::printf("%s\n",
                    nlohmann::json(fields).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        tm local;
        localtime_r(&now.tv_sec, &local);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
        // The line names the client process, whose name its owner chose:
        // control characters in it must not reach the terminal.
        auto message = fields.find("MESSAGE");
        std::printf("%s.%03ld %s\n", stamp, now.tv_nsec / 1'000'000,
                    message != fields.end() ? dnsvis::terminal_text(message->second).c_str()
                                            : "(transaction without MESSAGE)");
    }
    std::fflush(stdout);
}

class Manager final : public sdbus::ProxyInterfaces<org::dnsvis1::Manager_proxy> {
public:
    Manager(sdbus::IConnection& connection, bool json)
        : ProxyInterfaces(connection, bus_name, object_path), json_(json) {
        registerProxy();
    }
    ~Manager() { unregisterProxy(); }

private:
    void onTransaction(const std::map<std::string, std::string>& fields) override { print_transaction(fields, json_); }

    bool json_;
};

std::string yes_no(bool value) {
    return value ? "yes" : "no";
}

int show_scopes(Manager& manager, const Options& options) {
    const auto scopes = manager.ListScopes();
    if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        // std::get, not a structured binding: sdbus::Struct derives from
        // std::tuple, which g++ 12 refuses to decompose.
        for (const auto& scope : scopes)
            out.push_back(
                {{"kind", std::get<0>(scope)}, {"target", std::get<1>(scope)}, {"enabled", std::get<2>(scope)}});
        std::printf("%s\n", out.dump().c_str());
        return exit_ok;
    }
    size_t width = 6;
    for (const auto& scope : scopes)
        width = std::max(width, std::get<1>(scope).size());
    if (options.pager)
        open_pager();
    std::printf("%-10s %-*s %s\n", "KIND", static_cast<int>(width), "TARGET", "VISIBLE");
    for (const auto& scope : scopes) {
        const std::string& target = std::get<1>(scope);
        std::printf("%-10s %-*s %s\n", std::get<0>(scope).c_str(), static_cast<int>(width),
                    target.empty() ? "-" : target.c_str(), yes_no(std::get<2>(scope)).c_str());
    }
    // Global visibility is listed first but is not a rule: `status` counts
    // the same rules.
    const auto rules = static_cast<size_t>(
        std::count_if(scopes.begin(), scopes.end(), [](const auto& scope) { return std::get<0>(scope) != "global"; }));
    std::printf("\n%zu rule%s listed, besides global visibility.\n", rules, rules == 1 ? "" : "s");
    return exit_ok;
}

int show_stats(Manager& manager, const Options& options) {
    const auto statistics = manager.GetStatistics();
    if (options.json) {
        std::printf("%s\n", nlohmann::json(statistics).dump().c_str());
        return exit_ok;
    }
    if (options.pager)
        open_pager();
    for (const auto& [name, value] : statistics)
        std::printf("%-22s %llu\n", name.c_str(), static_cast<unsigned long long>(value));
    return exit_ok;
}

uint64_t counter(const std::map<std::string, uint64_t>& statistics, const char* name) {
    auto it = statistics.find(name);
    return it == statistics.end() ? 0 : it->second;
}

int show_status(Manager& manager, const Options& options) {
    const std::string version = manager.Version();
    const std::string probes = manager.ProbeMode();
    const bool global = manager.Global();
    const auto scopes = manager.ListScopes();
    const auto statistics = manager.GetStatistics();
    std::map<std::string, unsigned> rules;
    for (const auto& scope : scopes)
        if (std::get<0>(scope) != "global")
            ++rules[std::get<0>(scope)];
    if (options.json) {
        nlohmann::json out{{"version", version},
                           {"probe_mode", probes},
                           {"global", global},
                           {"rules", rules},
                           {"statistics", statistics}};
        std::printf("%s\n", out.dump().c_str());
        return exit_ok;
    }
    std::string rule_text;
    unsigned total = 0;
    for (const auto& [kind, count] : rules) {
        rule_text += (rule_text.empty() ? "" : ", ") + std::to_string(count) + " " + kind;
        total += count;
    }
    std::printf("dnsvisd %s on the system bus as %s\n", version.c_str(), bus_name);
    std::printf("    Probes: %s\n", probes.c_str());
    std::printf("    Global: %s\n", global ? "visible" : "hidden (only what a rule names is reported)");
    std::printf("     Rules: %u%s%s%s\n", total, total ? " (" : "", rule_text.c_str(), total ? ")" : "");
    std::printf("  Captured: %llu packets, %llu transactions, %llu lost, %llu filtered out by scope\n",
                static_cast<unsigned long long>(counter(statistics, "captured")),
                static_cast<unsigned long long>(counter(statistics, "transactions")),
                static_cast<unsigned long long>(counter(statistics, "lost")),
                static_cast<unsigned long long>(counter(statistics, "filtered")));
    return exit_ok;
}

// What `enable|disable KIND [TARGET]` asks for, checked before the bus is
// touched, so a typo is a usage error even when dnsvisd is not running.
struct ScopeChange {
    bool enable = true;
    std::string kind;
    std::string target;
    uint32_t pid = 0;
};

int parse_scope_change(const std::vector<std::string>& arguments, ScopeChange& change) {
    change.enable = arguments[0] == "enable";
    change.kind = arguments[1];
    if (change.kind == "global") {
        if (arguments.size() != 2)
            return usage_error("\"global\" takes no target");
        return exit_ok;
    }
    if (change.kind != "unit" && change.kind != "container" && change.kind != "process")
        return usage_error("unknown scope \"%s\": use global, unit, container or process", change.kind.c_str());
    if (arguments.size() != 3)
        return usage_error("\"%s\" needs exactly one target", change.kind.c_str());
    change.target = arguments[2];
    if (change.kind == "process") {
        const std::string& text = change.target;
        char* end = nullptr;
        errno = 0;
        const unsigned long pid = std::strtoul(text.c_str(), &end, 10);
        if (text.empty() || text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || pid == 0 ||
            pid > UINT32_MAX)
            return usage_error("\"%s\" is not a process id", text.c_str());
        change.pid = static_cast<uint32_t>(pid);
    }
    return exit_ok;
}

void change_scope(Manager& manager, const ScopeChange& change) {
    const bool on = change.enable;
    if (change.kind == "global")
        manager.SetGlobal(on);
    else if (change.kind == "unit")
        on ? manager.EnableUnit(change.target) : manager.DisableUnit(change.target);
    else if (change.kind == "container")
        on ? manager.EnableContainer(change.target) : manager.DisableContainer(change.target);
    else
        on ? manager.EnableProcess(change.pid) : manager.DisableProcess(change.pid);
}

// Subscribes, prints every Transaction signal until SIGINT/SIGTERM or until
// dnsvisd leaves the bus, and unsubscribes.
int monitor(sdbus::IConnection& connection, Manager& manager) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) {
        std::fprintf(stderr, "dnsvisctl: cannot watch for signals: %s\n", std::strerror(errno));
        return exit_failure;
    }
    bool daemon_left = false;
    auto watch = connection.addMatch(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
        "arg0='org.dnsvis1'",
        [&daemon_left](sdbus::Message& message) {
            std::string name, old_owner, new_owner;
            message >> name >> old_owner >> new_owner;
            if (new_owner.empty())
                daemon_left = true;
        });
    manager.Subscribe();
    std::fprintf(stderr, "dnsvisctl: monitoring DNS transactions; Ctrl-C stops.\n");
    while (!daemon_left) {
        while (!daemon_left && connection.processPendingRequest()) {
        }
        if (daemon_left)
            break;
        const auto poll_data = connection.getEventLoopPollData();
        pollfd fds[2] = {{poll_data.fd, poll_data.events, 0}, {signal_fd, POLLIN, 0}};
        if (poll(fds, 2, poll_data.getPollTimeout()) < 0 && errno != EINTR) {
            std::fprintf(stderr, "dnsvisctl: poll: %s\n", std::strerror(errno));
            return exit_failure;
        }
        if (fds[1].revents & POLLIN) {
            manager.Unsubscribe();
            return exit_ok;
        }
    }
    std::fprintf(stderr, "dnsvisctl: dnsvisd left the bus\n");
    return exit_failure;
}

int run(const std::vector<std::string>& arguments, const Options& options) {
    const std::string& command = arguments[0];
    auto expect_arguments = [&](size_t count) { return arguments.size() == count; };
    static const char* const commands[] = {"status", "scopes", "stats", "reset", "enable", "disable", "monitor"};
    if (std::find_if(std::begin(commands), std::end(commands), [&](const char* c) { return command == c; }) ==
        std::end(commands))
        return usage_error("unknown command \"%s\"", command.c_str());
    if ((command == "enable" || command == "disable") ? arguments.size() < 2 : !expect_arguments(1))
        return usage_error(command == "enable" || command == "disable" ? "\"%s\" needs a scope and a target"
                                                                       : "\"%s\" takes no arguments",
                           command.c_str());
    ScopeChange change;
    if (command == "enable" || command == "disable")
        if (int code = parse_scope_change(arguments, change); code != exit_ok)
            return code;

    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& error) {
        std::fprintf(stderr, "dnsvisctl: cannot connect to the system bus: %s\n", error.getMessage().c_str());
        return exit_unreachable;
    }
    connection->setMethodCallTimeout(method_timeout_usec);
    Manager manager(*connection, options.json);
    if (command == "status")
        return show_status(manager, options);
    if (command == "scopes")
        return show_scopes(manager, options);
    if (command == "stats")
        return show_stats(manager, options);
    if (command == "reset") {
        manager.ResetScopes();
        return exit_ok;
    }
    if (command == "monitor")
        return monitor(*connection, manager);
    change_scope(manager, change);
    return exit_ok;
}

}  // namespace

}  // namespace dnsvisctl

int main(int argc, char** argv) {
    using namespace dnsvisctl;
    enum { option_version = 0x100, option_json, option_no_pager };
    static const option long_options[] = {
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, option_version},
        {"json", no_argument, nullptr, option_json},
        {"no-pager", no_argument, nullptr, option_no_pager},
        {},
    };
    Options options;
    argv[0] = const_cast<char*>("dnsvisctl");  // getopt's messages name argv[0], the path typed
    int c;
    while ((c = getopt_long(argc, argv, "h", long_options, nullptr)) >= 0) {
        switch (c) {
            case 'h':
                print_help();
                return exit_ok;
            case option_version:
                std::printf("dnsvisctl %s\n", DNSVIS_VERSION);
                return exit_ok;
            case option_json:
                options.json = true;
                break;
            case option_no_pager:
                options.pager = false;
                break;
            default:
                std::fprintf(stderr, "Try 'dnsvisctl --help'.\n");  // after getopt's own message
                return exit_usage;
        }
    }
    if (optind >= argc)
        return usage_error("a command is needed");
    const std::vector<std::string> arguments(argv + optind, argv + argc);
    int code;
    try {
        code = run(arguments, options);
    } catch (const sdbus::Error& error) {
        std::fprintf(stderr, "dnsvisctl: %s\n",
                     error.getMessage().empty() ? error.getName().c_str() : error.getMessage().c_str());
        code = exit_code_for(error);
    }
    close_pager();
    return code;
}
