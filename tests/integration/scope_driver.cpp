// Drives the daemon's ScopeManager against the real kernel without the
// bus, for test_scope_manager.py: attaches the BPF programs like dnsvisd,
// then reads one command per line on stdin and answers with one JSON line
// on stdout.
//
//   global on|off          unit NAME on|off       container ID|NAME on|off
//   process PID on|off     reset                  list
//   counters               (captured and filtered packets so far)
#include <bpf/libbpf.h>
#include <signal.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bpf_capture.hpp"
#include "cgroup_path.hpp"
#include "container_registry.hpp"
#include "kernel_scope_manager.hpp"
#include "text_file.hpp"

using namespace dnsvis;
using nlohmann::json;

namespace {

const char* error_name(ScopeError error) {
    switch (error) {
        case ScopeError::none:
            return "none";
        case ScopeError::invalid_argument:
            return "invalid_argument";
        case ScopeError::no_such_container:
            return "no_such_container";
        case ScopeError::ambiguous_container:
            return "ambiguous_container";
        case ScopeError::no_such_process:
            return "no_such_process";
        case ScopeError::limits_exceeded:
            return "limits_exceeded";
        case ScopeError::failed:
            return "failed";
    }
    return "?";
}

void reply(const json& answer) {
    std::cout << answer.dump() << std::endl;
}

void reply(const ScopeResult& result) {
    reply(json{{"ok", bool(result)}, {"error", error_name(result.error)}, {"message", result.message}});
}

struct Driver {
    std::unique_ptr<BpfCapture> capture;
    std::unique_ptr<ContainerRegistry> containers;
    std::unique_ptr<KernelScopeManager> scopes;
    std::string pending;  // stdin not yet a whole line
    sd_event* event = nullptr;

    void command(const std::string& line) {
        std::istringstream words(line);
        std::string verb, target, state;
        words >> verb;
        // A target may be empty: `unit "" on` is spelled "unit  on".
        const size_t last_space = line.rfind(' ');
        state = last_space == std::string::npos ? "" : line.substr(last_space + 1);
        if (line.size() > verb.size() + 1 && last_space > verb.size())
            target = line.substr(verb.size() + 1, last_space - verb.size() - 1);
        const bool on = state == "on";
        if (verb == "global")
            reply(scopes->set_global(state == "on"));
        else if (verb == "unit")
            reply(scopes->set_unit(target, on));
        else if (verb == "container")
            scopes->set_container_async(target, on, [](ScopeResult result) { reply(result); });
        else if (verb == "process")
            reply(scopes->set_process(static_cast<uint32_t>(std::stoul(target)), on));
        else if (verb == "reset")
            reply(scopes->reset());
        else if (verb == "list") {
            json entries = json::array();
            for (const ScopeEntry& entry : scopes->list())
                entries.push_back({std::string(scope_kind_name(entry.kind)), entry.target, entry.enabled});
            reply(json{{"ok", true}, {"global", scopes->global()}, {"scopes", entries}});
        } else if (verb == "counters") {
            capture->drain();
            const KernelCounters counters = capture->read_counters();
            reply(json{{"ok", true},
                       {"captured", counters[DNSVIS_COUNTER_CAPTURED]},
                       {"filtered", counters[DNSVIS_COUNTER_FILTERED]}});
        } else
            reply(json{{"ok", false}, {"error", "unknown command"}, {"message", line}});
    }

    static int on_stdin(sd_event_source*, int fd, uint32_t, void* userdata) {
        auto* self = static_cast<Driver*>(userdata);
        char buffer[4096];
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0)
            return sd_event_exit(self->event, 0);
        self->pending.append(buffer, static_cast<size_t>(n));
        size_t newline;
        while ((newline = self->pending.find('\n')) != std::string::npos) {
            std::string line = self->pending.substr(0, newline);
            self->pending.erase(0, newline + 1);
            self->command(line);
        }
        return 0;
    }

    static int on_ring(sd_event_source*, int, uint32_t, void* userdata) {
        static_cast<Driver*>(userdata)->capture->drain();
        return 0;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::fprintf(stderr, "usage: %s STATE_DIR DEFAULT_GLOBAL(yes|no) [DOCKER_SOCKET]\n", argv[0]);
        return 2;
    }
    const std::string state_dir = argv[1];
    const bool default_global = std::strcmp(argv[2], "yes") == 0;
    auto root = find_cgroup2_mount(read_text_file("/proc/self/mountinfo"));
    if (!root) {
        std::fprintf(stderr, "no cgroup2 mount\n");
        return 1;
    }

    Driver driver;
    CaptureOptions options = capture_options(Config{}, true);
    options.global_enabled = default_global;
    std::string error;
    // The records themselves do not matter here, only the counters.
    driver.capture = BpfCapture::attach(
        options, *root, [](std::span<const uint8_t>) {}, error);
    if (!driver.capture) {
        std::fprintf(stderr, "attach: %s\n", error.c_str());
        return 1;
    }
    driver.capture->set_wake_on_next(true);
    sd_event_default(&driver.event);
    sd_event_add_io(driver.event, nullptr, driver.capture->ring_fd(), EPOLLIN, Driver::on_ring, &driver);
    sd_event_add_io(driver.event, nullptr, STDIN_FILENO, EPOLLIN, Driver::on_stdin, &driver);
    // No runtime socket unless one is given: the host's are not the test's.
    driver.containers = std::make_unique<ContainerRegistry>(
        driver.event, ContainerSockets{.docker = argc == 4 ? argv[3] : "", .podman = "", .containerd = "", .crio = ""});
    driver.scopes =
        std::make_unique<KernelScopeManager>(driver.event, *driver.capture, driver.containers.get(),
                                             ScopeManagerSettings{*root, state_dir + "/scopes.json", default_global});
    reply(json{{"ok", true}, {"ready", true}});
    const int r = sd_event_loop(driver.event);
    driver.scopes.reset();
    driver.containers.reset();
    driver.capture.reset();
    sd_event_unref(driver.event);
    return r < 0 ? 1 : 0;
}
