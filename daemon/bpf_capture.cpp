#include "bpf_capture.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnsvis.skel.h"
#include "log.hpp"

namespace dnsvis {

namespace {

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    // libbpf's warnings (the verifier log among them) repeat what the one
    // error we report says; they are there with --log-level=debug.
    (void)level;
    const LogLevel ours = LogLevel::debug;
    if (!log_enabled(ours))
        return 0;
    // The verifier log comes as one long message: no fixed buffer. It is
    // logged line by line, as the verifier wrote it: one log line is cut at
    // a pipe's atomic write, and the verifier's reason comes last.
    char* text = nullptr;
    if (vasprintf(&text, format, args) < 0)
        return 0;
    std::string_view rest(text);
    while (!rest.empty()) {
        const size_t end = rest.find('\n');
        const std::string_view line = rest.substr(0, end);
        log_message(ours, "%.*s", static_cast<int>(line.size()), line.data());
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    std::free(text);
    return 0;
}

std::string errno_text(int error) { return std::strerror(error < 0 ? -error : error); }

// Whether a program of `type` may call each of `helpers`, loaded with the
// privileges the real programs will be loaded with. Which helpers name the
// current process differs by kernel and privilege: cgroup_skb programs got
// them after Linux 6.1, and bpf_get_current_comm() wants CAP_PERFMON on
// recent kernels. libbpf's own helper probe cannot tell: it takes a refusal
// for want of privilege for support.
bool may_call(bpf_prog_type type, bpf_attach_type attach_type, std::initializer_list<bpf_func_id> helpers) {
    std::vector<bpf_insn> program;
    for (const bpf_func_id helper : helpers) {
        if (helper == BPF_FUNC_get_current_comm) {  // into a buffer on the stack
            program.push_back({BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0});
            program.push_back({BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -DNSVIS_COMM_LEN});
            program.push_back({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, DNSVIS_COMM_LEN});
        }
        program.push_back({BPF_JMP | BPF_CALL, 0, 0, 0, helper});
    }
    program.push_back({BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1});  // allow, in either program type
    program.push_back({BPF_JMP | BPF_EXIT, 0, 0, 0, 0});
    LIBBPF_OPTS(bpf_prog_load_opts, options, .expected_attach_type = attach_type);
    const int fd = bpf_prog_load(type, "dnsvis_probe", "Dual BSD/GPL", program.data(), program.size(), &options);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

const char* sender_source_name(uint32_t source) {
    switch (source) {
    case DNSVIS_SENDER_HELPERS:
        return "the kernel's helpers";
    case DNSVIS_SENDER_TASK:
        return "the current task (kernel BTF)";
    default:
        return "sendmsg programs";
    }
}

struct Attachment {
    bpf_program* program;
    bpf_link** link;
};

// The programs attached to the cgroup root, the full ones or the plain ones
// (see bpf/dnsvis.bpf.c), socket owners first so the first datagram finds
// its owner.
std::vector<Attachment> cgroup_programs(dnsvis_bpf& skeleton, bool plain) {
    if (plain)
        return {{skeleton.progs.dnsvis_co4_plain, &skeleton.links.dnsvis_co4_plain},
                {skeleton.progs.dnsvis_co6_plain, &skeleton.links.dnsvis_co6_plain},
                {skeleton.progs.dnsvis_sendmsg4, &skeleton.links.dnsvis_sendmsg4},
                {skeleton.progs.dnsvis_sendmsg6, &skeleton.links.dnsvis_sendmsg6},
                {skeleton.progs.dnsvis_eg_plain, &skeleton.links.dnsvis_eg_plain},
                {skeleton.progs.dnsvis_in_plain, &skeleton.links.dnsvis_in_plain}};
    return {{skeleton.progs.dnsvis_connect4, &skeleton.links.dnsvis_connect4},
            {skeleton.progs.dnsvis_connect6, &skeleton.links.dnsvis_connect6},
            {skeleton.progs.dnsvis_egress, &skeleton.links.dnsvis_egress},
            {skeleton.progs.dnsvis_ingress, &skeleton.links.dnsvis_ingress}};
}

// Ring buffer sizes must be a power of two multiple of the page size.
uint32_t ring_size(uint32_t requested) {
    uint32_t size = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
    while (size < requested && size < (1u << 30))
        size <<= 1;
    return size;
}

}  // namespace

void install_libbpf_logger() { libbpf_set_print(libbpf_log); }

bool kernel_has_ring_buffer() { return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) > 0; }

CaptureOptions capture_options(const Config& config, bool read_kernel_memory) {
    return {.ports = config.ports,
            .server_side = config.server_side,
            .snap_length = config.snap_length,
            .ring_bytes = config.ring_buffer_bytes,
            .global_enabled = config.global_visibility,
            .read_kernel_memory = read_kernel_memory};
}

bool BpfCapture::load_first_accepted_plan(const CaptureOptions& options, std::string& error) {
    // Naming the process, and following execs, read the kernel's own
    // structures: they need kernel BTF and CAP_PERFMON. A kernel that
    // refuses either still gets every other feature: the exec programs are
    // dropped first, then the process names. So is a UDP datagram's sender
    // where the kernel does not tell cgroup_skb programs who it is: read
    // from the current task with the kernel's structures, or else recorded
    // by sendmsg programs.
    const bool kernel_structs = options.read_kernel_memory && access("/sys/kernel/btf/vmlinux", R_OK) == 0;
    const bool helpers = may_call(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS,
                                  {BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid});
    comm_helpers_ = {
        may_call(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, {BPF_FUNC_get_current_comm}),
        may_call(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, {BPF_FUNC_get_current_comm}),
    };
    // Last, the plain programs (see bpf/dnsvis.bpf.c): what an older
    // kernel's verifier accepts from a loader without CAP_PERFMON.
    int r = -EINVAL;
    for (const LoadPlan& plan : load_plans(kernel_structs, helpers)) {
        r = open_and_load(options, plan);
        if (r == 0) {
            follows_execs_ = plan.follow_execs;
            plain_ = plan.plain();
            if (plan.plain())
                log_info("On this kernel, without CAP_PERFMON or kernel BTF, cgroup_skb programs cannot learn "
                         "who sends a datagram: sendmsg programs name UDP senders (each unconnected UDP send on "
                         "the host takes its socket's lock for them)");
            else
                log_info("Loaded the full programs; a UDP datagram's sender comes from %s",
                         sender_source_name(plan.sender_source));
            break;
        }
        if (plan.follow_execs)
            log_info("Loading the exec programs failed (%s); DNS_EXE is left out for clients that exit before "
                     "their query is handled", errno_text(r).c_str());
        else if (plan.read_leader_comm)
            log_info("Loading with process names failed (%s); the thread's name is used instead",
                     errno_text(r).c_str());
        else if (!plan.plain())
            log_info("Loading the programs failed (%s); trying the plain ones", errno_text(r).c_str());
    }
    if (r < 0) {
        if (r == -EPERM)
            error = "the kernel refused to load the BPF programs (" + errno_text(r) +
                    "): dnsvisd needs CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN";
        else if (r == -EACCES)
            error = "the kernel's verifier rejected the BPF programs; run with --log-level=debug for its log";
        else
            error = "cannot load the BPF programs: " + errno_text(r) + " (run with --log-level=debug for details)";
        return false;
    }
    return true;
}

bool BpfCapture::attach_cgroup_programs(const std::string& cgroup_root, std::string& error) {
    cgroup_fd_ = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd_ < 0) {
        error = "cannot open the cgroup2 root " + cgroup_root + ": " + errno_text(errno);
        return false;
    }

