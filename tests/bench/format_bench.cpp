// How long formatting one entry as a JSON line takes, the daemon's way (the
// owner's fields rendered once per owner and copied, see FieldBlock) against
// the same writer fed field by field, in the same run: for a host process,
// a Kubernetes pod (whose owner fields are most of the entry), two owners in
// turn, and more owners in turn than the formatter keeps blocks for.
//
//   meson test -C BUILD --benchmark format   (a release build)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "json_line.hpp"
#include "transaction_fields.hpp"

using namespace dnsvis;

namespace {

Transaction answered() {
    Transaction t;
    t.question = {"www.example.test", 1, 1};
    t.query_flags = dns_flag::rd;
    t.client.address = {127, 0, 0, 1};
    t.client.port = 40312;
    t.server.address = {127, 0, 0, 53};
    t.server.port = 53;
    t.owner = {4242, 4242, 0, "curl", 9};
    t.query_ns = 1'000'000;
    t.response_ns = 1'412'000;
    ResponseSummary r;
    r.flags = dns_flag::qr | dns_flag::rd | dns_flag::ra;
    r.answers.push_back({"", 1, 1, 300, "192.0.2.10"});
    r.answers.push_back({"", 1, 1, 300, "192.0.2.11"});
    t.response = r;
    return t;
}

Attribution host_service() {
    Attribution a;
    a.exe = "/usr/bin/curl";
    a.cgroup_path = "/system.slice/backup.service";
    a.units = units_from_cgroup_path(a.cgroup_path);
    return a;
}

Attribution kubernetes_pod() {
    Attribution a;
    a.exe = "/coredns";
    a.cgroup_path =
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12345678_1234_1234_1234_123456789abc.slice/"
        "cri-containerd-4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233.scope";
    a.units = units_from_cgroup_path(a.cgroup_path);
    a.container = container_from_cgroup_path(a.cgroup_path);
    ContainerMetadata metadata;
    metadata.name = "coredns";
    metadata.image = "registry.k8s.io/coredns/coredns:v1.11.1";
    metadata.labels = {{"io.kubernetes.pod.name", "coredns-5dd5756b68-x7k2p"},
                       {"io.kubernetes.pod.namespace", "kube-system"},
                       {"io.kubernetes.container.name", "coredns"}};
    a.metadata = std::make_shared<const ContainerMetadata>(metadata);
    return a;
}

// The line writer, fed one field at a time: FieldWriter's own add_block().
class FieldByField final : public FieldWriter {
public:
    explicit FieldByField(JsonLineWriter& lines) : lines_(lines) {}
    void add(std::string_view name, std::string_view value) override { lines_.add(name, value); }

private:
    JsonLineWriter& lines_;
};

struct Owner {
    uint32_t pid;
    Attribution attribution;
};

// Nanoseconds per entry, the best of several runs (the least disturbed), the
// owners taking turns entry by entry.
double time_per_entry(const std::vector<Owner>& owners, bool blocks) {
    constexpr int entries = 200'000;
    EntryFormatter formatter;
    JsonLineWriter lines;
    FieldByField field_by_field(lines);
    FieldWriter& out = blocks ? static_cast<FieldWriter&>(lines) : field_by_field;
    Transaction t = answered();
    double best = 1e18;
    for (int run = 0; run < 7; ++run) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < entries; ++i) {
            const Owner& owner = owners[static_cast<size_t>(i) % owners.size()];
            t.id = static_cast<uint16_t>(i);
            t.owner.pid = owner.pid;
            lines.begin_line();
            formatter.transaction(t, owner.attribution, {}, out);
            lines.end_line();
            if (lines.text().size() > 256 * 1024)
                lines.clear();  // as the JSON sink flushes
        }
        const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
        best = std::min(best, took.count() / entries);
    }
    return best;
}

}  // namespace

int main() {
    std::vector<Owner> many;
    for (uint32_t pid = 1000; pid < 1400; ++pid)
        many.push_back({pid, pid % 2 ? host_service() : kubernetes_pod()});
    const struct {
        const char* owners;
        std::vector<Owner> turns;
    } cases[] = {
        {"one host service", {{4242, host_service()}}},
        {"one Kubernetes pod", {{4243, kubernetes_pod()}}},
        {"a host service and a pod in turn", {{4242, host_service()}, {4243, kubernetes_pod()}}},
        {"400 processes in turn (more than the formatter keeps)", many},
    };
    for (const auto& c : cases) {
        const double field_by_field = time_per_entry(c.turns, false);
        const double blocks = time_per_entry(c.turns, true);
        std::printf("RESULT formatting a JSON entry, %s: %.0f ns with owner blocks, %.0f ns field by field, "
                    "ratio %.2f\n",
                    c.owners, blocks, field_by_field, blocks / field_by_field);
    }
    return 0;
}
