#include "containerd_client.hpp"

#include <grpcpp/grpcpp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "containerd_containers.grpc.pb.h"
#include "log.hpp"

namespace dnsvis {

namespace api = containerd::services::containers::v1;

namespace {

// containerd's own rule for namespaces and container ids
// ([A-Za-z0-9]+ joined by single '.', '_' or '-'), checked loosely: a value
// from a cgroup path must not put anything odd into call metadata.
bool is_identifier(const std::string& value) {
    if (value.empty() || value.size() > 76 * 4)
        return false;
    for (char c : value)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    return true;
}

}  // namespace

// Everything one Containers/Get needs until it completes; gRPC writes
// `response` and `status` from its own threads before the worker sees the tag.
struct ContainerdClient::Call {
    grpc::ClientContext context;
    std::unique_ptr<api::Containers::Stub> stub;
    std::unique_ptr<grpc::ClientAsyncResponseReader<api::GetContainerResponse>> reader;
    api::GetContainerResponse response;
    grpc::Status status;
    std::string id;
    Callback callback;
};

ContainerdClient::ContainerdClient(sd_event* event, std::string socket_path)
    : event_(sd_event_ref(event)), socket_path_(std::move(socket_path)) {}

std::unique_ptr<ContainerdClient> ContainerdClient::create(sd_event* event, std::string socket_path,
                                                           std::string& error) {
    std::unique_ptr<ContainerdClient> client(new ContainerdClient(event, std::move(socket_path)));
    client->eventfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (client->eventfd_ < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return nullptr;
    }
    if (int r = sd_event_add_io(event, &client->source_, client->eventfd_, EPOLLIN, on_ready, client.get()); r < 0) {
        error = std::string("cannot watch the eventfd: ") + std::strerror(-r);
        return nullptr;
    }
    // A lazy channel: connecting happens with the first call, asynchronously.
    // gRPC backs off up to 2 minutes between reconnects by default; a
    // restarted containerd should be asked again sooner.
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10'000);
    // An answer is one container's record; gRPC's default would take 4 MiB
    // of a tenant image's labels. The HTTP clients stop at 1 MiB too.
    arguments.SetMaxReceiveMessageSize(1 << 20);
    client->channel_ =
        grpc::CreateCustomChannel("unix:" + client->socket_path_, grpc::InsecureChannelCredentials(), arguments);
    client->queue_ = std::make_unique<grpc::CompletionQueue>();
    client->worker_ = std::thread([raw = client.get()] { raw->wait_for_completions(); });
    return client;
}

ContainerdClient::~ContainerdClient() {
    // Every started call must come out of the queue before it can shut down;
    // cancelled ones do so at once.
    for (auto& [call, owned] : calls_)
        call->context.TryCancel();
    if (queue_)
        queue_->Shutdown();
    if (worker_.joinable())
        worker_.join();
    calls_.clear();  // their callbacks are not run: the registry is going away
    sd_event_source_disable_unref(source_);
    if (eventfd_ >= 0)
        close(eventfd_);
    sd_event_unref(event_);
}

void ContainerdClient::inspect(const CgroupContainer& container, Callback callback) {
    const std::string ns = container.ns.empty() ? std::string(default_namespace) : container.ns;
    if (!is_identifier(container.id) || !is_identifier(ns) || calls_.size() >= max_in_flight) {
        callback(std::nullopt);
        return;
    }
    auto call = std::make_unique<Call>();
    call->id = container.id;
    call->callback = std::move(callback);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(request_timeout_ms));
    // containerd scopes every object by namespace, passed as call metadata.
    call->context.AddMetadata("containerd-namespace", ns);
    api::GetContainerRequest request;
    request.set_id(container.id);
    call->stub = api::Containers::NewStub(channel_);
    call->reader = call->stub->PrepareAsyncGet(&call->context, request, queue_.get());
    call->reader->StartCall();
    Call* tag = call.get();
    call->reader->Finish(&call->response, &call->status, tag);
    calls_.emplace(tag, std::move(call));  // the loop thread sees the completion only after this returns
}

void ContainerdClient::wait_for_completions() {
    void* tag = nullptr;
    bool ok = false;
    while (queue_->Next(&tag, &ok)) {
        {
            std::lock_guard lock(completed_mutex_);
            completed_.push_back(static_cast<Call*>(tag));
        }
        const uint64_t one = 1;
        if (write(eventfd_, &one, sizeof one) < 0) {
            // EAGAIN only: the counter is already far from zero, the loop will wake.
        }
    }
}

int ContainerdClient::on_ready(sd_event_source*, int fd, uint32_t, void* self_pointer) {
    auto* self = static_cast<ContainerdClient*>(self_pointer);
    uint64_t count = 0;
    if (read(fd, &count, sizeof count) < 0) {
        // EAGAIN: an earlier wake-up took this batch already.
    }
    std::vector<Call*> completed;
    {
        std::lock_guard lock(self->completed_mutex_);
        completed.swap(self->completed_);
    }
    for (Call* call : completed)
        self->finish(call);
    return 0;
}

void ContainerdClient::finish(Call* tag) {
    auto it = calls_.find(tag);
    if (it == calls_.end())
        return;
    std::unique_ptr<Call> call = std::move(it->second);
    calls_.erase(it);
    std::optional<ContainerMetadata> metadata;
    const grpc::Status& status = call->status;
    if (status.ok()) {
        warned_unavailable_ = false;
        const api::Container& container = call->response.container();
        std::map<std::string, std::string> labels;
        for (const auto& [key, value] : container.labels())
            labels.emplace(key, value);
        metadata = containerd_container_metadata(container.id().empty() ? call->id : container.id(), container.image(),
                                                 std::move(labels));
    } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !warned_unavailable_) {
        // Once per outage, not once per container.
        warned_unavailable_ = true;
        log_notice(
            "containerd at %s does not answer (%s): its containers are reported by the id from their cgroup "
            "only until it does",
            socket_path_.c_str(), status.error_message().c_str());
    } else {
        log_debug("containerd lookup of %s failed: %s", call->id.c_str(), status.error_message().c_str());
    }
    call->callback(std::move(metadata));  // may start new calls
}

}  // namespace dnsvis