    // bpf_link attachments: they go away with the process, so even a crash
    // leaves no dnsvis_* program behind on the cgroup root.
    for (const Attachment& attachment : cgroup_programs(*skeleton_, plain_)) {
        bpf_link* link = bpf_program__attach_cgroup(attachment.program, cgroup_fd_);
        if (!link) {
            error = std::string("cannot attach ") + bpf_program__name(attachment.program) + " to " + cgroup_root +
                    ": " + errno_text(errno);
            return false;
        }
        *attachment.link = link;
    }
    return true;
}

std::unique_ptr<BpfCapture> BpfCapture::attach(const CaptureOptions& options, const std::string& cgroup_root,
                                               RecordHandler handler, std::string& error) {
    std::unique_ptr<BpfCapture> capture(new BpfCapture());
    capture->handler_ = std::move(handler);

    if (options.ports.empty() || options.ports.size() > DNSVIS_MAX_PORTS) {
        error = "between 1 and " + std::to_string(DNSVIS_MAX_PORTS) + " DNS ports must be configured";
        return nullptr;
    }
    if (!capture->load_first_accepted_plan(options, error))
        return nullptr;

    if (!capture->map_settings()) {
        error = "cannot map the settings map: " + errno_text(errno);
        return nullptr;
    }
    capture->store_setting(&dnsvis_settings::global_enabled, options.global_enabled);
    capture->store_setting(&dnsvis_settings::wake_on_next, 1);
    capture->store_setting(&dnsvis_settings::batch_wake_armed, 1);

    if (!capture->attach_cgroup_programs(cgroup_root, error))
        return nullptr;

    // Without them only DNS_EXE of clients that exit before their query is
    // handled is missing: nothing to fail for. Both or neither: execs
    // without forks would leave a pid's old record to whoever reuses it.
    if (capture->follows_execs_ && !capture->attach_exec_programs()) {
        log_notice("Cannot follow execs (%s): DNS_EXE is left out for clients that exit before their "
                   "query is handled", errno_text(errno).c_str());
        capture->follows_execs_ = false;
    }

    capture->ring_ = ring_buffer__new(bpf_map__fd(capture->skeleton_->maps.dnsvis_events), on_record,
                                      capture.get(), nullptr);
    if (!capture->ring_) {
        error = "cannot map the ring buffer: " + errno_text(errno);
        return nullptr;
    }
    return capture;
}

