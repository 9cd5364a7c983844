// libFuzzer target for the configuration parser: dnsvis.conf and its
// drop-ins are the operator's input, and a broken line must never stop
// dnsvisd or slip a value past its range.
//
// Besides "no crash, no sanitizer report", it aborts when a setting ends up
// outside the range dnsvis.conf(5) gives for it, when a diagnostic names no
// line of the text, or when applying the same text again changes anything
// (a later line overrides an earlier one, so a file is idempotent).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "dnsvis_event.h"
#include "fuzz_require.hpp"

using namespace dnsvis;
using dnsvis::fuzz::require;

namespace {

constexpr uint64_t kMsec = 1000;
constexpr uint64_t kSec = 1000 * kMsec;

void check_ranges(const Config& c) {
    require(!c.ports.empty() && c.ports.size() <= DNSVIS_MAX_PORTS);
    for (size_t i = 0; i < c.ports.size(); ++i) {
        require(c.ports[i] != 0);
        require(std::count(c.ports.begin(), c.ports.end(), c.ports[i]) == 1);
    }
    require(c.snap_length >= 512 && c.snap_length <= DNSVIS_MAX_CAPTURE);
    require(c.ring_buffer_bytes >= (64u << 10) && c.ring_buffer_bytes <= (256u << 20));
    require(c.timeout_usec >= 100 * kMsec && c.timeout_usec <= 3600 * kSec);
    require(c.max_transactions >= 16 && c.max_transactions <= 1048576);
    require(c.summary_interval_usec >= kSec && c.summary_interval_usec <= 86400 * kSec);
    require(c.metadata_wait_usec <= 5 * kSec);
    for (const std::string* socket : {&c.docker_socket, &c.podman_socket, &c.containerd_socket, &c.crio_socket})
        require(socket->empty() || socket->front() == '/');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;

    Config config;
    std::vector<ConfigDiagnostic> diagnostics;
    apply_config_text(text, "fuzz.conf", config, diagnostics);
    check_ranges(config);
    for (const ConfigDiagnostic& d : diagnostics) {
        require(d.file == "fuzz.conf");
        require(d.line >= 1 && d.line <= lines);
        require(!d.message.empty());
    }

    Config again = config;
    std::vector<ConfigDiagnostic> again_diagnostics;
    apply_config_text(text, "fuzz.conf", again, again_diagnostics);
    require((again == config));
    require(again_diagnostics.size() == diagnostics.size());
    return 0;
}
