// Loads the kernel programs, attaches them to the cgroup2 root and reads the
// ring buffer. Everything libbpf-specific lives here (the ring-buffer probe
// main.cpp asks included).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/load_plans.hpp"
#include "dnsvis_event.h"

struct dnsvis_bpf;
struct ring_buffer;

namespace dnsvis {

// What to capture. The defaults live in Config alone; capture_options()
// copies them, so a test driver gets the daemon's own.
struct CaptureOptions {
    std::vector<uint16_t> ports;
    bool server_side = false;
    uint32_t snap_length = 0;
    // Rounded up to a power of two pages. Resident twice over (libbpf maps
    // the data area twice for wrap-around). See Config::ring_buffer_bytes.
    uint32_t ring_bytes = 0;
    bool global_enabled = false;
    // CAP_PERFMON (or CAP_SYS_ADMIN): the programs may read kernel memory
    // (the leader's name, the exec records, the sending task; with BTF,
    // tried first and dropped if the kernel refuses) and read headers
    // straight from the packet at a variable offset (else they copy them).
    bool read_kernel_memory = false;
};

CaptureOptions capture_options(const Config& config, bool read_kernel_memory);

using KernelCounters = std::array<uint64_t, DNSVIS_COUNTER_MAX>;

// What the kernel's scope maps should hold (see dnsvis_event.h).
struct KernelScopes {
    std::unordered_map<uint64_t, dnsvis_scope_verdict> cgroups;  // cgroup id -> verdict
    std::unordered_map<uint32_t, uint32_t> processes;             // tgid -> DNSVIS_SCOPE_*
};

class BpfCapture {
public:
    using RecordHandler = std::function<void(std::span<const uint8_t> record)>;

    // Loads and attaches. On failure returns nullptr and sets `error` to one
    // sentence for the operator.
    static std::unique_ptr<BpfCapture> attach(const CaptureOptions& options, const std::string& cgroup_root,
                                              RecordHandler handler, std::string& error);
    ~BpfCapture();  // detaches every program
    BpfCapture(const BpfCapture&) = delete;
    BpfCapture& operator=(const BpfCapture&) = delete;

    // The fd to poll for ring-buffer wake-ups.
    int ring_fd() const;
    // Hands waiting records to the handler, at most max_records_per_drain;
    // returns how many. libbpf's consume loop runs for as long as the ring
    // is not empty, so under a flood that outpaces the handler an unbounded
    // drain would never return, and signals, bus calls, timeouts and the
    // summary would wait with it.
    static constexpr int max_records_per_drain = 16384;
    int drain();
    KernelCounters read_counters() const;
    // Takes effect with the programs' next run; a store that cannot fail.
    void set_global(bool enabled);
    // Makes the scope maps hold exactly `scopes`, writing only what changed.
    // On failure (errno set) the maps hold part of it; a later call retries.
    bool set_scopes(const KernelScopes& scopes);
    // Asks the kernel to wake user space on the next event (before going idle).
    void set_wake_on_next(bool wake);
    // Detaches every program; the ring buffer stays readable for a last drain.
    void detach();

    // Whether the exec and fork programs run: without them last_exec()
    // finds nothing.
    bool follows_execs() const { return follows_execs_; }
    // The kinds of kernel hook the attached programs use, joined by "+"
    // (the bus's ProbeMode): cgroup_skb and sock_addr always, raw_tp when
    // the exec and fork programs run.
    std::string probe_mode() const;
    // What the kernel recorded at process `pid`'s last exec, if it still
    // holds a record (the most recent DNSVIS_MAX_EXECS processes).
    bool last_exec(uint32_t pid, dnsvis_exec_record& record) const;
    // Records what process `pid`, started before the exec program was
    // attached, runs; a record the kernel wrote since is kept.
    void seed_exec(uint32_t pid, const dnsvis_exec_record& record);

private:
    BpfCapture() = default;
    // Tries the load plans, richest first (load_plans.hpp), and keeps the
    // first the kernel accepts; false, with `error` set, when none is.
    bool load_first_accepted_plan(const CaptureOptions& options, std::string& error);
    int open_and_load(const CaptureOptions& options, const LoadPlan& plan);
    // bpf_link attachments of the cgroup programs to the cgroup2 root.
    bool attach_cgroup_programs(const std::string& cgroup_root, std::string& error);
    bool attach_exec_programs();
    static int on_record(void* self, void* data, size_t size);

    dnsvis_bpf* skeleton_ = nullptr;
    ring_buffer* ring_ = nullptr;
    int cgroup_fd_ = -1;
    RecordHandler handler_;
    int drained_ = 0;  // records handed over by the drain in progress
    // The settings map's one entry, mapped into memory: the programs read
    // what is stored here on their next run, no system call between.
    dnsvis_settings* settings_ = nullptr;
    size_t settings_mapped_bytes_ = 0;
    bool follows_execs_ = false;
    bool plain_ = false;  // the plain programs run (see bpf/dnsvis.bpf.c)
    // Whether the programs may call bpf_get_current_comm(); without, user
    // space reads the name from /proc.
    struct {
        bool in_skb = true;
        bool in_sock_addr = true;
    } comm_helpers_;
    KernelScopes scopes_;  // what the scope maps hold

    bool map_settings();
    void store_setting(uint32_t dnsvis_settings::*field, uint32_t value);
};

// Routes libbpf's messages through the daemon's log.
void install_libbpf_logger();

// Whether the kernel has BPF ring buffers (Linux 5.8), which dnsvisd needs:
// asked before anything is loaded, for one clear message.
bool kernel_has_ring_buffer();

}  // namespace dnsvis
