// dnsvisd: command line, configuration and the checks that turn a missing
// privilege or kernel feature into one clear sentence.
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "bpf_capture.hpp"
#include "capabilities.hpp"
#include "cgroup_path.hpp"
#include "config.hpp"
#include "daemon.hpp"
#include "dnsvis_build_config.h"
#include "journal_sink.hpp"
#include "json_sink.hpp"
#include "log.hpp"
#include "text_file.hpp"

namespace {

using namespace dnsvis;

enum class Output { journal, json };

struct Arguments {
    Output output = Output::journal;
    std::string config_file = std::string(DNSVIS_SYSCONFDIR) + "/dnsvis/dnsvis.conf";
    bool config_given = false;
    std::string state_dir;  // --state-dir=
    bool bus = true;        // --no-bus
    LogLevel log_level = LogLevel::info;
};

void print_help() {
    std::printf(
        "Usage: dnsvisd [OPTIONS]\n"
        "\n"
        "Reports every DNS transaction on this host, with the process, unit and\n"
        "server behind it, as structured journal entries.\n"
        "\n"
        "  -h --help               Show this help and exit\n"
        "     --version            Show the version and exit\n"
        "     --output=journal|json\n"
        "                          Write one journal entry per transaction (default),\n"
        "                          or one JSON object per line on stdout\n"
        "     --config=FILE        Configuration file (default: %s/dnsvis/dnsvis.conf);\n"
        "                          drop-ins are read from FILE.d/*.conf\n"
        "     --log-level=LEVEL    err (or error), warning, notice, info (default) or debug\n"
        "     --no-bus             Do not offer org.dnsvis1 on the system bus\n"
        "     --state-dir=DIR      Where visibility scopes are kept (scopes.json) when\n"
        "                          $STATE_DIRECTORY is not set (default: %s/lib/dnsvis)\n"
        "\n"
        "See dnsvisd(8) and dnsvis.conf(5).\n",
        DNSVIS_SYSCONFDIR, DNSVIS_LOCALSTATEDIR);
}

bool parse_log_level(const char* text, LogLevel& level) {
    static const struct {
        const char* name;
        LogLevel level;
    } levels[] = {{"err", LogLevel::error},    {"error", LogLevel::error}, {"warning", LogLevel::warning},
                  {"notice", LogLevel::notice}, {"info", LogLevel::info},   {"debug", LogLevel::debug}};
    for (const auto& entry : levels)
        if (std::strcmp(text, entry.name) == 0) {
            level = entry.level;
            return true;
        }
    return false;
}

// Returns -1 to continue, otherwise the exit code.
int parse_arguments(int argc, char** argv, Arguments& arguments) {
    enum { option_version = 0x100, option_output, option_config, option_log_level, option_state_dir, option_no_bus };
    static const option options[] = {
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, option_version},
        {"output", required_argument, nullptr, option_output},
        {"config", required_argument, nullptr, option_config},
        {"log-level", required_argument, nullptr, option_log_level},
        {"state-dir", required_argument, nullptr, option_state_dir},
        {"no-bus", no_argument, nullptr, option_no_bus},
        {},
    };
    // getopt names the program by argv[0] in its messages, which is the
    // path typed; every other message begins "dnsvisd:".
    argv[0] = const_cast<char*>("dnsvisd");
    int c;
    while ((c = getopt_long(argc, argv, "h", options, nullptr)) >= 0) {
        switch (c) {
        case 'h':
            print_help();
            return 0;
        case option_version:
            std::printf("dnsvisd %s\n", DNSVIS_VERSION);
            return 0;
        case option_output:
            if (std::strcmp(optarg, "journal") == 0)
                arguments.output = Output::journal;
            else if (std::strcmp(optarg, "json") == 0)
                arguments.output = Output::json;
            else {
                std::fprintf(stderr, "dnsvisd: unknown output \"%s\": use journal or json\n", optarg);
                return 2;
            }
            break;
        case option_config:
            if (optarg[0] == '\0') {
                std::fprintf(stderr, "dnsvisd: --config needs a file name\n");
                return 2;
            }
            arguments.config_file = optarg;
            arguments.config_given = true;
            break;
        case option_log_level:
            if (!parse_log_level(optarg, arguments.log_level)) {
                std::fprintf(stderr, "dnsvisd: unknown log level \"%s\": use err, warning, notice, info or debug\n",
                             optarg);
                return 2;
            }
            break;
        case option_no_bus:
            arguments.bus = false;
            break;
        case option_state_dir:
            if (optarg[0] == '\0') {
                std::fprintf(stderr, "dnsvisd: --state-dir needs a directory\n");
                return 2;
            }
            arguments.state_dir = optarg;
            break;
        default:
            std::fprintf(stderr, "Try 'dnsvisd --help'.\n");  // after getopt's own message
            return 2;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "dnsvisd: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return 2;
    }
    return -1;
}

// systemd's StateDirectory= sets $STATE_DIRECTORY (a ':'-separated list
// when it names several; ours is the first), then --state-dir=, then the
// build's default.
std::string state_directory(const Arguments& arguments) {
    if (const char* from_systemd = std::getenv("STATE_DIRECTORY"); from_systemd && *from_systemd) {
        std::string first(from_systemd);
        return first.substr(0, first.find(':'));
    }
    if (!arguments.state_dir.empty())
        return arguments.state_dir;
    return std::string(DNSVIS_LOCALSTATEDIR) + "/lib/dnsvis";
}

}  // namespace