bool BpfCapture::attach_exec_programs() {
    skeleton_->links.dnsvis_exec = bpf_program__attach(skeleton_->progs.dnsvis_exec);
    if (skeleton_->links.dnsvis_exec)
        skeleton_->links.dnsvis_fork = bpf_program__attach(skeleton_->progs.dnsvis_fork);
    if (skeleton_->links.dnsvis_fork)
        return true;
    const int error = errno;
    bpf_link__destroy(skeleton_->links.dnsvis_exec);
    skeleton_->links.dnsvis_exec = nullptr;
    errno = error;
    return false;
}

int BpfCapture::open_and_load(const CaptureOptions& options, const LoadPlan& plan) {
    if (skeleton_) {
        dnsvis_bpf__destroy(skeleton_);
        skeleton_ = nullptr;
    }
    skeleton_ = dnsvis_bpf__open();
    if (!skeleton_)
        return -errno;
    auto* rodata = skeleton_->rodata;
    for (size_t i = 0; i < options.ports.size(); ++i)
        rodata->dns_ports[i] = htons(options.ports[i]);
    rodata->dns_port_count = static_cast<uint32_t>(options.ports.size());
    rodata->capture_server_side = options.server_side;
    rodata->snap_length = options.snap_length;
    rodata->read_leader_comm = plan.read_leader_comm;
    rodata->sender_source = plan.sender_source;
    rodata->direct_header_reads = options.read_kernel_memory;
    rodata->comm_helper_in_skb = comm_helpers_.in_skb;
    rodata->comm_helper_in_sock_addr = comm_helpers_.in_sock_addr;
    bpf_program__set_autoload(skeleton_->progs.dnsvis_exec, plan.follow_execs);
    bpf_program__set_autoload(skeleton_->progs.dnsvis_fork, plan.follow_execs);
    for (const bool plain : {false, true})
        for (const Attachment& attachment : cgroup_programs(*skeleton_, plain))
            bpf_program__set_autoload(attachment.program, plain == plan.plain());
    const uint32_t ring_bytes = ring_size(options.ring_bytes);
    rodata->wakeup_bytes = ring_bytes / 4;
    bpf_map__set_max_entries(skeleton_->maps.dnsvis_events, ring_bytes);
    return dnsvis_bpf__load(skeleton_);
}

BpfCapture::~BpfCapture() {
    if (settings_)
        munmap(settings_, settings_mapped_bytes_);
    if (ring_)
        ring_buffer__free(ring_);
    if (skeleton_)
        dnsvis_bpf__destroy(skeleton_);  // detaches the links
    if (cgroup_fd_ >= 0)
        close(cgroup_fd_);
}

// A negative return stops libbpf's consume loop; the record just handed
// over is consumed all the same.
constexpr int stop_draining = -EAGAIN;

int BpfCapture::on_record(void* self, void* data, size_t size) {
    auto* capture = static_cast<BpfCapture*>(self);
    capture->handler_(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
    return ++capture->drained_ >= max_records_per_drain ? stop_draining : 0;
}

int BpfCapture::ring_fd() const { return ring_buffer__epoll_fd(ring_); }

int BpfCapture::drain() {
    drained_ = 0;
    const int consumed = ring_buffer__consume(ring_);
    // Only on_record() makes the loop fail; what it handed over counts.
    const int records = consumed < 0 ? drained_ : consumed;
    if (records > 0 && !settings_->wake_on_next) {
        // Re-arm the one batch wake-up the kernel may send (see dnsvis_event.h).
        store_setting(&dnsvis_settings::batch_wake_armed, 1);
    }
    return records;
}

KernelCounters BpfCapture::read_counters() const {
    KernelCounters totals{};
    const int fd = bpf_map__fd(skeleton_->maps.dnsvis_counters);
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        return totals;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t key = 0; key < DNSVIS_COUNTER_MAX; ++key) {
        if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) < 0)
            continue;
        for (uint64_t value : per_cpu)
            totals[key] += value;
    }
    return totals;
}

