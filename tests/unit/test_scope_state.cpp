#include <doctest/doctest.h>

#include <string>

#include "process_stat.hpp"
#include "scope_state.hpp"

using namespace dnsvis;

namespace {

ScopeRules sample() {
    ScopeRules rules;
    rules.global = false;
    rules.units["nginx.service"] = true;
    rules.units["user.slice"] = false;
    rules.containers[std::string(64, 'a')] = true;
    rules.processes[4242] = ProcessRule{987654321, true};
    rules.processes[4294967295u] = ProcessRule{UINT64_MAX, false};
    return rules;
}

std::string refused(std::string_view text) {
    ScopeRules rules = sample();
    const ScopeRules before = rules;
    std::string error;
    CHECK_FALSE(parse_scope_state(text, rules, error));
    CHECK(rules == before);  // untouched on failure
    CHECK_FALSE(error.empty());
    return error;
}

}  // namespace

TEST_CASE("scope state: round trip") {
    const ScopeRules rules = sample();
    const std::string text = format_scope_state(rules);
    CHECK(text.back() == '\n');
    CHECK(text.find("\"version\": 1") < text.find("\"global\""));
    ScopeRules back;
    std::string error;
    REQUIRE(parse_scope_state(text, back, error));
    CHECK(back == rules);

    ScopeRules empty;
    REQUIRE(parse_scope_state(format_scope_state(empty), back, error));
    CHECK(back == empty);
    CHECK_FALSE(back.global.has_value());
}

TEST_CASE("scope state: every prefix of a valid file is refused") {
    const std::string text = format_scope_state(sample());
    // Cut anywhere before the closing brace: never half a rule set.
    const size_t end = text.rfind('}');
    for (size_t length = 0; length < end; ++length) {
        INFO("cut at " << length);
        ScopeRules rules;
        std::string error;
        CHECK_FALSE(parse_scope_state(std::string_view(text).substr(0, length), rules, error));
    }
}

TEST_CASE("scope state: damaged and wrong-typed files") {
    CHECK(refused("") == "not valid JSON (cut short or damaged)");
    CHECK(refused("\x00\x01garbage") == "not valid JSON (cut short or damaged)");
    CHECK(refused("[]") == "not a JSON object");
    CHECK(refused("{}") == "no \"version\" number");
    CHECK(refused(R"({"version": "1", "global": null, "rules": []})") == "no \"version\" number");
    CHECK(refused(R"({"version": 2, "global": null, "rules": []})") == "version 2 is not the supported version 1");
    CHECK(refused(R"({"version": 1, "rules": []})") == "\"global\" is not true, false or null");
    CHECK(refused(R"({"version": 1, "global": "no", "rules": []})") == "\"global\" is not true, false or null");
    CHECK(refused(R"({"version": 1, "global": 0, "rules": []})") == "\"global\" is not true, false or null");
    CHECK(refused(R"({"version": 1, "global": true})") == "\"rules\" is not a list");
    CHECK(refused(R"({"version": 1, "global": true, "rules": {}})") == "\"rules\" is not a list");
    CHECK(refused(R"({"version": 1, "global": true, "rules": [1]})") == "rule 0 is not an object");
    CHECK(refused(R"({"version": 1, "global": true, "rules": [{"target": "a.service", "enabled": true}]})") ==
          "rule 0 has no \"kind\" string");
    CHECK(refused(R"({"version": 1, "global": true, "rules": [{"kind": "unit", "target": "a.service"}]})") ==
          "rule 0 has no \"enabled\" boolean");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"unit","target":"a.service","enabled":1}]})") ==
          "rule 0 has no \"enabled\" boolean");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"unit","target":5,"enabled":true}]})") ==
          "rule 0 has no \"target\" string");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"unit","target":"nope","enabled":true}]})")
              .find("rule 0: \"nope\" is not a valid unit name") == 0);
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"unit","target":"","enabled":true}]})") ==
          "rule 0: the unit name is empty");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"unit","target":"a.service","enabled":true},)"
                  R"({"kind":"unit","target":"a.service","enabled":false}]})") == "rule 1 repeats unit a.service");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"container","target":"","enabled":true}]})") ==
          "rule 0: the container id is empty");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"container","target":"../x","enabled":true}]})")
              .find("'/'") != std::string::npos);
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"container","target":"/web","enabled":true}]})") ==
          "rule 0: the container id begins with '/'");
    CHECK(
        refused(R"({"version":1,"global":true,"rules":[{"kind":"process","pid":0,"start_time":1,"enabled":true}]})") ==
        "rule 0 has no \"pid\" between 1 and 4294967295");
    CHECK(
        refused(R"({"version":1,"global":true,"rules":[{"kind":"process","pid":-5,"start_time":1,"enabled":true}]})") ==
        "rule 0 has no \"pid\" between 1 and 4294967295");
    CHECK(
        refused(
            R"({"version":1,"global":true,"rules":[{"kind":"process","pid":4294967296,"start_time":1,"enabled":true}]})") ==
        "rule 0 has no \"pid\" between 1 and 4294967295");
    CHECK(refused(
              R"({"version":1,"global":true,"rules":[{"kind":"process","pid":"12","start_time":1,"enabled":true}]})") ==
          "rule 0 has no \"pid\" between 1 and 4294967295");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"process","pid":12,"enabled":true}]})") ==
          "rule 0 has no \"start_time\" number");
    CHECK(refused(
              R"({"version":1,"global":true,"rules":[{"kind":"process","pid":12,"start_time":1.5,"enabled":true}]})") ==
          "rule 0 has no \"start_time\" number");
    CHECK(refused(R"({"version":1,"global":true,"rules":[{"kind":"socket","target":"x","enabled":true}]})") ==
          "rule 0 has an unknown kind \"socket\"");
}

