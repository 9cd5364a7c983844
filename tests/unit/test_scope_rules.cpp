#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "container_match.hpp"
#include "scope_rules.hpp"

using namespace dnsvis;

namespace {

const std::string docker_id = "4a7d2c9f1e3b5a8d0c6e2f4b7a9d1c3e5f7b9a2d4c6e8f0a1b3d5c7e9f2a4b6d";

ScopeDecision decide(const ScopeRules& rules, uint32_t pid, std::string_view path, bool default_global = false) {
    return evaluate_scope(rules, default_global, pid, path);
}

}  // namespace

TEST_CASE("unit rule names: what systemd's unit_name_is_valid accepts for a loadable unit") {
    for (const char* name :
         {"nginx.service", "user.slice", "user-1000.slice", "user@1000.service", "session-3.scope", "-.slice",
          "getty@tty1.service", "dbus.socket", "multi-user.target", "var-lib.mount", "swapfile.swap",
          "systemd-fsck@dev-disk-by\\x2duuid-1.service", "a.b.c.service", "weird:name_.service"}) {
        INFO(name);
        CHECK(unit_rule_name_error(name).empty());
    }
    std::string longest(255 - 8, 'a');
    CHECK(unit_rule_name_error(longest + ".service").empty());
    CHECK(unit_rule_name_error(longest + "a.service") == "the unit name is longer than 255 characters");

    CHECK(unit_rule_name_error("") == "the unit name is empty");
    for (const char* name :
         {"nginx", ".service", "foo.", "foo.unknown", "foo.Service", "@foo.service", "foo bar.service",
          "foo/bar.service", "f\xc3\xa9.service", "foo!.service", "../x.service", "foo.service\n"}) {
        INFO(name);
        const std::string why = unit_rule_name_error(name);
        CHECK(why.find("is not a valid unit name") != std::string::npos);
    }
    // A template has no cgroup of its own.
    CHECK(unit_rule_name_error("getty@.service").find("template") != std::string::npos);
}

TEST_CASE("container rule ids") {
    CHECK(container_rule_id_error(docker_id).empty());
    CHECK(container_rule_id_error("my-ctr_1.test").empty());
    CHECK(container_rule_id_error("") == "the container id is empty");
    CHECK_FALSE(container_rule_id_error("a/b").empty());
    CHECK(container_rule_id_error("/web").empty());  // Docker's form of a name
    CHECK(container_rule_id_error("/") == "the container name is empty");
    CHECK_FALSE(container_rule_id_error("//web").empty());
    CHECK_FALSE(container_rule_id_error("a\nb").empty());
    CHECK_FALSE(container_rule_id_error(std::string(256, 'a')).empty());
}

TEST_CASE("unit_of_cgroup_name and cgroup_holds_units") {
    CHECK(unit_of_cgroup_name("nginx.service") == "nginx.service");
    CHECK(unit_of_cgroup_name("_cpu.service") == "cpu.service");  // systemd's escape
    CHECK(unit_of_cgroup_name("payload") == "");
    CHECK(unit_of_cgroup_name(docker_id) == "");
    CHECK(unit_of_cgroup_name("foo@.service") == "");

    CHECK(cgroup_holds_units("system.slice"));
    CHECK(cgroup_holds_units("user@1000.service"));
    CHECK_FALSE(cgroup_holds_units("user@.service"));
    CHECK_FALSE(cgroup_holds_units("user@abc.service"));
    CHECK_FALSE(cgroup_holds_units("nginx.service"));
    CHECK_FALSE(cgroup_holds_units("session-3.scope"));
}

TEST_CASE("evaluate_scope: global alone") {
    ScopeRules rules;
    CHECK(decide(rules, 42, "/system.slice/nginx.service", true) == ScopeDecision{true, ScopeDecidedBy::global, ""});
    CHECK(decide(rules, 42, "/system.slice/nginx.service", false).visible == false);
    rules.global = true;  // set explicitly: the default no longer matters
    CHECK(decide(rules, 0, "", false).visible);
}

TEST_CASE("evaluate_scope: the deepest unit decides") {
    ScopeRules rules;
    rules.units["user.slice"] = false;
    rules.units["user@1000.service"] = true;
    rules.units["app-firefox.scope"] = false;
    const char* manager = "/user.slice/user-1000.slice/user@1000.service";
    CHECK(decide(rules, 0, std::string(manager) + "/app.slice/app-gedit.service", true) ==
          ScopeDecision{true, ScopeDecidedBy::unit, "user@1000.service"});
    CHECK(decide(rules, 0, std::string(manager) + "/app.slice/app-firefox.scope/sub", true) ==
          ScopeDecision{false, ScopeDecidedBy::unit, "app-firefox.scope"});
    CHECK(decide(rules, 0, "/user.slice/user-1000.slice/session-3.scope", true) ==
          ScopeDecision{false, ScopeDecidedBy::unit, "user.slice"});
    // A unit covers its whole subtree, including cgroups made later.
    rules.units["nginx.service"] = true;
    CHECK(decide(rules, 0, "/system.slice/nginx.service/worker/deeper", false).visible);
    // Names inside another unit are that unit's own cgroups, not units.
    rules.units["inner.service"] = true;
    CHECK(decide(rules, 0, "/system.slice/machine.service/payload/system.slice/inner.service", false) ==
          ScopeDecision{false, ScopeDecidedBy::global, ""});
    // The root slice is the root cgroup.
    rules.units["-.slice"] = true;
    CHECK(decide(rules, 0, "/init.scope", false) == ScopeDecision{true, ScopeDecidedBy::unit, "-.slice"});
    CHECK(decide(rules, 0, "/system.slice/nginx.service", false).rule == "nginx.service");
    // escaped cgroup names
    rules.units["cpu.service"] = false;
    CHECK(decide(rules, 0, "/system.slice/_cpu.service", true) ==
          ScopeDecision{false, ScopeDecidedBy::unit, "cpu.service"});
}

