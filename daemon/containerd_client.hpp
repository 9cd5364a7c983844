// Asks containerd's containers service (Containers/Get over gRPC on its unix
// socket) about a container, without blocking the event loop.
//
// gRPC's async API: a call is started from the loop thread (starting one
// does not wait for the network) and completes on a completion queue that
// one worker thread waits on. The worker hands finished calls back through
// an eventfd the sd-event loop watches; callbacks run on the loop thread, so
// the registry needs no lock. Each call has a deadline and the number in
// flight is bounded.
#pragma once

#include <systemd/sd-event.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "metadata_source.hpp"

namespace grpc {
class Channel;
class CompletionQueue;
}  // namespace grpc

namespace dnsvis {

class ContainerdClient final : public MetadataSource {
public:
    static constexpr size_t max_in_flight = 64;
    static constexpr int request_timeout_ms = 2000;
    // The containerd namespace when the cgroup layout does not tell one
    // (nerdctl's "nerdctl-<id>.scope"): nerdctl's and ctr's default.
    static constexpr const char* default_namespace = "default";

    // nullptr (and `error` says why) when the eventfd or the worker cannot be
    // set up. The socket is not contacted until the first call.
    static std::unique_ptr<ContainerdClient> create(sd_event* event, std::string socket_path, std::string& error);
    ~ContainerdClient() override;
    ContainerdClient(const ContainerdClient&) = delete;
    ContainerdClient& operator=(const ContainerdClient&) = delete;

    // Containers/Get for container.id in namespace container.ns.
    void inspect(const CgroupContainer& container, Callback callback) override;
    bool busy() const override { return calls_.size() >= max_in_flight; }
    size_t in_flight() const { return calls_.size(); }

private:
    struct Call;

    ContainerdClient(sd_event* event, std::string socket_path);

    static int on_ready(sd_event_source* source, int fd, uint32_t revents, void* self);
    void wait_for_completions();  // the worker thread
    void finish(Call* call);

    sd_event* event_;
    std::string socket_path_;
    std::shared_ptr<grpc::Channel> channel_;
    std::unique_ptr<grpc::CompletionQueue> queue_;
    int eventfd_ = -1;
    sd_event_source* source_ = nullptr;
    std::thread worker_;

    std::mutex completed_mutex_;
    std::vector<Call*> completed_;  // guarded by completed_mutex_

    // Loop thread only.
    std::unordered_map<Call*, std::unique_ptr<Call>> calls_;
    bool warned_unavailable_ = false;
};

}  // namespace dnsvis