bool BpfCapture::map_settings() {
    // An array map is mapped from its first entry, in whole pages.
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = (sizeof(dnsvis_settings) + page - 1) / page * page;
    void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                        bpf_map__fd(skeleton_->maps.dnsvis_settings), 0);
    if (mapped == MAP_FAILED)
        return false;
    settings_ = static_cast<dnsvis_settings*>(mapped);
    settings_mapped_bytes_ = bytes;
    return true;
}

void BpfCapture::store_setting(uint32_t dnsvis_settings::*field, uint32_t value) {
    // The programs read these words while user space writes them; each is
    // stored whole. The fence orders the store before whatever this thread
    // reads next, the ring buffer's positions above all: set_wake_on_next()
    // is followed by a drain that must see an event whose program read the
    // old value. The system call this replaced was such a barrier.
    std::atomic_ref<uint32_t>(settings_->*field).store(value, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

void BpfCapture::set_global(bool enabled) { store_setting(&dnsvis_settings::global_enabled, enabled); }

bool BpfCapture::set_scopes(const KernelScopes& scopes) {
    const int cgroups_fd = bpf_map__fd(skeleton_->maps.dnsvis_scope_cgroups);
    const int processes_fd = bpf_map__fd(skeleton_->maps.dnsvis_scope_processes);
    // The first failure's errno is what the caller reports; later calls,
    // a delete's ENOENT among them, would overwrite it.
    int first_error = 0;
    auto failed = [&first_error] {
        if (first_error == 0)
            first_error = errno;
    };
    // Entries first, then the switch that makes the programs look at them;
    // when the last rule goes, the switch goes off before the entries.
    for (const auto& [id, verdict] : scopes.cgroups) {
        auto known = scopes_.cgroups.find(id);
        if (known != scopes_.cgroups.end() && std::memcmp(&known->second, &verdict, sizeof(verdict)) == 0)
            continue;
        if (bpf_map_update_elem(cgroups_fd, &id, &verdict, BPF_ANY) < 0) {
            failed();
            continue;
        }
        scopes_.cgroups[id] = verdict;
    }
    for (const auto& [tgid, verdict] : scopes.processes) {
        auto known = scopes_.processes.find(tgid);
        if (known != scopes_.processes.end() && known->second == verdict)
            continue;
        if (bpf_map_update_elem(processes_fd, &tgid, &verdict, BPF_ANY) < 0) {
            failed();
            continue;
        }
        scopes_.processes[tgid] = verdict;
    }
    const uint32_t rules = (scopes.cgroups.empty() ? 0 : DNSVIS_SCOPE_F_CGROUPS) |
                           (scopes.processes.empty() ? 0 : DNSVIS_SCOPE_F_PROCESSES);
    if (settings_->scope_rules != rules)
        store_setting(&dnsvis_settings::scope_rules, rules);
    for (auto it = scopes_.cgroups.begin(); it != scopes_.cgroups.end();) {
        if (scopes.cgroups.count(it->first)) {
            ++it;
            continue;
        }
        if (bpf_map_delete_elem(cgroups_fd, &it->first) < 0 && errno != ENOENT) {
            failed();
            ++it;
            continue;
        }
        it = scopes_.cgroups.erase(it);
    }
    for (auto it = scopes_.processes.begin(); it != scopes_.processes.end();) {
        if (scopes.processes.count(it->first)) {
            ++it;
            continue;
        }
        if (bpf_map_delete_elem(processes_fd, &it->first) < 0 && errno != ENOENT) {
            failed();
            ++it;
            continue;
        }
        it = scopes_.processes.erase(it);
    }
    errno = first_error;
    return first_error == 0;
}

std::string BpfCapture::probe_mode() const {
    return follows_execs_ ? "cgroup_skb+sock_addr+raw_tp" : "cgroup_skb+sock_addr";
}

bool BpfCapture::last_exec(uint32_t pid, dnsvis_exec_record& record) const {
    return follows_execs_ && bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.dnsvis_execs), &pid, &record) == 0;
}

void BpfCapture::seed_exec(uint32_t pid, const dnsvis_exec_record& record) {
    if (follows_execs_)
        bpf_map_update_elem(bpf_map__fd(skeleton_->maps.dnsvis_execs), &pid, &record, BPF_NOEXIST);
}

void BpfCapture::set_wake_on_next(bool wake) { store_setting(&dnsvis_settings::wake_on_next, wake); }

void BpfCapture::detach() {
    // Every link the skeleton holds, whichever programs this kernel got;
    // the maps, the ring among them, stay.
    dnsvis_bpf__detach(skeleton_);
}

}  // namespace dnsvis
