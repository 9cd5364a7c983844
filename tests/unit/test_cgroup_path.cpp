#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cgroup_path.hpp"

#include "cgroup_fixture.hpp"

using namespace dnsvis;
using dnsvis::test::cgroup_fixture_path;
using dnsvis::test::split_tabs;

namespace {

std::string dash_to_empty(const std::string& s) {
    return s == "-" ? std::string() : s;
}

struct FixtureEntry {
    unsigned line = 0;
    std::string path, unit, user_unit, slice;
};

}  // namespace

TEST_CASE("cgroup fixture: every real-world path maps to its units") {
    std::ifstream in(cgroup_fixture_path());
    REQUIRE_MESSAGE(in.good(), "cannot open fixture " << cgroup_fixture_path());

    std::vector<FixtureEntry> entries;
    std::string line, previous;
    unsigned number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line.front() == '#') {
            previous = line;
            continue;
        }
        INFO("fixture line " << number << ": " << line);
        CHECK_MESSAGE((!previous.empty() && previous.front() == '#'),
                      "an entry must follow a comment saying where it comes from");
        std::vector<std::string> columns = split_tabs(line);
        REQUIRE(columns.size() >= 4);
        entries.push_back({number, columns[0], dash_to_empty(columns[1]), dash_to_empty(columns[2]),
                           dash_to_empty(columns[3])});
        previous = line;
    }
    CHECK(entries.size() >= 30);

    for (const FixtureEntry& e : entries) {
        INFO("fixture line " << e.line << ": " << e.path);
        CgroupUnits units = units_from_cgroup_path(e.path);
        CHECK(units.unit == e.unit);
        CHECK(units.user_unit == e.user_unit);
        CHECK(units.slice == e.slice);
        // Every name the fixture expects must itself pass the validator.
        if (!e.unit.empty())
            CHECK(is_valid_unit_name(e.unit));
        if (!e.user_unit.empty())
            CHECK(is_valid_unit_name(e.user_unit));
        if (!e.slice.empty())
            CHECK(is_valid_unit_name(e.slice));
    }
}

