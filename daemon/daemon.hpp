// dnsvisd's event loop: one sd-event loop serves the ring buffer, the
// timers and the signals, so nothing needs a lock.
//
// Data path: ring-buffer record -> PacketEvent -> (TCP reassembly) -> DNS
// parser -> transaction table -> attribution -> sink.
#pragma once

#include <systemd/sd-event.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "bpf_capture.hpp"
#include "cgroup_resolver.hpp"
#include "config.hpp"
#include "container_registry.hpp"
#include "dns_message.hpp"
#include "drain_pacer.hpp"
#include "process_cache.hpp"
#include "kernel_scope_manager.hpp"
#include "metadata_wait_queue.hpp"
#include "transaction_fields.hpp"
#include "sink.hpp"
#include "statistics.hpp"
#include "tcp_reassembly.hpp"
#include "transaction_table.hpp"

namespace dnsvis {

class BusService;

class Daemon {
public:
    // Scope rules are kept in `state_dir` (scopes.json).
    Daemon(Config config, std::unique_ptr<Sink> sink, std::string cgroup_root, std::string state_dir);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Attaches, runs until SIGTERM/SIGINT, or until the output's reader
    // closes it (exit_output_gone), detaches. Returns the exit code.
    static constexpr int exit_output_gone = 3;
    int run();

    // Without the bus (--no-bus) the daemon takes no name on the system bus.
    void set_bus_enabled(bool enabled) { bus_enabled_ = enabled; }

private:
    bool setup_event_loop();
    void on_record(std::span<const uint8_t> record);
    // Returns whether the message was taken; a partial one that stops
    // before its question matches nothing and is left to be counted lost.
    bool handle_dns(const MessageContext& context, std::span<const uint8_t> wire, MessageTail tail);
    void remember_owner(const SocketOwner& owner, uint64_t seen_ns);
    void report(Transaction&& transaction);
    const CgroupContainer& container_of(uint64_t cgroup_id, const std::string& cgroup_path);
    CgroupContainer container_at(const std::string& cgroup_path) const;
    void forget_cgroup(uint64_t cgroup_id, const std::string& cgroup_path);
    void prefetch_container(uint64_t cgroup_id, const std::string& cgroup_path);
    void write_entry(const Transaction& transaction, const Attribution& attribution, std::string_view parse_error);
    void release_held(const std::string& container_id);
    void release_expired(uint64_t now_ns);
    void drain();
    void stop_if_output_gone();
    void arm_tick(bool busy);
    Statistics statistics() const;
    void write_summary();
    void start_bus();
    void shutdown();

    static int on_ring_ready(sd_event_source* source, int fd, uint32_t revents, void* userdata);
    static int on_tick(sd_event_source* source, uint64_t usec, void* userdata);
    static int on_summary(sd_event_source* source, uint64_t usec, void* userdata);
    static int on_signal(sd_event_source* source, const struct signalfd_siginfo* info, void* userdata);

    Config config_;
    std::unique_ptr<Sink> sink_;
    std::string cgroup_root_;
    std::unique_ptr<BpfCapture> capture_;
    TcpReassembler reassembler_;
    TransactionTable table_;
    ProcessCache processes_;
    CgroupResolver cgroups_;
    std::unique_ptr<ContainerRegistry> containers_;  // needs the event loop
    std::string state_dir_;
    std::unique_ptr<KernelScopeManager> scopes_;  // needs the capture and the event loop
    std::unordered_map<uint64_t, CgroupContainer> container_by_cgroup_;

    MetadataWaitQueue held_;

    // Where the transaction table hands its finished transactions.
    const TransactionTable::Sink report_ = [this](Transaction&& transaction) { report(std::move(transaction)); };
    // Where the TCP reassembler hands over each complete message.
    const TcpReassembler::MessageSink tcp_message_ = [this](const MessageContext& seen,
                                                            std::span<const uint8_t> message, MessageTail tail) {
        return handle_dns(seen, message, tail);
    };

    // Reused per event to avoid allocations on the hot path.
    DnsMessage message_;
    MessageContext context_;
    Attribution attribution_;
    bool units_known_ = false;  // attribution_.units belong to attribution_.cgroup_path
    EntryFormatter formatter_;
    FieldList bus_fields_;  // the entry again, for the bus's subscribers
    std::string_view parse_error_;
    std::string parse_error_text_;

    Statistics counted_;  // the counters kept in user space
    uint64_t unfinished_ = 0;
    unsigned idle_ticks_ = 0;
    DrainPacer pacer_;  // how soon the next drain comes while events flow
    uint64_t now_ns_ = 0;  // CLOCK_MONOTONIC at the start of the current batch
    bool idle_ = true;
    // Just gone idle: one more drain follows shortly, for an event whose
    // program read "do not wake" before the switch and submitted after the
    // drain that went with it. Without it, that event would wait for the
    // next one, however long the host stays quiet.
    bool recheck_after_idle_ = false;

    bool bus_enabled_ = true;
    std::unique_ptr<BusService> bus_;  // org.dnsvis1; null without a system bus

    sd_event* event_ = nullptr;
    sd_event_source* ring_source_ = nullptr;
    sd_event_source* tick_source_ = nullptr;
    sd_event_source* summary_source_ = nullptr;
    sd_event_source* sigterm_source_ = nullptr;
    sd_event_source* sigint_source_ = nullptr;
    sd_event_source* sighup_source_ = nullptr;
};

}  // namespace dnsvis
