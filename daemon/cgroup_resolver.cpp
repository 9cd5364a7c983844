#include "cgroup_resolver.hpp"

#include <fcntl.h>
#include <fts.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroup_path.hpp"
#include "log.hpp"
#include "monotonic_clock.hpp"
#include "text_file.hpp"

namespace dnsvis {

namespace {

constexpr uint64_t walk_interval_ns = 1'000'000'000;
// Only directories are cgroups; cgroup2 refuses renames, so creation and
// removal are all that can happen to one.
constexpr uint32_t watch_mask = IN_CREATE | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW;

std::string child_path(const std::string& parent, const char* name) {
    return parent == "/" ? "/" + std::string(name) : parent + "/" + name;
}

}  // namespace

CgroupResolver::CgroupResolver(std::string cgroup_root, size_t capacity)
    : root_(std::move(cgroup_root)), capacity_(capacity) {}

CgroupResolver::~CgroupResolver() {
    sd_event_source_disable_unref(inotify_source_);
    sd_event_source_disable_unref(purge_source_);
    sd_event_source_disable_unref(announce_source_);
    if (inotify_fd_ >= 0)
        close(inotify_fd_);  // drops every watch
    sd_event_unref(event_);
}

bool CgroupResolver::watch(sd_event* event, uint64_t removed_grace_ns, Forget forget) {
    const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log_notice(
            "Cannot follow the cgroup tree (inotify: %s): cgroups are looked up when seen, and a container "
            "that exits quickly may go unnamed",
            std::strerror(errno));
        return false;
    }
    int r = sd_event_add_io(event, &inotify_source_, fd, EPOLLIN, on_inotify, this);
    if (r >= 0)
        r = sd_event_add_time(event, &purge_source_, CLOCK_MONOTONIC, 0, 0, on_purge, this);
    if (r >= 0)
        r = sd_event_add_defer(event, &announce_source_, on_announce, this);
    if (r < 0) {
        log_notice("Cannot follow the cgroup tree (event loop: %s)", std::strerror(-r));
        for (sd_event_source** source : {&inotify_source_, &purge_source_})
            *source = sd_event_source_disable_unref(*source);
        close(fd);
        return false;
    }
    sd_event_source_set_enabled(purge_source_, SD_EVENT_OFF);
    sd_event_source_set_enabled(announce_source_, SD_EVENT_OFF);
    event_ = sd_event_ref(event);
    inotify_fd_ = fd;
    grace_ns_ = removed_grace_ns;
    forget_ = std::move(forget);
    fallback_.clear();
    complete_ = true;  // until a cgroup cannot be mirrored
    add_tree("/", nullptr, Announce::never);
    return true;
}

// Adds `relative` and every cgroup below it. Each directory is watched before
// fts lists its children, so a child made meanwhile is either listed or
// announced by inotify (or both: adding is idempotent).
void CgroupResolver::add_tree(const std::string& relative, std::unordered_set<uint64_t>* seen, Announce announce) {
    std::string top = relative == "/" ? root_ : root_ + relative;
    char* roots[] = {top.data(), nullptr};
    FTS* fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, nullptr);
    if (!fts)
        return;
    while (FTSENT* entry = fts_read(fts)) {
        if (entry->fts_info != FTS_D)
            continue;
        std::string path(entry->fts_path + root_.size());
        if (path.empty())
            path = "/";
        const bool added = add_cgroup(path, entry->fts_statp->st_ino);
        if (added && created_ && announce == Announce::now) {
            created_(entry->fts_statp->st_ino, path);
        } else if (added && created_ && announce == Announce::later) {
            unannounced_.emplace_back(entry->fts_statp->st_ino, path);
            sd_event_source_set_enabled(announce_source_, SD_EVENT_ONESHOT);
        }
        if (seen)
            seen->insert(entry->fts_statp->st_ino);
    }
    fts_close(fts);
}