TEST_CASE("units_from_cgroup_path: edge cases") {
    SUBCASE("empty path and root") {
        for (const char* p : {"", "/", "//"}) {
            CgroupUnits u = units_from_cgroup_path(p);
            CHECK(u.unit.empty());
            CHECK(u.user_unit.empty());
            CHECK(u.slice.empty());
        }
    }
    SUBCASE("repeated and trailing slashes are tolerated") {
        CgroupUnits u = units_from_cgroup_path("//system.slice//nginx.service/");
        CHECK(u.unit == "nginx.service");
        CHECK(u.slice == "system.slice");
    }
    SUBCASE("path without a leading slash") {
        CgroupUnits u = units_from_cgroup_path("system.slice/nginx.service");
        CHECK(u.unit == "nginx.service");
        CHECK(u.slice == "system.slice");
    }
    SUBCASE("only slices: no unit, innermost slice") {
        CgroupUnits u = units_from_cgroup_path("/user.slice/user-1000.slice");
        CHECK(u.unit.empty());
        CHECK(u.user_unit.empty());
        CHECK(u.slice == "user-1000.slice");
    }
    SUBCASE("a non-unit first component hides units below it") {
        CgroupUnits u = units_from_cgroup_path("/docker/abc/system.slice/foo.service");
        CHECK(u.unit.empty());
        CHECK(u.slice.empty());
    }
    SUBCASE("non-unit component after slices: slice kept, no unit") {
        CgroupUnits u = units_from_cgroup_path("/system.slice/notaunit/foo.service");
        CHECK(u.unit.empty());
        CHECK(u.slice == "system.slice");
    }
    SUBCASE("a template cannot be a running unit") {
        CgroupUnits u = units_from_cgroup_path("/system.slice/getty@.service");
        CHECK(u.unit.empty());
        CHECK(u.slice == "system.slice");
    }
    SUBCASE("an instance slice is not skipped and is not a unit") {
        CgroupUnits u = units_from_cgroup_path("/system.slice/foo@bar.slice/x.service");
        CHECK(u.unit.empty());
        CHECK(u.slice == "system.slice");
    }
    SUBCASE("leading underscore escape on units and slices") {
        CgroupUnits u = units_from_cgroup_path("/_tasks.slice/_cpu.service");
        CHECK(u.unit == "cpu.service");
        CHECK(u.slice == "tasks.slice");
        u = units_from_cgroup_path("/system.slice/__foo.service");
        CHECK(u.unit == "_foo.service");
    }
    SUBCASE("user manager without a unit below it") {
        CgroupUnits u = units_from_cgroup_path("/user.slice/user-1000.slice/user@1000.service");
        CHECK(u.unit == "user@1000.service");
        CHECK(u.user_unit.empty());
        CHECK(u.slice == "user-1000.slice");
    }
    SUBCASE("user manager with only slices below it") {
        CgroupUnits u = units_from_cgroup_path("/user.slice/user-1000.slice/user@1000.service/app.slice");
        CHECK(u.unit == "user@1000.service");
        CHECK(u.user_unit.empty());
    }
    SUBCASE("nested cgroups below a user unit are ignored") {
        CgroupUnits u = units_from_cgroup_path(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-flatpak-org.example.App-123.scope/sub");
        CHECK(u.user_unit == "app-flatpak-org.example.App-123.scope");
    }
    SUBCASE("user@ with a non-numeric or invalid uid is an ordinary unit") {
        CgroupUnits u = units_from_cgroup_path("/user.slice/user@abc.service/app.slice/foo.service");
        CHECK(u.unit == "user@abc.service");
        CHECK(u.user_unit.empty());
        u = units_from_cgroup_path("/user.slice/user@4294967295.service/foo.service");
        CHECK(u.unit == "user@4294967295.service");
        CHECK(u.user_unit.empty());
    }
    SUBCASE("like systemd, units below a session scope count as user units") {
        CgroupUnits u = units_from_cgroup_path("/user.slice/user-1000.slice/session-2.scope/foo.service");
        CHECK(u.unit == "session-2.scope");
        CHECK(u.user_unit == "foo.service");
        u = units_from_cgroup_path("/user.slice/user-1000.slice/session-2.scope/payload");
        CHECK(u.unit == "session-2.scope");
        CHECK(u.user_unit.empty());
    }
    SUBCASE("a service under some other service is not a user unit") {
        CgroupUnits u = units_from_cgroup_path("/system.slice/foo.service/bar.service");
        CHECK(u.unit == "foo.service");
        CHECK(u.user_unit.empty());
    }
}

TEST_CASE("find_cgroup2_mount") {
    SUBCASE("hybrid layout (this is a real mountinfo)") {
        const char* text =
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/sys/fs/cgroup/unified"));
    }
    SUBCASE("pure cgroup2 with optional fields before the separator") {
        const char* text =
            "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
            "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
            "26 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
            "rw,nsdelegate,memory_recursiveprot\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/sys/fs/cgroup"));
    }
    SUBCASE("several optional fields") {
        const char* text = "26 24 0:23 / /sys/fs/cgroup rw shared:4 master:1 propagate_from:2 - cgroup2 none rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/sys/fs/cgroup"));
    }
    SUBCASE("the first cgroup2 mount wins") {
        const char* text =
            "26 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
            "90 26 0:23 / /run/other rw - cgroup2 cgroup2 rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/sys/fs/cgroup"));
    }
    SUBCASE("escaped mount point") {
        const char* text =
            "26 24 0:23 / /mnt/my\\040cgroup\\011tab\\012nl\\134bs rw,relatime - cgroup2 cgroup2 rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/mnt/my cgroup\ttab\nnl\\bs"));
    }
    SUBCASE("a backslash that is not an octal escape is kept") {
        const char* text = "26 24 0:23 / /mnt/a\\x2db\\04 rw - cgroup2 cgroup2 rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/mnt/a\\x2db\\04"));
    }
    SUBCASE("a mount point that merely looks like the type does not match") {
        const char* text = "26 24 0:23 / /cgroup2 rw - tmpfs cgroup2 rw\n";
        CHECK_FALSE(find_cgroup2_mount(text).has_value());
    }
    SUBCASE("no trailing newline") {
        CHECK(find_cgroup2_mount("26 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw") ==
              std::optional<std::string>("/sys/fs/cgroup"));
    }
    SUBCASE("no cgroup2 mount") {
        const char* text =
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n";
        CHECK_FALSE(find_cgroup2_mount(text).has_value());
        CHECK_FALSE(find_cgroup2_mount("").has_value());
    }
    SUBCASE("malformed lines are skipped") {
        const char* text =
            "garbage\n"
            "1 2 3\n"
            "- cgroup2\n"
            "26 24 0:23 / /x rw -\n"
            "26 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        CHECK(find_cgroup2_mount(text) == std::optional<std::string>("/sys/fs/cgroup"));
    }
}

