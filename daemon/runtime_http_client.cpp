#include "runtime_http_client.hpp"

#include <sys/epoll.h>

#include "log.hpp"

namespace dnsvis {

namespace {

// A document larger than this is not an inspect answer we want to hold.
constexpr size_t max_body_bytes = 1 << 20;

bool is_safe_id(const std::string& id) {
    // The id goes into a URL path: only what container ids and names use.
    if (id.empty() || id.size() > 128)
        return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    return true;
}

}  // namespace

RuntimeHttpClient::RuntimeHttpClient(sd_event* event, std::string socket_path, RuntimeHttpApi api)
    : event_(sd_event_ref(event)), socket_path_(std::move(socket_path)), api_(api) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

RuntimeHttpClient::~RuntimeHttpClient() {
    for (auto& [easy, request] : requests_) {
        curl_multi_remove_handle(multi_, easy);
        curl_easy_cleanup(easy);
    }
    requests_.clear();
    curl_multi_cleanup(multi_);  // removes its sockets through on_curl_socket
    sd_event_source_disable_unref(timer_);
    sd_event_unref(event_);
}

void RuntimeHttpClient::inspect(const CgroupContainer& container, Callback callback) {
    const std::string& id = container.id;
    if (!is_safe_id(id) || requests_.size() >= max_in_flight) {
        callback(std::nullopt);
        return;
    }
    auto request = std::make_unique<Request>();
    request->callback = std::move(callback);
    CURL* easy = curl_easy_init();
    if (!easy) {
        request->callback(std::nullopt);
        return;
    }
    request->easy = easy;
    request->id = id;
    std::string url = "http://localhost/containers/" + id;
    if (api_ == RuntimeHttpApi::docker_engine)
        url += "/json";
    curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, request.get());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, request_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, request.get());
    if (const CURLMcode added = curl_multi_add_handle(multi_, easy); added != CURLM_OK) {
        // Never started, so never finished: without this its callback
        // would not run, and its container would stay "being asked" for good.
        log_warning("Cannot ask %s about container %s: %s", socket_path_.c_str(), id.c_str(),
                    curl_multi_strerror(added));
        curl_easy_cleanup(easy);
        request->callback(std::nullopt);
        return;
    }
    requests_.emplace(easy, std::move(request));  // the timer callback starts it
}

size_t RuntimeHttpClient::on_body(char* data, size_t size, size_t count, void* request) {
    auto* r = static_cast<Request*>(request);
    const size_t bytes = size * count;
    if (r->body.size() + bytes > max_body_bytes)
        return 0;  // makes curl fail the transfer
    r->body.append(data, bytes);
    return bytes;
}

int RuntimeHttpClient::on_curl_socket(CURL*, curl_socket_t fd, int what, void* self_pointer, void* source_pointer) {
    auto* self = static_cast<RuntimeHttpClient*>(self_pointer);
    auto* source = static_cast<sd_event_source*>(source_pointer);
    if (what == CURL_POLL_REMOVE) {
        sd_event_source_disable_unref(source);
        curl_multi_assign(self->multi_, fd, nullptr);
        return 0;
    }
    const uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (source) {
        sd_event_source_set_io_events(source, events);
        return 0;
    }
    if (sd_event_add_io(self->event_, &source, fd, events, on_io, self) < 0)
        return -1;
    curl_multi_assign(self->multi_, fd, source);
    return 0;
}

int RuntimeHttpClient::on_curl_timer(CURLM*, long timeout_ms, void* self_pointer) {
    auto* self = static_cast<RuntimeHttpClient*>(self_pointer);
    if (timeout_ms < 0) {
        if (self->timer_)
            sd_event_source_set_enabled(self->timer_, SD_EVENT_OFF);
        return 0;
    }
    const uint64_t usec = static_cast<uint64_t>(timeout_ms) * 1000;
    if (!self->timer_) {
        // Accuracy 1 µs: 0 would mean sd-event's default of 250 ms, and
        // curl arms a timer of 0 ms to start each request, which
        // transactions held for MetadataWait= (250 ms by default) wait on.
        if (sd_event_add_time_relative(self->event_, &self->timer_, CLOCK_MONOTONIC, usec, 1, on_timer, self) < 0)
            return -1;
    } else {
        sd_event_source_set_time_relative(self->timer_, usec);
    }
    sd_event_source_set_enabled(self->timer_, SD_EVENT_ONESHOT);
    return 0;
}

int RuntimeHttpClient::on_io(sd_event_source*, int fd, uint32_t revents, void* self_pointer) {
    auto* self = static_cast<RuntimeHttpClient*>(self_pointer);
    int action = 0;
    if (revents & EPOLLIN)
        action |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT)
        action |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP))
        action |= CURL_CSELECT_ERR;
    int running = 0;
    curl_multi_socket_action(self->multi_, fd, action, &running);
    self->finish_completed();
    return 0;
}

int RuntimeHttpClient::on_timer(sd_event_source*, uint64_t, void* self_pointer) {
    auto* self = static_cast<RuntimeHttpClient*>(self_pointer);
    int running = 0;
    curl_multi_socket_action(self->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    self->finish_completed();
    return 0;
}

void RuntimeHttpClient::finish_completed() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL* easy = message->easy_handle;
        const CURLcode result = message->data.result;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        auto it = requests_.find(easy);
        curl_multi_remove_handle(multi_, easy);
        curl_easy_cleanup(easy);
        if (it == requests_.end())
            continue;
        std::unique_ptr<Request> request = std::move(it->second);
        requests_.erase(it);
        std::optional<ContainerMetadata> metadata;
        if (result == CURLE_OK && status == 200)
            metadata = api_ == RuntimeHttpApi::crio ? parse_crio_inspect(request->id, request->body)
                                                    : parse_docker_inspect(request->body);
        else if (result != CURLE_OK)
            log_debug("Container lookup on %s failed: %s", socket_path_.c_str(), curl_easy_strerror(result));
        request->callback(std::move(metadata));  // may start new requests
    }
}

}  // namespace dnsvis
