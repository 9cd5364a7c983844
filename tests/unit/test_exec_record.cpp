// exe_from_exec_record: a record of a process's last exec names the
// executable of an exited client only when nothing says it is someone else's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "exec_record.hpp"

using dnsvis::exe_from_exec_record;

namespace {

constexpr uint64_t kExecNs = 5'000'000'000;

dnsvis_exec_record record_of(const char* comm, const std::string& path) {
    dnsvis_exec_record record{};
    record.since_ns = kExecNs;
    std::memcpy(record.comm, comm, std::min(std::strlen(comm), sizeof record.comm - 1));  // record{} holds the NUL
    const size_t length = std::min(path.size(), sizeof record.path - 1);
    std::memcpy(record.path, path.data(), length);
    record.path_len = static_cast<uint32_t>(length + 1);  // as bpf_probe_read_kernel_str counts
    return record;
}

}  // namespace

TEST_CASE("exec record: the querier's own exec names its executable") {
    const auto record = record_of("getent", "/usr/bin/getent");
    CHECK(exe_from_exec_record(record, kExecNs + 1'000'000, "getent") == "/usr/bin/getent");
    CHECK(exe_from_exec_record(record, kExecNs, "getent") == "/usr/bin/getent");  // same tick
}

TEST_CASE("exec record: a record taken after the packet is another program's") {
    // The pid was reused (exec or fork), or the querier exec'd something else since.
    const auto record = record_of("getent", "/usr/bin/getent");
    CHECK(exe_from_exec_record(record, kExecNs - 1, "getent").empty());
}

TEST_CASE("exec record: another name is another process that had the pid") {
    // A forked child that never exec'd reuses the pid of an exited program.
    const auto record = record_of("getent", "/usr/bin/getent");
    CHECK(exe_from_exec_record(record, kExecNs + 1, "nginx").empty());
    CHECK(exe_from_exec_record(record, kExecNs + 1, "").empty());
    CHECK(exe_from_exec_record(record, kExecNs + 1, "getentx").empty());
}

TEST_CASE("exec record: a name of the full 15 characters matches") {
    const auto record = record_of("systemd-resolve", "/usr/lib/systemd/systemd-resolved");
    CHECK(exe_from_exec_record(record, kExecNs + 1, "systemd-resolve") == "/usr/lib/systemd/systemd-resolved");
}

TEST_CASE("exec record: relative, empty and cut paths name nothing") {
    // Relative to a working directory that is not known.
    CHECK(exe_from_exec_record(record_of("dig", "./dig"), kExecNs + 1, "dig").empty());
    CHECK(exe_from_exec_record(record_of("dig", "dig"), kExecNs + 1, "dig").empty());
    CHECK(exe_from_exec_record(record_of("dig", ""), kExecNs + 1, "dig").empty());

    // The kernel's copy filled the whole buffer: the path may go on.
    const std::string long_path = "/" + std::string(300, 'a');
    const auto cut = record_of("dig", long_path);
    REQUIRE(cut.path_len == sizeof cut.path);
    CHECK(exe_from_exec_record(cut, kExecNs + 1, "dig").empty());

    // A path of 255 bytes fills it too, and cannot be told from a longer
    // one; 254 bytes is the longest taken.
    CHECK(exe_from_exec_record(record_of("dig", "/" + std::string(254, 'b')), kExecNs + 1, "dig").empty());
    const std::string longest = "/" + std::string(253, 'b');
    CHECK(exe_from_exec_record(record_of("dig", longest), kExecNs + 1, "dig") == longest);
}

TEST_CASE("exec record: a process's own view of a file names nothing") {
    // Resolved by dnsvisd, these would name dnsvisd's own files.
    CHECK(exe_from_exec_record(record_of("dig", "/proc/self/exe"), kExecNs + 1, "dig").empty());
    CHECK(exe_from_exec_record(record_of("dig", "/proc/4242/exe"), kExecNs + 1, "dig").empty());
    CHECK(exe_from_exec_record(record_of("dig", "/dev/fd/3"), kExecNs + 1, "dig").empty());
    CHECK(exe_from_exec_record(record_of("dig", "/dev/fd/3/dig"), kExecNs + 1, "dig").empty());
    // Not every path under /dev or /proc-like names is such a view.
    CHECK(exe_from_exec_record(record_of("dig", "/procedures/dig"), kExecNs + 1, "dig") == "/procedures/dig");
}

TEST_CASE("exec record: a length that disagrees with the path names nothing") {
    auto record = record_of("dig", "/usr/bin/dig");
    record.path_len += 4;  // a NUL inside what the length covers
    CHECK(exe_from_exec_record(record, kExecNs + 1, "dig").empty());
    record.path_len = 0;
    CHECK(exe_from_exec_record(record, kExecNs + 1, "dig").empty());
}