TEST_CASE("cgroup2_path_from_proc") {
    SUBCASE("pure cgroup2: the only line") {
        CHECK(cgroup2_path_from_proc("0::/system.slice/nginx.service\n") ==
              std::optional<std::string>("/system.slice/nginx.service"));
    }
    SUBCASE("hybrid: among v1 lines") {
        const char* text =
            "12:cpuset:/\n"
            "11:memory:/user.slice/user-1000.slice/session-2.scope\n"
            "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
            "0::/user.slice/user-1000.slice/session-2.scope\n";
        CHECK(cgroup2_path_from_proc(text) == std::optional<std::string>("/user.slice/user-1000.slice/session-2.scope"));
    }
    SUBCASE("the root") {
        CHECK(cgroup2_path_from_proc("0::/\n") == std::optional<std::string>("/"));
    }
    SUBCASE("no trailing newline") {
        CHECK(cgroup2_path_from_proc("1:name=systemd:/\n0::/init.scope") == std::optional<std::string>("/init.scope"));
    }
    SUBCASE("a removed cgroup") {
        CHECK(cgroup2_path_from_proc("0::/system.slice/foo.service (deleted)\n") ==
              std::optional<std::string>("/system.slice/foo.service"));
    }
    SUBCASE("a v1 line with hierarchy id 10 is not the 0:: line") {
        CHECK_FALSE(cgroup2_path_from_proc("10::/x\n").has_value());
    }
    SUBCASE("missing 0:: line") {
        const char* text =
            "12:cpuset:/\n"
            "1:name=systemd:/init.scope\n";
        CHECK_FALSE(cgroup2_path_from_proc(text).has_value());
        CHECK_FALSE(cgroup2_path_from_proc("").has_value());
        CHECK_FALSE(cgroup2_path_from_proc("0::\n").has_value());
    }
}

TEST_CASE("is_valid_unit_name") {
    for (const char* name :
         {"foo.service", "a-b.slice", "getty@tty1.service", "foo@.service", "init.scope", "-.slice", "-.mount",
          "dev-sda1.device", "var-lib.automount", "swapfile.swap", "dbus.socket", "multi-user.target",
          "fstrim.timer", "foo.path", "a.b.c.service", "systemd-fsck@dev-disk-by\\x2duuid-1.service",
          "weird:name_.service", "foo@bar@baz.service"}) {
        INFO(name);
        CHECK(is_valid_unit_name(name));
    }
    std::string longest(255 - 8, 'a');
    CHECK(is_valid_unit_name(longest + ".service"));
    CHECK_FALSE(is_valid_unit_name(longest + "a.service"));

    for (const char* name :
         {"", "foo", ".service", "foo.", "foo.unknown", "foo.Service", "@foo.service", "@.service",
          "foo bar.service", "foo/bar.service", "f\xc3\xa9.service", "foo.service.", "foo!.service"}) {
        INFO(name);
        CHECK_FALSE(is_valid_unit_name(name));
    }
}