// True when the cgroup was not mirrored before.
bool CgroupResolver::add_cgroup(const std::string& relative, uint64_t cgroup_id) {
    if (auto it = mirror_.find(cgroup_id); it != mirror_.end() && !it->second.removed)
        return false;  // known already
    if (mirror_.size() >= capacity_) {
        purge_removed(UINT64_MAX);  // removed ones go early rather than live ones go unmirrored
        if (mirror_.size() >= capacity_) {
            mirror_incomplete("more cgroups than the mirror holds");
            return false;
        }
    }
    const std::string absolute = relative == "/" ? root_ : root_ + relative;
    const int watch = inotify_add_watch(inotify_fd_, absolute.c_str(), watch_mask);
    if (watch < 0) {
        if (errno == ENOSPC)
            mirror_incomplete("the inotify watch limit (fs.inotify.max_user_watches) is reached");
        else if (errno != ENOENT)  // ENOENT: already gone again
            mirror_incomplete(std::strerror(errno));
        return false;
    }
    // The inode may differ from what fts saw if the name was reused since:
    // the watch is on what is there now.
    struct stat st;
    if (stat(absolute.c_str(), &st) == 0)
        cgroup_id = st.st_ino;
    if (auto old = live_id_by_path_.find(relative); old != live_id_by_path_.end() && old->second != cgroup_id)
        mark_removed(old->second, monotonic_ns());  // its removal went unseen
    mirror_[cgroup_id] = Mirrored{relative, watch, false};
    id_by_watch_[watch] = cgroup_id;
    live_id_by_path_[relative] = cgroup_id;
    return true;
}

void CgroupResolver::mirror_incomplete(const char* why) {
    if (complete_)
        log_notice("Not every cgroup can be followed (%s): the others are looked up when seen", why);
    complete_ = false;
}

void CgroupResolver::mark_removed(uint64_t cgroup_id, uint64_t now_ns) {
    auto it = mirror_.find(cgroup_id);
    if (it == mirror_.end() || it->second.removed)
        return;
    Mirrored& cgroup = it->second;
    cgroup.removed = true;
    // The kernel keeps a watch on a removed cgroup until its inode goes; it
    // is of no use any more.
    inotify_rm_watch(inotify_fd_, cgroup.watch);
    id_by_watch_.erase(cgroup.watch);
    cgroup.watch = -1;
    live_id_by_path_.erase(cgroup.path);
    removed_.emplace_back(cgroup_id, now_ns + grace_ns_);
    if (removed_.size() == 1)
        arm_purge();
}

void CgroupResolver::read_events(Announce announce) {
    // Large enough for a burst of container starts; aligned for the structs.
    alignas(struct inotify_event) char buffer[16384];
    uint64_t now_ns = 0;
    for (;;) {
        const ssize_t length = read(inotify_fd_, buffer, sizeof buffer);
        if (length <= 0)
            return;  // EAGAIN: all read
        for (ssize_t offset = 0; offset < length;) {
            const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
            offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
            if (event->mask & IN_Q_OVERFLOW) {
                resync(announce);
                continue;
            }
            auto parent = id_by_watch_.find(event->wd);
            if (parent == id_by_watch_.end())
                continue;  // a watch we removed, or IN_IGNORED for it
            if (event->mask & IN_IGNORED) {
                id_by_watch_.erase(parent);
                continue;
            }
            if (!(event->mask & IN_ISDIR) || event->len == 0)
                continue;
            auto parent_cgroup = mirror_.find(parent->second);
            if (parent_cgroup == mirror_.end())
                continue;
            const std::string path = child_path(parent_cgroup->second.path, event->name);
            if (event->mask & IN_CREATE) {
                add_tree(path, nullptr, announce);
            } else if (event->mask & IN_DELETE) {
                if (auto child = live_id_by_path_.find(path); child != live_id_by_path_.end()) {
                    if (now_ns == 0)
                        now_ns = monotonic_ns();
                    mark_removed(child->second, now_ns);
                }
            }
        }
    }
}

// The kernel dropped events: learn the tree again, and treat what is no
// longer there as removed.
void CgroupResolver::resync(Announce announce) {
    std::unordered_set<uint64_t> seen;
    add_tree("/", &seen, announce);
    const uint64_t now_ns = monotonic_ns();
    std::vector<uint64_t> gone;
    for (const auto& [id, cgroup] : mirror_)
        if (!cgroup.removed && !seen.contains(id))
            gone.push_back(id);
    for (uint64_t id : gone)
        mark_removed(id, now_ns);
}

