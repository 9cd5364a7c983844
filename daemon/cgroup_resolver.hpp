// cgroup id (the inode of the cgroup's directory in cgroup2) to its path.
//
// Once watch() runs, the resolver mirrors the cgroup tree through inotify:
// a cgroup is known from the moment it is created, so a container that sends
// a query and exits before the query is handled still has its path. A removed
// cgroup is kept for a grace period (transactions from it may still be
// waiting for a response or a timeout), then forgotten, and the caller is
// told so it can drop what it keeps about it (the container's metadata).
//
// Without inotify, or for cgroups past the mirror's bound or the inotify
// watch limit, it falls back to /proc/PID/cgroup of the socket owner (checked
// against the directory's inode) and to walking the tree at most once per
// second, cached in a bounded table that is emptied when full.
#pragma once

#include <systemd/sd-event.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dnsvis {

class CgroupResolver {
public:
    using Forget = std::function<void(uint64_t cgroup_id, const std::string& path)>;
    using Created = std::function<void(uint64_t cgroup_id, const std::string& path)>;

    explicit CgroupResolver(std::string cgroup_root, size_t capacity = 16384);
    ~CgroupResolver();
    CgroupResolver(const CgroupResolver&) = delete;
    CgroupResolver& operator=(const CgroupResolver&) = delete;

    // Starts mirroring the tree. `forget` runs (from the event loop) for each
    // removed cgroup once `removed_grace_ns` have passed. False (with a
    // notice) when inotify cannot be used; the fallback then serves.
    bool watch(sd_event* event, uint64_t removed_grace_ns, Forget forget);
    // `created` runs (from the event loop, never from within path()) for each
    // cgroup made after watch(), so the caller can learn about a container
    // while it still exists. A creation that path() reads on a miss is
    // announced from the loop's next turn.
    void on_created(Created created) { created_ = std::move(created); }

    // Path relative to the cgroup2 root ("/system.slice/nginx.service"),
    // or empty when unknown. `pid` may be 0. The reference stays valid until
    // the next call.
    const std::string& path(uint64_t cgroup_id, uint32_t pid, uint64_t now_ns);

    size_t size() const { return mirror_.size() + fallback_.size(); }
    bool watching() const { return inotify_fd_ >= 0; }

private:
    struct Mirrored {
        std::string path;
        int watch = -1;        // inotify watch descriptor; -1 once removed
        bool removed = false;  // gone, kept for the grace period
    };

    // The mirror.
    // How a cgroup newly mirrored is told to the caller: not at all (those
    // there before watch()), now (from the loop), or on the loop's next turn
    // (found from within path(), which must not be re-entered).
    enum class Announce { never, now, later };
    void add_tree(const std::string& relative, std::unordered_set<uint64_t>* seen, Announce announce);
    bool add_cgroup(const std::string& relative, uint64_t cgroup_id);
    void mark_removed(uint64_t cgroup_id, uint64_t now_ns);
    void read_events(Announce announce);
    void resync(Announce announce);
    void purge_removed(uint64_t now_ns);
    void arm_purge();
    void mirror_incomplete(const char* why);
    static int on_inotify(sd_event_source* source, int fd, uint32_t revents, void* self);
    static int on_purge(sd_event_source* source, uint64_t usec, void* self);
    static int on_announce(sd_event_source* source, void* self);

    // The fallback.
    bool try_process(uint64_t cgroup_id, uint32_t pid);
    void walk_tree();
    void remember(uint64_t cgroup_id, std::string path);

    std::string root_;
    size_t capacity_;

    int inotify_fd_ = -1;
    sd_event* event_ = nullptr;
    sd_event_source* inotify_source_ = nullptr;
    sd_event_source* purge_source_ = nullptr;
    sd_event_source* announce_source_ = nullptr;  // deferred; on while unannounced_ holds some
    std::vector<std::pair<uint64_t, std::string>> unannounced_;
    uint64_t grace_ns_ = 0;
    Forget forget_;
    Created created_;
    std::unordered_map<uint64_t, Mirrored> mirror_;
    std::unordered_map<int, uint64_t> id_by_watch_;
    std::unordered_map<std::string, uint64_t> live_id_by_path_;
    std::deque<std::pair<uint64_t, uint64_t>> removed_;  // (cgroup id, forget at), oldest first
    bool complete_ = false;                              // every cgroup is mirrored: a miss needs no fallback

    std::unordered_map<uint64_t, std::string> fallback_;
    uint64_t last_walk_ns_ = 0;
    bool walked_ = false;
};

}  // namespace dnsvis
