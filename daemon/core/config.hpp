// dnsvis.conf: an INI file with drop-ins (systemd style). A later file or a
// later line overrides an earlier one. Unknown keys and bad values are
// reported as diagnostics and ignored, so a broken line never stops the
// daemon from starting with sane settings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvis {

struct Config {
    std::vector<uint16_t> ports{53};       // [Capture] Ports=53 5353
    bool server_side = false;               // [Capture] ServerSide=yes
    uint32_t snap_length = 4096;            // [Capture] SnapLength=  (bytes of DNS payload kept, 512..8192)
    // [Capture] RingBufferSize=4M (64K..256M, rounded up to a power of two
    // by the loader): about 150 ms of records at loopback saturation on a
    // fast 2-core VM. Smaller rings (256K, 512K, 1M) did not raise the qps
    // a saturated host kept (tests/bench, 2026-12-06), and 256K overflowed.
    uint32_t ring_buffer_bytes = 4 * 1024 * 1024;
    uint64_t timeout_usec = 5'000'000;      // [Transactions] Timeout=5s
    uint32_t max_transactions = 65536;      // [Transactions] MaxPending=
    bool global_visibility = true;          // [Visibility] Global=yes
    uint64_t summary_interval_usec = 60'000'000;  // [Output] SummaryInterval=60s
    // [Containers]: where to ask runtimes about containers ("no" disables one),
    // and how long a transaction may wait for that answer before it is written.
    std::string docker_socket = "/var/run/docker.sock";   // DockerSocket=
    std::string podman_socket = "/run/podman/podman.sock";  // PodmanSocket=
    std::string containerd_socket = "/run/containerd/containerd.sock";  // ContainerdSocket= (gRPC)
    std::string crio_socket = "/var/run/crio/crio.sock";                // CrioSocket=
    uint64_t metadata_wait_usec = 250'000;                // MetadataWait=250ms

    bool operator==(const Config&) const = default;
};

struct ConfigDiagnostic {
    std::string file;
    unsigned line = 0;  // 0: the file as a whole
    std::string message;
    std::string to_string() const;  // "file:line: message"
};

// Applies the text of one INI file on top of `config`.
void apply_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<ConfigDiagnostic>& diagnostics);

// Loads `main_file` (a missing file is fine: defaults apply) and then every
// "*.conf" in `dropin_dir`, sorted by file name.
Config load_config(const std::string& main_file, const std::string& dropin_dir,
                   std::vector<ConfigDiagnostic>& diagnostics);

// "5s", "500ms", "2min", "1.5s", plain numbers are seconds. False on error.
bool parse_timespan_usec(std::string_view text, uint64_t& usec);
// "4096", "512K", "1M", "1G": bytes, the suffixes powers of 1024 as in
// systemd. False on error.
bool parse_size_bytes(std::string_view text, uint64_t& bytes);
// As systemd: yes/no, y/n, true/false, t/f, on/off, 1/0, any case. False on error.
bool parse_boolean(std::string_view text, bool& value);

}  // namespace dnsvis
