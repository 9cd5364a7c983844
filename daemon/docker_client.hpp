// Asks the Docker Engine API (or podman's compatible socket) about a
// container, without blocking: libcurl's multi interface runs inside the
// daemon's sd-event loop, so the ring buffer keeps draining while a runtime
// is slow. Each request has a deadline, and the number in flight is bounded.
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "container_metadata.hpp"

namespace dnsvis {

class DockerClient {
public:
    using Callback = std::function<void(std::optional<ContainerMetadata>)>;

    static constexpr size_t max_in_flight = 64;
    static constexpr long request_timeout_ms = 2000;

    DockerClient(sd_event* event, std::string socket_path);
    ~DockerClient();
    DockerClient(const DockerClient&) = delete;
    DockerClient& operator=(const DockerClient&) = delete;

    const std::string& socket_path() const { return socket_path_; }
    // Starts GET /containers/{id}/json. The callback runs later, from the
    // event loop, with nullopt when the runtime does not know the container,
    // does not answer in time, or is not there.
    void inspect(const std::string& id, Callback callback);
    size_t in_flight() const { return requests_.size(); }

private:
    struct Request {
        CURL* easy = nullptr;
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
    CURLM* multi_ = nullptr;
    sd_event_source* timer_ = nullptr;
    std::unordered_map<CURL*, std::unique_ptr<Request>> requests_;
};

}  // namespace dnsvis