TEST_CASE("evaluate_scope: container beats unit, process beats both") {
    ScopeRules rules;
    const std::string scope = "docker-" + docker_id + ".scope";
    const std::string path = "/system.slice/" + scope;
    rules.units["system.slice"] = true;
    rules.units[scope] = true;
    rules.containers[docker_id] = false;
    CHECK(decide(rules, 7, path, true) == ScopeDecision{false, ScopeDecidedBy::container, docker_id});
    CHECK(decide(rules, 7, path + "/init.scope", true).by == ScopeDecidedBy::container);
    // cgroupfs driver layout, nested container: the outermost decides.
    CHECK(decide(rules, 7, "/docker/" + docker_id + "/docker/" + std::string(64, 'e'), true) ==
          ScopeDecision{false, ScopeDecidedBy::container, docker_id});

    rules.processes[7] = ProcessRule{123, true};
    CHECK(decide(rules, 7, path, false) == ScopeDecision{true, ScopeDecidedBy::process, "7"});
    CHECK(decide(rules, 8, path, true).by == ScopeDecidedBy::container);
    // An unknown owner (pid 0) never matches a process rule.
    rules.processes[0] = ProcessRule{1, true};
    CHECK(decide(rules, 0, path, true).by == ScopeDecidedBy::container);
}

TEST_CASE("evaluate_scope: a monitor cgroup is not its container") {
    ScopeRules rules;
    rules.containers[docker_id] = true;
    CHECK(decide(rules, 0, "/machine.slice/libpod-conmon-" + docker_id + ".scope", false) ==
          ScopeDecision{false, ScopeDecidedBy::global, ""});
    CHECK(decide(rules, 0, "/machine.slice/libpod-" + docker_id + ".scope", false).visible);
}

TEST_CASE("evaluate_scope: a cgroup in a user's manager is not the container it is named after") {
    ScopeRules rules;
    rules.containers[docker_id] = false;
    const std::string user = "/user.slice/user-1000.slice/user@1000.service/app.slice/";
    CHECK(decide(rules, 0, user + "docker-" + docker_id + ".scope", true) ==
          ScopeDecision{true, ScopeDecidedBy::global, ""});
    rules.units["app.slice"] = false;
    CHECK(decide(rules, 0, user + "docker-" + docker_id + ".scope", true) ==
          ScopeDecision{false, ScopeDecidedBy::unit, "app.slice"});
    CHECK(decide(rules, 0, "/system.slice/docker-" + docker_id + ".scope", true).by == ScopeDecidedBy::container);
}

TEST_CASE("match_container: Docker's order, id then name then unique prefix") {
    const std::string a = "4a7d" + std::string(60, '1');
    const std::string b = "4a7e" + std::string(60, '2');
    const std::string c = "9f00" + std::string(60, '3');
    const std::vector<KnownContainer> known = {{a, "web"}, {b, "db"}, {c, "4a7d"}, {a, "web"}};

    auto found = [&](std::string_view query) {
        ContainerMatchResult r = match_container(query, known);
        return r.match == ContainerMatch::found ? r.id : std::string("-");
    };
    CHECK(found(a) == a);
    CHECK(found("web") == a);
    CHECK(found("/db") == b);
    CHECK(found("4a7e") == b);
    CHECK(found("9") == c);
    // A name beats a prefix: "4a7d" is c's name and a prefix of a's id.
    CHECK(found("4a7d") == c);

    const ContainerMatchResult ambiguous = match_container("4a7", known);
    CHECK(ambiguous.match == ContainerMatch::ambiguous);
    CHECK(ambiguous.matches == 2);  // a is listed twice but is one container
    CHECK_FALSE(ambiguous.by_name);

    CHECK(match_container("nosuch", known).match == ContainerMatch::none);
    CHECK(match_container("", known).match == ContainerMatch::none);
    CHECK(match_container("/", known).match == ContainerMatch::none);
    CHECK(match_container(a + "0", known).match == ContainerMatch::none);
    CHECK(match_container("web", {}).match == ContainerMatch::none);

    const ContainerMatchResult twins = match_container("same", {{a, "same"}, {b, "same"}});
    CHECK(twins.match == ContainerMatch::ambiguous);
    CHECK(twins.by_name);
}