void CgroupResolver::purge_removed(uint64_t now_ns) {
    while (!removed_.empty() && removed_.front().second <= now_ns) {
        const uint64_t id = removed_.front().first;
        removed_.pop_front();
        auto it = mirror_.find(id);
        if (it == mirror_.end() || !it->second.removed)
            continue;  // back again (it cannot be, cgroup ids are not reused; harmless)
        const std::string path = std::move(it->second.path);
        mirror_.erase(it);
        if (forget_)
            forget_(id, path);
    }
}

void CgroupResolver::arm_purge() {
    if (removed_.empty()) {
        sd_event_source_set_enabled(purge_source_, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(purge_source_, removed_.front().second / 1000);
    sd_event_source_set_enabled(purge_source_, SD_EVENT_ONESHOT);
}

int CgroupResolver::on_inotify(sd_event_source*, int, uint32_t, void* self) {
    static_cast<CgroupResolver*>(self)->read_events(Announce::now);
    return 0;
}

int CgroupResolver::on_announce(sd_event_source*, void* self_pointer) {
    auto* self = static_cast<CgroupResolver*>(self_pointer);
    // Taken out first: the caller may look paths up, and queue more.
    auto batch = std::move(self->unannounced_);
    self->unannounced_.clear();
    for (const auto& [cgroup_id, path] : batch)
        self->created_(cgroup_id, path);
    return 0;
}

int CgroupResolver::on_purge(sd_event_source*, uint64_t, void* self_pointer) {
    auto* self = static_cast<CgroupResolver*>(self_pointer);
    self->purge_removed(monotonic_ns());
    self->arm_purge();
    return 0;
}

void CgroupResolver::remember(uint64_t cgroup_id, std::string path) {
    if (fallback_.size() >= capacity_)
        fallback_.clear();  // cgroups churn slowly; refilling is cheap and bounded
    fallback_[cgroup_id] = std::move(path);
}

bool CgroupResolver::try_process(uint64_t cgroup_id, uint32_t pid) {
    if (pid == 0)
        return false;
    auto path = cgroup2_path_from_proc(read_text_file("/proc/" + std::to_string(pid) + "/cgroup"));
    if (!path)
        return false;
    struct stat st;
    if (stat((root_ + *path).c_str(), &st) < 0 || st.st_ino != cgroup_id)
        return false;  // the process moved since it sent, or the cgroup is gone
    remember(cgroup_id, std::move(*path));
    return true;
}

void CgroupResolver::walk_tree() {
    char* roots[] = {root_.data(), nullptr};
    FTS* fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, nullptr);
    if (!fts)
        return;
    while (FTSENT* entry = fts_read(fts)) {
        if (entry->fts_info != FTS_D || mirror_.contains(entry->fts_statp->st_ino))
            continue;
        std::string relative(entry->fts_path + root_.size());
        if (relative.empty())
            relative = "/";
        remember(entry->fts_statp->st_ino, std::move(relative));
    }
    fts_close(fts);
}

const std::string& CgroupResolver::path(uint64_t cgroup_id, uint32_t pid, uint64_t now_ns) {
    static const std::string unknown;
    if (cgroup_id == 0)
        return unknown;
    if (auto it = mirror_.find(cgroup_id); it != mirror_.end())
        return it->second.path;
    if (watching()) {
        // Its creation may be queued still, behind the packet that named it.
        read_events(Announce::later);
        if (auto it = mirror_.find(cgroup_id); it != mirror_.end())
            return it->second.path;
        if (complete_)
            return unknown;  // made and removed before we could see it
    }
    if (auto it = fallback_.find(cgroup_id); it != fallback_.end())
        return it->second;
    if (try_process(cgroup_id, pid))
        return fallback_[cgroup_id];
    if (!walked_ || now_ns - last_walk_ns_ >= walk_interval_ns) {
        walked_ = true;
        last_walk_ns_ = now_ns;
        walk_tree();
        if (auto it = fallback_.find(cgroup_id); it != fallback_.end())
            return it->second;
    }
    return unknown;
}

}  // namespace dnsvis
