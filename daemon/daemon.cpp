#include "daemon.hpp"

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "bus_service.hpp"
#include "capabilities.hpp"
#include "cgroup_ownership.hpp"
#include "cgroup_path.hpp"
#include "container_cgroup.hpp"
#include "dns_parser.hpp"
#include "exited_process_exe.hpp"
#include "log.hpp"
#include "monotonic_clock.hpp"

namespace dnsvis {

namespace {

// While events flow, the ring is drained at the pace of a DrainPacer; the
// kernel wakes us early only for a large backlog. Held entries (waiting for
// container metadata) are looked at at least this often.
constexpr uint64_t held_tick_usec = 100'000;
// Timers fire within this of their time. sd-event's default, 250 ms, would
// turn a 1 ms pace into a quarter second of backlog.
constexpr uint64_t tick_accuracy_usec = 100;
// With queries pending but no traffic, timeouts are checked this often.
constexpr uint64_t idle_tick_usec = 1'000'000;
// Ticks without a single event before going idle.
constexpr unsigned ticks_before_idle = 10;
// The drain after going idle: far longer than a program run takes from
// reading the wake-up switch to submitting its record.
constexpr uint64_t idle_recheck_usec = 20'000;
// Summaries come this close to each interval's end (sd-event's default
// would let each be up to 250 ms late).
constexpr uint64_t summary_accuracy_usec = 1'000;

// An answer held behind a TCP gap should be delivered before its query times
// out, or it is reported as a timeout and an unmatched response: with a
// short Timeout= the reorder window shrinks to half of it (see arm_tick for
// how late past the window a gap is given up).
TcpReassemblyLimits tcp_limits(const Config& config) {
    TcpReassemblyLimits limits;
    limits.reorder_window_ns = std::min(limits.reorder_window_ns, config.timeout_usec * 1000 / 2);
    return limits;
}

// DNS_PARSE_ERROR for a message of which only the first `captured` bytes
// were seen, and why.
std::string incomplete_message_text(MessageTail tail, size_t captured) {
    const std::string bytes = std::to_string(captured);
    switch (tail) {
    case MessageTail::cut:
        return "capture cut at " + bytes + " bytes (SnapLength=)";
    case MessageTail::lost:
        return "only the first " + bytes + " bytes captured: a TCP segment was lost (DNSVIS_LOST_TCP)";
    case MessageTail::ended:
        return "the TCP connection ended " + bytes + " bytes into the message";
    case MessageTail::whole:
        break;
    }
    return {};
}

}  // namespace

Daemon::Daemon(Config config, std::unique_ptr<Sink> sink, std::string cgroup_root, std::string state_dir)
    : config_(std::move(config)),
      sink_(std::move(sink)),
      cgroup_root_(std::move(cgroup_root)),
      reassembler_(tcp_limits(config_)),
      table_(TransactionTableLimits{config_.max_transactions, config_.timeout_usec * 1000}),
      cgroups_(cgroup_root_),
      state_dir_(std::move(state_dir)) {}

Daemon::~Daemon() {
    bus_.reset();  // its event sources belong to event_
    for (sd_event_source* source : {ring_source_, tick_source_, summary_source_, sigterm_source_, sigint_source_,
                                   sighup_source_})
        sd_event_source_disable_unref(source);
    sd_event_unref(event_);
}

void Daemon::on_record(std::span<const uint8_t> record) {
    PacketEvent event;
    if (decode_packet_event(record, event) != DecodeStatus::ok) {
        ++counted_.lost_by(LossCause::malformed);
        return;
    }
    // A member, so the owner's comm keeps its buffer from event to event.
    MessageContext& context = context_;
    context.timestamp_ns = event.timestamp_ns;
    context.socket_cookie = event.socket_cookie;
    context.direction = event.direction;
    context.transport = event.transport;
    context.source = event.source;
    context.destination = event.destination;
    context.owner.pid = event.pid;
    context.owner.tid = event.tid;
    context.owner.uid = event.uid;
    context.owner.comm.assign(event.comm);
    context.owner.cgroup_id = event.cgroup_id;

    if (event.transport == Transport::tcp) {
        reassembler_.feed(context, event.tcp_seq, event.tcp_flags, event.payload_len, event.payload, tcp_message_);
    } else {
        handle_dns(context, event.payload, event.cut() ? MessageTail::cut : MessageTail::whole);
    }
}

bool Daemon::handle_dns(const MessageContext& context, std::span<const uint8_t> wire, MessageTail tail) {
    // Only what the entry reports is rendered: the answers' data, not
    // owner names or the authority and additional sections.
    const DnsParseStatus status = parse_dns_message(wire, message_, DnsParseDepth::reported);
    if (status == DnsParseStatus::too_short) {
        // An empty UDP datagram, which the kernel records with no payload,
        // is counted here too.
        ++counted_.lost_by(LossCause::malformed);
        return false;
    }
    // The question is half the transaction's key: without it, a partial
    // answer would be reported as unmatched and its query as a timeout,
    // and a partial query would wait for an answer that cannot match. A cut
    // UDP datagram has at least SnapLength= bytes, question included.
    if (tail != MessageTail::whole && context.transport == Transport::tcp && message_.questions.empty())
        return false;
    parse_error_ = {};
    if (status != DnsParseStatus::ok) {
        ++counted_.parse_errors;
        if (tail == MessageTail::whole) {
            parse_error_ = to_string(status);
        } else {
            parse_error_text_ = incomplete_message_text(tail, wire.size());
            parse_error_ = parse_error_text_;
        }
    }
    if (message_.is_response()) {
        table_.on_response(context, message_, report_);
    } else {
        remember_owner(context.owner, context.timestamp_ns);
        table_.on_query(context, message_);
    }
    parse_error_ = {};
    return true;
}

// Short-lived clients (dig, getent, a oneshot unit) may be gone, with their
// cgroup, by the time the answer comes; their exe and cgroup path are read
// while the query is fresh and cached for the report.
void Daemon::remember_owner(const SocketOwner& owner, uint64_t seen_ns) {
    if (owner.pid == 0)
        return;
    processes_.lookup(owner.pid, owner.comm, seen_ns);
    const std::string& path = cgroups_.path(owner.cgroup_id, owner.pid, now_ns_);
    // Ask the runtime while the query is in flight, so the answer is
    // usually there by the time the response is.
    if (containers_ && !path.empty())
        containers_->request(container_of(owner.cgroup_id, path), now_ns_, nullptr);
}

const CgroupContainer& Daemon::container_of(uint64_t cgroup_id, const std::string& cgroup_path) {
    auto it = container_by_cgroup_.find(cgroup_id);
    if (it != container_by_cgroup_.end())
        return it->second;
    if (container_by_cgroup_.size() >= 16384)
        container_by_cgroup_.clear();  // bounded; refilled from cached paths
    return container_by_cgroup_.emplace(cgroup_id, container_at(cgroup_path)).first->second;
}

// What the path names, made by a user when its name or the owners of the
// directories above it say so.
CgroupContainer Daemon::container_at(const std::string& cgroup_path) const {
    CgroupContainer container = container_from_cgroup_path(cgroup_path);
    if (!container.id.empty() && !container.made_by_user)
        container.made_by_user = cgroup_made_by_user(cgroup_root_, cgroup_path);
    return container;
}

// The cgroup is gone and no transaction from it can still be waiting: what
// was kept about it goes. Its container has exited when this was the
// container's own cgroup, so the runtime's answer about it goes too.
void Daemon::forget_cgroup(uint64_t cgroup_id, const std::string& cgroup_path) {
    // A user's cgroup named after a container says nothing of the
    // container. Its directory is gone: what its parents' owners told is in
    // the cache, or is asked of them now.
    std::optional<CgroupContainer> known;
    if (auto it = container_by_cgroup_.find(cgroup_id); it != container_by_cgroup_.end()) {
        known = std::move(it->second);
        container_by_cgroup_.erase(it);
    }
    if (containers_ && is_container_root_cgroup(cgroup_path)) {
        const CgroupContainer container = known ? std::move(*known) : container_at(cgroup_path);
        if (!container.made_by_user)
            containers_->forget(container);
    }
}

// A container's cgroup was just made: ask its runtime now, while the
// container surely exists. One that queries and exits at once (and is
// removed, `docker run --rm`) would be gone by the time its query is
// handled, which may be a tick (100 ms) later.
void Daemon::prefetch_container(uint64_t cgroup_id, const std::string& cgroup_path) {
    if (containers_ && is_container_root_cgroup(cgroup_path))
        containers_->request(container_of(cgroup_id, cgroup_path), monotonic_ns(), nullptr);
}

void Daemon::report(Transaction&& transaction) {
    // Reused from report to report: assigning keeps the buffers, so a
    // steady stream of transactions does not allocate here.
    Attribution& attribution = attribution_;
    SocketOwner& owner = transaction.owner;
    attribution.exe.clear();
    if (owner.pid != 0) {
        // Mostly found as remember_owner() left it; otherwise (an unmatched
        // response) the packet the report is about is when the owner was seen.
        const uint64_t seen_ns = transaction.query_ns.value_or(transaction.response_ns.value_or(now_ns_));
        const ProcessInfo& process = processes_.lookup(owner.pid, owner.comm, seen_ns);
        attribution.exe.assign(process.exe);
        if (!process.comm.empty())
            owner.comm.assign(process.comm);
    }
    const std::string& cgroup_path = cgroups_.path(owner.cgroup_id, owner.pid, now_ns_);
    // Consecutive transactions mostly come from the same cgroup; its units
    // are worked out again only when the path changes.
    if (!units_known_ || cgroup_path != attribution.cgroup_path) {
        attribution.cgroup_path.assign(cgroup_path);
        attribution.units = cgroup_path.empty() ? CgroupUnits{} : units_from_cgroup_path(cgroup_path);
        units_known_ = true;
    }
    // A timeout is reported from the sweep, not while a message is parsed.
    const std::string_view parse_error = transaction.outcome == Outcome::timeout ? std::string_view{} : parse_error_;

    // Nothing may carry over from the previous report.
    attribution.container = CgroupContainer{};
    attribution.metadata.reset();
    if (!attribution.cgroup_path.empty() && containers_) {
        attribution.container = container_of(owner.cgroup_id, attribution.cgroup_path);
        attribution.metadata = containers_->metadata(attribution.container, now_ns_);
        if (!attribution.metadata && containers_->can_look_up(attribution.container) &&
            held_.has_room(transaction, attribution)) {
            const std::string id = attribution.container.id;
            std::function<void()> release;
            if (held_.start_awaiting(id))
                release = [this, id] { release_held(id); };
            containers_->request(attribution.container, now_ns_, std::move(release));
            if (!containers_->pending(attribution.container)) {
                held_.stop_awaiting(id);  // answered (or refused) at once: nothing to wait for
            } else {
                held_.hold(now_ns_ + config_.metadata_wait_usec * 1000, std::move(transaction), attribution,
                           parse_error);
                return;
            }
        }
    }
    write_entry(transaction, attribution, parse_error);
}

void Daemon::write_entry(const Transaction& transaction, const Attribution& attribution,
                         std::string_view parse_error) {
    formatter_.transaction(transaction, attribution, parse_error, sink_->begin_entry());
    sink_->end_entry();
    ++counted_.transactions;
    // Formatted a second time, into a list, only while someone listens.
    if (bus_ && bus_->has_subscribers()) {
        bus_fields_.clear();
        formatter_.transaction(transaction, attribution, parse_error, bus_fields_);
        bus_->publish_transaction(bus_fields_);
    }
}

// The runtime answered (or gave up): entries of that container go out now,
// with whatever is known.
void Daemon::release_held(const std::string& container_id) {
    held_.stop_awaiting(container_id);
    const size_t written = held_.release(container_id, [this](HeldTransaction& entry) {
        entry.attribution.metadata = containers_->metadata(entry.attribution.container, now_ns_);
        write_entry(entry.transaction, entry.attribution, entry.parse_error);
    });
    if (written > 0)
        sink_->flush();
}

void Daemon::release_expired(uint64_t now_ns) {
    held_.release_expired(now_ns, [this](HeldTransaction& entry) {
        // The answer may have come without its release: what is known now.
        if (containers_)
            entry.attribution.metadata = containers_->metadata(entry.attribution.container, now_ns_);
        write_entry(entry.transaction, entry.attribution, entry.parse_error);
    });
}

void Daemon::drain() {
    // One clock read per batch: precise enough for the caches, and a
    // timeout swept a batch's length late is still a timeout.
    now_ns_ = monotonic_ns();
    const int records = capture_->drain();
    if (records > 0)
        idle_ticks_ = 0;
    else
        ++idle_ticks_;
    pacer_.next_interval_usec(now_ns_, records > 0 ? static_cast<uint64_t>(records) : 0);
    // A drain that stopped at its cap left records in the ring: what they
    // hold has only been seen up to the last record handled. Timing out
    // against the clock would report a query whose answer is still queued
    // as a timeout, and then that answer as unmatched.
    const uint64_t seen_until_ns = records == BpfCapture::max_records_per_drain
                                       ? std::min(now_ns_, context_.timestamp_ns)
                                       : now_ns_;
    // Messages held behind a TCP gap first: an answer among them completes
    // its transaction before the table could time it out.
    reassembler_.expire(seen_until_ns, tcp_message_);
    table_.expire(seen_until_ns, report_);
    release_expired(now_ns_);
    if (containers_)
        containers_->evict_idle(now_ns_);
    sink_->flush();
    stop_if_output_gone();
}

void Daemon::stop_if_output_gone() {
    int already_exiting = 0;
    if (!sink_->reader_gone() || sd_event_get_exit_code(event_, &already_exiting) >= 0)
        return;
    log_warning("The reader of the output has closed it; stopping");
    // Not a clean run: under systemd, Restart=on-failure brings dnsvisd
    // back with a fresh output.
    sd_event_exit(event_, exit_output_gone);
}

void Daemon::arm_tick(bool busy) {
    uint64_t interval = busy ? pacer_.interval_usec() : idle_tick_usec;
    // A segment held behind a TCP gap waits the reorder window. Looking every
    // quarter of it gives the gap up at most a quarter late: ticks a whole
    // window apart could make that up to twice the window, which is all of
    // a short Timeout=.
    if (reassembler_.held_segments() > 0)
        interval = std::min(interval, reassembler_.reorder_window_ns() / 4 / 1000);
    if (!held_.empty())
        interval = std::min(interval, held_tick_usec);  // held entries have a deadline well below a second
    else if (!busy && !recheck_after_idle_ && table_.pending() == 0 && reassembler_.flow_count() == 0 &&
             !sink_->holds_output()) {
        sd_event_source_set_enabled(tick_source_, SD_EVENT_OFF);
        return;
    }
    if (recheck_after_idle_)
        interval = std::min(interval, idle_recheck_usec);
    sd_event_source_set_time_relative(tick_source_, interval);
    sd_event_source_set_enabled(tick_source_, SD_EVENT_ONESHOT);
}

int Daemon::on_ring_ready(sd_event_source*, int, uint32_t, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    const bool waking = self->idle_;
    if (waking) {
        // Batch from now on: the tick drains, the kernel wakes only for bulk.
        self->idle_ = false;
        self->capture_->set_wake_on_next(false);
    }
    self->drain();
    if (waking)
        self->pacer_.start(self->now_ns_);
    self->arm_tick(true);
    return 0;
}

int Daemon::on_tick(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    self->recheck_after_idle_ = false;
    self->drain();
    if (!self->idle_ && self->idle_ticks_ >= ticks_before_idle) {
        self->idle_ = true;
        self->capture_->set_wake_on_next(true);
        self->drain();  // an event that raced with the switch would not wake us
        self->recheck_after_idle_ = true;  // nor one whose program is still running
    }
    self->arm_tick(!self->idle_);
    return 0;
}

int Daemon::on_summary(sd_event_source* source, uint64_t due_usec, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    self->drain();
    self->write_summary();
    self->sink_->flush();
    self->stop_if_output_gone();
    // Every interval from the start, not from when this one ran: re-arming
    // relative to now would add the loop's delay and the drain to each
    // period. After a stall longer than the interval, the next is the next
    // one due.
    const uint64_t interval = self->config_.summary_interval_usec;
    const uint64_t now = monotonic_ns() / 1000;
    uint64_t next = due_usec + interval;
    if (next <= now)
        next += (now - next) / interval * interval + interval;
    sd_event_source_set_time(source, next);
    return 0;
}

int Daemon::on_signal(sd_event_source* source, const struct signalfd_siginfo*, void*) {
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

Statistics Daemon::statistics() const {
    Statistics s = counted_;
    const KernelCounters kernel = capture_ ? capture_->read_counters() : KernelCounters{};
    s.captured = kernel[DNSVIS_COUNTER_CAPTURED];
    s.cut = kernel[DNSVIS_COUNTER_CUT];
    s.filtered = kernel[DNSVIS_COUNTER_FILTERED];
    s.lost_by(LossCause::ringbuf) = kernel[DNSVIS_COUNTER_RINGBUF_FULL];
    // A packet the kernel could not copy is as lost as one too short to read.
    s.lost_by(LossCause::malformed) += kernel[DNSVIS_COUNTER_UNREADABLE];
    const TransactionTableCounters& table = table_.counters();
    s.answered = table.answered;
    s.timeouts = table.timeouts;
    s.unmatched_responses = table.unmatched_responses;
    s.retransmits = table.retransmits;
    s.late_answers = table.late_answers;
    s.transfer_messages = table.transfer_messages;
    s.lost_by(LossCause::table) = table.lost_table_full;
    s.lost_by(LossCause::tcp) = reassembler_.counters().lost_segments;
    // A TCP message of length 0 is as malformed as a UDP datagram without
    // payload, which reaches handle_dns() and is counted there.
    s.lost_by(LossCause::malformed) += reassembler_.counters().empty_messages;
    s.lost_by(LossCause::output) = sink_->lost();
    s.lost_by(LossCause::unfinished) = unfinished_;
    return s;
}

void Daemon::write_summary() {
    formatter_.summary(statistics(), sink_->begin_entry());
    sink_->end_entry();
}

bool Daemon::setup_event_loop() {
    int r = sd_event_default(&event_);
    if (r < 0) {
        log_error("Cannot create the event loop: %s", std::strerror(-r));
        return false;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    // A hangup (the terminal of `dnsvisd --output=json` closed, or a stray
    // kill -HUP) stops cleanly too, with the summary written, rather than
    // killing the process: there is nothing to reload (the configuration
    // is read at start).
    sigaddset(&signals, SIGHUP);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    if ((r = sd_event_add_signal(event_, &sigterm_source_, SIGTERM, on_signal, this)) < 0 ||
        (r = sd_event_add_signal(event_, &sigint_source_, SIGINT, on_signal, this)) < 0 ||
        (r = sd_event_add_signal(event_, &sighup_source_, SIGHUP, on_signal, this)) < 0 ||
        (r = sd_event_add_io(event_, &ring_source_, capture_->ring_fd(), EPOLLIN, on_ring_ready, this)) < 0 ||
        (r = sd_event_add_time_relative(event_, &tick_source_, CLOCK_MONOTONIC, idle_tick_usec, tick_accuracy_usec,
                                       on_tick, this)) <
            0 ||
        (r = sd_event_add_time_relative(event_, &summary_source_, CLOCK_MONOTONIC, config_.summary_interval_usec,
                                        summary_accuracy_usec, on_summary, this)) < 0) {
        log_error("Cannot set up the event loop: %s", std::strerror(-r));
        return false;
    }
    sd_event_source_set_enabled(tick_source_, SD_EVENT_OFF);
    sd_event_source_set_enabled(summary_source_, SD_EVENT_ON);
    return true;
}

void Daemon::shutdown() {
    sd_notify(0, "STOPPING=1");
    bus_.reset();  // no more changes from now on
    // Detach first so nothing new arrives, then take what is already queued.
    capture_->detach();
    while (capture_->drain() == BpfCapture::max_records_per_drain) {
    }
    table_.expire(monotonic_ns(), report_);
    unfinished_ += table_.drop_pending();
    reassembler_.discard_all();  // TCP data still waiting for the rest of its message: counted lost
    release_expired(UINT64_MAX);  // nothing more will be learnt: write with what is known
    sink_->settle();  // first, so the summary counts what the sink could not deliver
    const uint64_t lost_before_summary = sink_->lost();
    write_summary();
    sink_->finish();
    // The totals once more in dnsvisd's own log, where `systemctl status`
    // shows them, whatever became of the output (a closed pipe, /dev/null,
    // no journald). They count the summary entry too when the output could
    // not take it, which is worth saying: else one transaction and its lost
    // summary read "1 transactions reported, 2 lost".
    const Statistics totals = statistics();
    const bool summary_lost = sink_->lost() > lost_before_summary;
    log_info("Stopped: %llu transactions reported, %llu lost%s", static_cast<unsigned long long>(totals.transactions),
             static_cast<unsigned long long>(totals.lost_total()),
             summary_lost ? " (the final summary entry among them: the output could not take it)" : "");
    scopes_.reset();  // it writes to the capture's maps
    processes_.set_exited_exe({});  // it reads them
    capture_.reset();
}

// The name is taken once the programs are attached and the rules restored,
// so whoever sees org.dnsvis1 can rely on a change reaching the kernel. No
// system bus (an --output=json run on a bare machine) is not fatal.
void Daemon::start_bus() {
    if (!bus_enabled_)
        return;
    try {
        bus_ = std::make_unique<BusService>(
            event_, BusService::Sources{*scopes_, [this] { return statistics(); }, capture_->probe_mode()});
    } catch (const std::exception& error) {
        log_notice("No D-Bus control (org.dnsvis1), capturing anyway: %s", error.what());
    }
}

int Daemon::run() {
    if (!can_read_other_processes())
        log_notice("CAP_SYS_PTRACE is not effective: DNS_EXE is reported only for processes of our own user");

    std::string error;
    capture_ = BpfCapture::attach(capture_options(config_, can_read_kernel_memory()), cgroup_root_,
                                  [this](std::span<const uint8_t> record) { on_record(record); }, error);
    if (!capture_) {
        log_error("%s", error.c_str());
        return 1;
    }
    if (capture_->follows_execs()) {
        const HostRoot host = host_root();
        processes_.set_exited_exe(exited_process_exe(*capture_, host));
        const size_t seeded = seed_exec_records(*capture_, host);
        log_debug("Recorded the executables of %zu running processes", seeded);
    }
    if (!setup_event_loop())
        return 1;
    // A removed cgroup is remembered while a transaction from it may still be
    // reported: its last query's timeout, then the metadata wait, and a margin
    // for the sweep.
    const uint64_t removed_grace_ns = (config_.timeout_usec + config_.metadata_wait_usec) * 1000 + 5'000'000'000;
    cgroups_.watch(event_, removed_grace_ns,
                   [this](uint64_t cgroup_id, const std::string& path) { forget_cgroup(cgroup_id, path); });
    cgroups_.on_created([this](uint64_t cgroup_id, const std::string& path) {
        prefetch_container(cgroup_id, path);
        if (scopes_)
            scopes_->cgroup_created(path);
    });
    // Before the containerd client starts gRPC's threads, which would keep
    // what this thread had (capabilities are a thread's own).
    if (std::string drop_error = drop_capabilities_after_attach(); !drop_error.empty())
        log_warning("Running with more privilege than needed: %s", drop_error.c_str());
    containers_ = std::make_unique<ContainerRegistry>(event_, container_sockets(config_));
    // Restores the saved rules (global included) into the kernel's maps.
    scopes_ = std::make_unique<KernelScopeManager>(
        event_, *capture_, containers_.get(),
        ScopeManagerSettings{cgroup_root_, state_dir_ + "/scopes.json", config_.global_visibility});

    std::string ports;
    for (uint16_t port : config_.ports)
        ports += (ports.empty() ? "" : " ") + std::to_string(port);
    log_info("Attached to %s; capturing DNS on port(s) %s (%s side)", cgroup_root_.c_str(), ports.c_str(),
             config_.server_side ? "client and server" : "client");
    start_bus();
    sd_notifyf(0, "READY=1\nSTATUS=Capturing DNS on port(s) %s", ports.c_str());

    const int r = sd_event_loop(event_);
    shutdown();
    if (r < 0) {
        log_error("Event loop failed: %s", std::strerror(-r));
        return 1;
    }
    return r;  // 0, or exit_output_gone
}

}  // namespace dnsvis