TEST_CASE("scope state: a bounded number of rules") {
    std::string text = R"({"version":1,"global":null,"rules":[)";
    for (size_t i = 0; i <= max_scope_rules; ++i)
        text += (i ? "," : "") + std::string(R"({"kind":"unit","target":"u)") + std::to_string(i) +
                R"(.service","enabled":true})";
    text += "]}";
    CHECK(refused(text) == "more than 1024 rules");
}

TEST_CASE("start_time_from_proc_stat") {
    // A real line (dig), fields 3..22 and beyond.
    const char* line =
        "4242 (dig) S 4240 4242 4200 34816 4242 4194560 1234 0 0 0 3 1 0 0 20 0 5 0 987654 123456789 1234 "
        "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
    CHECK(start_time_from_proc_stat(line) == 987654u);
    // The command name may hold spaces and parentheses.
    CHECK(start_time_from_proc_stat("7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0") == 55u);
    CHECK_FALSE(start_time_from_proc_stat("").has_value());
    CHECK_FALSE(start_time_from_proc_stat("7 (x) R 1 2 3").has_value());
    CHECK_FALSE(start_time_from_proc_stat("7 x R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55").has_value());
    CHECK_FALSE(start_time_from_proc_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -55").has_value());
    CHECK_FALSE(
        start_time_from_proc_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999").has_value());
}

TEST_CASE("tgid_from_proc_status") {
    CHECK(tgid_from_proc_status(
              "Name:\tdig\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4243\n") == 4242u);
    CHECK(tgid_from_proc_status("Tgid: 1") == 1u);
    CHECK_FALSE(tgid_from_proc_status("").has_value());
    CHECK_FALSE(tgid_from_proc_status("Name:\tTgid:\t5\nPid:\t5\n").has_value());
    CHECK_FALSE(tgid_from_proc_status("Tgid:\t0\n").has_value());
    CHECK_FALSE(tgid_from_proc_status("Tgid:\t\n").has_value());
    CHECK_FALSE(tgid_from_proc_status("Tgid:\t12a\n").has_value());
    CHECK_FALSE(tgid_from_proc_status("Tgid:\t99999999999\n").has_value());
}
