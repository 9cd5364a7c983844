// ProcessCache: /proc for a live process; for one that has exited, the
// executable the exited-process source names, asked once.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include "process_cache.hpp"

using dnsvis::ProcessCache;

namespace {

struct ExitedAsked {
    uint32_t pid;
    std::string comm;
    uint64_t seen_ns;
};

// A child that exits at once. Reaped: its pid is gone from /proc. Not
// reaped: a zombie, whose /proc/PID/exe no longer resolves either.
pid_t exited_child(bool reap) {
    const pid_t child = fork();
    if (child == 0)
        _exit(0);
    REQUIRE(child > 0);
    if (reap) {
        REQUIRE(waitpid(child, nullptr, 0) == child);
    } else {
        siginfo_t info{};
        REQUIRE(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
    }
    return child;
}

std::string own_exe() {
    char target[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", target, sizeof target - 1);
    REQUIRE(n > 0);
    return std::string(target, static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("process cache: a live process is read from /proc, not from the exec records") {
    std::vector<ExitedAsked> asked;
    ProcessCache cache;
    cache.set_exited_exe([&asked](uint32_t pid, std::string_view comm, uint64_t seen_ns) {
        asked.push_back({pid, std::string(comm), seen_ns});
        return std::string("/wrong");
    });
    const auto& info = cache.lookup(static_cast<uint32_t>(getpid()), "thread-name", 1);
    CHECK(info.exe == own_exe());
    CHECK_FALSE(info.comm.empty());
    CHECK(asked.empty());
}

TEST_CASE("process cache: an exited process's executable is asked for once") {
    for (bool reaped : {true, false}) {
        CAPTURE(reaped);
        const pid_t child = exited_child(reaped);
        std::vector<ExitedAsked> asked;
        ProcessCache cache;
        cache.set_exited_exe([&asked](uint32_t pid, std::string_view comm, uint64_t seen_ns) {
            asked.push_back({pid, std::string(comm), seen_ns});
            return std::string("/usr/bin/getent");
        });
        const uint32_t pid = static_cast<uint32_t>(child);
        CHECK(cache.lookup(pid, "getent", 42).exe == "/usr/bin/getent");
        REQUIRE(asked.size() == 1);
        CHECK(asked[0].pid == pid);
        CHECK(asked[0].comm == "getent");
        CHECK(asked[0].seen_ns == 42);

        // Cached: the report after the answer finds it without asking.
        CHECK(cache.lookup(pid, "getent", 43).exe == "/usr/bin/getent");
        CHECK(asked.size() == 1);
        // Another name with the pid is another program: asked again.
        cache.lookup(pid, "curl", 44);
        REQUIRE(asked.size() == 2);
        CHECK(asked[1].comm == "curl");
        if (!reaped)
            waitpid(child, nullptr, 0);
    }
}

TEST_CASE("process cache: without an exec source an exited process has no executable") {
    const pid_t child = exited_child(true);
    ProcessCache cache;
    const auto& info = cache.lookup(static_cast<uint32_t>(child), "getent", 1);
    CHECK(info.exe.empty());
    CHECK(info.comm.empty());
}