int main(int argc, char** argv) {
    Arguments arguments;
    if (int code = parse_arguments(argc, argv, arguments); code >= 0)
        return code;
    log_set_max_level(arguments.log_level);
    install_libbpf_logger();

    if (arguments.config_given) {
        // Given by name, it must be there for dnsvisd to read (/dev/null
        // does: no settings); only the default one may be missing.
        struct stat st;
        const char* problem = nullptr;
        if (stat(arguments.config_file.c_str(), &st) < 0 || access(arguments.config_file.c_str(), R_OK) < 0)
            problem = std::strerror(errno);
        else if (S_ISDIR(st.st_mode))
            problem = "it is a directory (drop-ins go in FILE.d/)";
        if (problem) {
            log_error("Cannot read the configuration file %s: %s", arguments.config_file.c_str(), problem);
            return 1;
        }
    }
    std::vector<ConfigDiagnostic> diagnostics;
    Config config = load_config(arguments.config_file, arguments.config_file + ".d", diagnostics);
    for (const ConfigDiagnostic& diagnostic : diagnostics)
        log_warning("%s", diagnostic.to_string().c_str());

    auto cgroup_root = find_cgroup2_mount(read_text_file("/proc/self/mountinfo"));
    if (!cgroup_root) {
        log_error("No cgroup2 file system is mounted (none in /proc/self/mountinfo); dnsvisd attaches to the "
                  "cgroup2 root. Mount one with: mount -t cgroup2 none /sys/fs/cgroup");
        return 1;
    }

    if (std::string missing = missing_capabilities_for_capture(); !missing.empty()) {
        log_error("Missing privilege: dnsvisd needs %s to load and attach its BPF programs (run it as root or "
                  "as dnsvis.service)",
                  missing.c_str());
        return 1;
    }

    if (!kernel_has_ring_buffer()) {
        utsname name{};
        uname(&name);
        log_error("This kernel (%s) has no BPF ring buffer; dnsvisd needs Linux 5.8 or later", name.release);
        return 1;
    }

    // A closed output is an error to handle (the sink stops the daemon with
    // its summary written), not a signal that kills it halfway: systemd
    // ignores SIGPIPE for services, and a shell's pipeline now gets the same.
    signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<Sink> sink;
    if (arguments.output == Output::json)
        sink = std::make_unique<JsonSink>(STDOUT_FILENO);
    else
        sink = std::make_unique<JournalSink>();

    Daemon daemon(std::move(config), std::move(sink), *cgroup_root, state_directory(arguments));
    daemon.set_bus_enabled(arguments.bus);
    return daemon.run();
}
