// Asks a runtime's HTTP API on its unix socket about a container: the Docker
// Engine API (also podman's compatible socket) or CRI-O's inspect endpoint.
// Never blocks: libcurl's multi interface runs inside the daemon's sd-event
// loop, so the ring buffer keeps draining while a runtime is slow. Each
// request has a deadline, and the number in flight is bounded.
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "metadata_source.hpp"

namespace dnsvis {

enum class RuntimeHttpApi {
    docker_engine,  // GET /containers/{id}/json
    crio,           // GET /containers/{id}
};

class RuntimeHttpClient final : public MetadataSource {
public:
    static constexpr size_t max_in_flight = 64;
    static constexpr long request_timeout_ms = 2000;

    RuntimeHttpClient(sd_event* event, std::string socket_path, RuntimeHttpApi api);
    ~RuntimeHttpClient() override;
    RuntimeHttpClient(const RuntimeHttpClient&) = delete;
    RuntimeHttpClient& operator=(const RuntimeHttpClient&) = delete;

    const std::string& socket_path() const { return socket_path_; }
    // Starts the inspect request for container.id.
    void inspect(const CgroupContainer& container, Callback callback) override;
    bool busy() const override { return requests_.size() >= max_in_flight; }
    size_t in_flight() const { return requests_.size(); }

private:
    struct Request {
        CURL* easy = nullptr;
        std::string id;
        std::string body;
        Callback callback;
    };

    static int on_curl_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* source);
    static int on_curl_timer(CURLM* multi, long timeout_ms, void* self);
    static int on_io(sd_event_source* source, int fd, uint32_t revents, void* self);
    static int on_timer(sd_event_source* source, uint64_t usec, void* self);
    static size_t on_body(char* data, size_t size, size_t count, void* request);
    void finish_completed();

    sd_event* event_;
    std::string socket_path_;
    RuntimeHttpApi api_;
    CURLM* multi_ = nullptr;
    sd_event_source* timer_ = nullptr;
    std::unordered_map<CURL*, std::unique_ptr<Request>> requests_;
};

}  // namespace dnsvis
