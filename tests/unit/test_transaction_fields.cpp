#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "json_line.hpp"
#include "transaction_fields.hpp"

using namespace dnsvis;

namespace {

std::map<std::string, std::string> as_map(const FieldList& fields) {
    std::map<std::string, std::string> out;
    for (const Field& f : fields) {
        CHECK_MESSAGE(out.count(std::string(f.name)) == 0, "duplicate field ", f.name);
        out[std::string(f.name)] = f.value;
    }
    return out;
}

Endpoint endpoint(uint8_t last, uint16_t port) {
    Endpoint e;
    e.address = {127, 0, 0, last};
    e.port = port;
    return e;
}

Transaction answered() {
    Transaction t;
    t.outcome = Outcome::answered;
    t.id = 41215;
    t.question = {"www.example.test", 1, 1};
    t.query_flags = dns_flag::rd;
    t.client = endpoint(1, 40312);
    t.server = endpoint(53, 53);
    t.owner = {4242, 4242, 0, "curl", 9};
    t.query_ns = 1'000'000;
    t.response_ns = 1'412'000;
    ResponseSummary r;
    r.flags = dns_flag::qr | dns_flag::rd | dns_flag::ra;
    r.rcode = 0;
    r.answers.push_back({"www.example.test", 1, 1, 300, "192.0.2.10"});
    r.answers.push_back({"www.example.test", 1, 1, 300, "192.0.2.11"});
    t.response = r;
    return t;
}

}  // namespace

TEST_CASE("an answered transaction carries every contract field") {
    Attribution a;
    a.exe = "/usr/bin/curl";
    a.cgroup_path = "/system.slice/nginx.service";
    a.units.unit = "nginx.service";
    a.units.slice = "system.slice";
    FieldList fields;
    format_transaction_fields(answered(), a, "", fields);
    auto f = as_map(fields);
    CHECK(f["MESSAGE"] == "curl[4242] www.example.test A → NOERROR 192.0.2.10 192.0.2.11 (0.4 ms) via 127.0.0.53:53");
    CHECK(f["MESSAGE_ID"] == std::string(message_id_transaction));
    CHECK(f["PRIORITY"] == "6");
    CHECK(f["SYSLOG_IDENTIFIER"] == "dnsvis");
    CHECK(f["DNS_NAME"] == "www.example.test");
    CHECK(f["DNS_TYPE"] == "A");
    CHECK(f["DNS_CLASS"] == "IN");
    CHECK(f["DNS_RCODE"] == "NOERROR");
    CHECK(f["DNS_OUTCOME"] == "answered");
    CHECK(f["DNS_ANSWERS"] == "192.0.2.10 192.0.2.11");
    CHECK(f["DNS_ANSWER_COUNT"] == "2");
    CHECK(f["DNS_LATENCY_USEC"] == "412");
    CHECK(f["DNS_ID"] == "41215");
    CHECK(f["DNS_PROTOCOL"] == "udp");
    CHECK(f["DNS_SERVER"] == "127.0.0.53:53");
    CHECK(f["DNS_CLIENT"] == "127.0.0.1:40312");
    CHECK(f["DNS_FLAGS"] == "rd ra");
    CHECK(f["DNS_PID"] == "4242");
    CHECK(f["DNS_COMM"] == "curl");
    CHECK(f["DNS_UID"] == "0");
    CHECK(f["DNS_EXE"] == "/usr/bin/curl");
    CHECK(f["OBJECT_SYSTEMD_UNIT"] == "nginx.service");
    CHECK(f.count("DNS_PARSE_ERROR") == 0);
    CHECK(f.count("DNS_RETRANSMITS") == 0);
    CHECK(f.count("OBJECT_SYSTEMD_USER_UNIT") == 0);
}

TEST_CASE("a timeout has its own id, notice priority, and no response fields") {
    Transaction t = answered();
    t.outcome = Outcome::timeout;
    t.response.reset();
    t.response_ns.reset();
    t.retransmits = 2;
    FieldList fields;
    format_transaction_fields(t, {}, "", fields);
    auto f = as_map(fields);
    CHECK(f["MESSAGE_ID"] == std::string(message_id_timeout));
    CHECK(f["PRIORITY"] == "5");
    CHECK(f["DNS_OUTCOME"] == "timeout");
    CHECK(f["DNS_RETRANSMITS"] == "2");
    CHECK(f["DNS_FLAGS"] == "rd");
    CHECK(f.count("DNS_RCODE") == 0);
    CHECK(f.count("DNS_ANSWERS") == 0);
    CHECK(f.count("DNS_LATENCY_USEC") == 0);
    CHECK(f.count("DNS_EXE") == 0);
    CHECK(f["MESSAGE"] == "curl[4242] www.example.test A → no response after 3 tries via 127.0.0.53:53");
}

TEST_CASE("NXDOMAIN is a notice; an unknown process and type are still rendered") {
    Transaction t = answered();
    t.response->rcode = 3;
    t.response->answers.clear();
    t.question.type = 65534;
    t.owner = {};
    FieldList fields;
    format_transaction_fields(t, {}, "truncated", fields);
    auto f = as_map(fields);
    CHECK(f["PRIORITY"] == "5");
    CHECK(f["DNS_RCODE"] == "NXDOMAIN");
    CHECK(f["DNS_TYPE"] == "TYPE65534");
    CHECK(f["DNS_ANSWER_COUNT"] == "0");
    CHECK(f["DNS_ANSWERS"] == "");
    CHECK(f["DNS_PARSE_ERROR"] == "truncated");
    CHECK(f.count("DNS_PID") == 0);
    CHECK(f["MESSAGE"].rfind("unknown-process www.example.test TYPE65534 → NXDOMAIN", 0) == 0);
}

TEST_CASE("the human line lists three answers and counts the rest") {
    Transaction t = answered();
    for (int i = 0; i < 3; ++i)
        t.response->answers.push_back({"www.example.test", 1, 1, 300, "192.0.2.1" + std::to_string(2 + i)});
    FieldList fields;
    format_transaction_fields(t, {}, "", fields);
    auto f = as_map(fields);
    CHECK(f["MESSAGE"].find("192.0.2.12 (+2 more)") != std::string::npos);
    CHECK(f["DNS_ANSWER_COUNT"] == "5");
}

TEST_CASE("server-side transactions name the client in the human line") {
    Transaction t = answered();
    t.side = Side::server;
    FieldList fields;
    format_transaction_fields(t, {}, "", fields);
    auto f = as_map(fields);
    CHECK(f["DNS_SIDE"] == "server");
    CHECK(f["MESSAGE"].find("from 127.0.0.1:40312") != std::string::npos);
}

TEST_CASE("latency is printed with sensible precision") {
    CHECK(format_latency(412'000) == "0.4 ms");
    CHECK(format_latency(52'000) == "0.05 ms");
    CHECK(format_latency(12'345'678) == "12.3 ms");
    CHECK(format_latency(1'250'000'000) == "1.25 s");
    CHECK(format_latency(0) == "0.00 ms");
    CHECK(format_latency(99'999) == "0.10 ms");
    CHECK(format_latency(999'949'999) == "999.9 ms");
    CHECK(format_latency(999'950'000) == "1.00 s");
    CHECK(format_latency(61'000'000'000) == "61.00 s");
}

TEST_CASE("the summary totals every loss cause into DNSVIS_LOST") {
    Statistics s;
    s.captured = 100;
    s.transactions = 48;
    s.lost_by(LossCause::ringbuf) = 3;
    s.lost_by(LossCause::output) = 2;
    FieldList fields;
    format_summary_fields(s, fields);
    auto f = as_map(fields);
    CHECK(f["MESSAGE_ID"] == std::string(message_id_summary));
    CHECK(f["DNSVIS_CAPTURED"] == "100");
    CHECK(f["DNSVIS_TRANSACTIONS"] == "48");
    CHECK(f["DNSVIS_LOST"] == "5");
    CHECK(f["DNSVIS_LOST_RINGBUF"] == "3");
    CHECK(f["DNSVIS_LOST_OUTPUT"] == "2");
    CHECK(f["DNSVIS_LOST_TCP"] == "0");
    CHECK(f["DNSVIS_LOST_TABLE"] == "0");
    CHECK(f["DNSVIS_LOST_MALFORMED"] == "0");
    CHECK(f["DNSVIS_LOST_UNFINISHED"] == "0");
    CHECK(f["PRIORITY"] == "4");
}

TEST_CASE("a reused field list carries nothing over from a longer entry") {
    Attribution a;
    a.exe = "/usr/bin/curl";
    a.cgroup_path = "/system.slice/nginx.service";
    a.units.unit = "nginx.service";
    a.units.slice = "system.slice";
    Transaction big = answered();
    big.retransmits = 4;
    Transaction small = answered();
    small.outcome = Outcome::timeout;
    small.response.reset();
    small.response_ns.reset();
    small.owner = {};
    small.question.name = "x.test";

    FieldList reused;
    format_transaction_fields(big, a, "truncated", reused);
    const size_t big_size = reused.size();
    format_transaction_fields(small, {}, "", reused);
    FieldList fresh;
    format_transaction_fields(small, {}, "", fresh);
    CHECK(reused.size() < big_size);
    REQUIRE(reused.size() == fresh.size());
    for (size_t i = 0; i < fresh.size(); ++i) {
        CHECK(reused[i].name == fresh[i].name);
        CHECK(reused[i].value == fresh[i].value);
    }
    auto f = as_map(reused);
    CHECK(f["DNS_NAME"] == "x.test");
    CHECK(f.count("DNS_EXE") == 0);
    CHECK(f.count("DNS_RETRANSMITS") == 0);
    CHECK(f.count("DNS_PARSE_ERROR") == 0);
}

TEST_CASE("endpoints are printed as Endpoint::to_string() does, IPv6 included") {
    Transaction t = answered();
    t.server.ipv6 = true;
    t.server.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x35};
    t.server.port = 853;
    t.client.ipv6 = true;
    t.client.address = {};
    t.client.address[15] = 1;
    t.client.port = 65535;
    FieldList fields;
    format_transaction_fields(t, {}, "", fields);
    auto f = as_map(fields);
    CHECK(f["DNS_SERVER"] == "[2001:db8::35]:853");
    CHECK(f["DNS_SERVER"] == t.server.to_string());
    CHECK(f["DNS_CLIENT"] == "[::1]:65535");
    CHECK(f["DNS_CLIENT"] == t.client.to_string());
    CHECK(f["MESSAGE"].find("via [2001:db8::35]:853") != std::string::npos);
    t.server = endpoint(255, 65535);
    format_transaction_fields(t, {}, "", fields);
    CHECK(as_map(fields)["DNS_SERVER"] == "127.0.0.255:65535");
}

TEST_CASE("container fields use the names of Docker's journald log driver") {
    Attribution a;
    a.container = container_from_cgroup_path(
        "/docker/4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233");
    ContainerMetadata metadata;
    metadata.id = a.container.id;
    metadata.name = "web";
    metadata.image = "nginx:1.25";
    metadata.labels = {{"io.kubernetes.pod.name", "web-7d4b9c"},
                       {"io.kubernetes.pod.namespace", "shop"},
                       {"io.kubernetes.container.name", "nginx"}};
    a.metadata = std::make_shared<const ContainerMetadata>(metadata);
    FieldList fields;
    format_transaction_fields(answered(), a, "", fields);
    auto f = as_map(fields);
    CHECK(f["CONTAINER_ID"] == "4b2d7c1f9e0a");
    CHECK(f["CONTAINER_ID_FULL"] == "4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233");
    CHECK(f["CONTAINER_RUNTIME"] == "docker");
    CHECK(f["CONTAINER_NAME"] == "web");
    CHECK(f["IMAGE_NAME"] == "nginx:1.25");
    CHECK(f["K8S_POD_NAME"] == "web-7d4b9c");
    CHECK(f["K8S_NAMESPACE"] == "shop");
    CHECK(f["K8S_CONTAINER_NAME"] == "nginx");

    // Without an answer from the runtime: the id from the cgroup, nothing invented.
    a.metadata.reset();
    format_transaction_fields(answered(), a, "", fields);
    f = as_map(fields);
    CHECK(f["CONTAINER_ID"] == "4b2d7c1f9e0a");
    CHECK(f.count("CONTAINER_NAME") == 0);
    CHECK(f.count("IMAGE_NAME") == 0);
    CHECK(f.count("K8S_POD_NAME") == 0);

    // A host process has none of them.
    format_transaction_fields(answered(), Attribution{}, "", fields);
    f = as_map(fields);
    for (const char* name : {"CONTAINER_ID", "CONTAINER_ID_FULL", "CONTAINER_RUNTIME", "CONTAINER_NAME"})
        CHECK(f.count(name) == 0);
}

namespace {

// One owner after another, each differing from the one before in one thing
// the owner's fields show; the first comes back at the end.
std::vector<std::pair<Transaction, Attribution>> owners_in_turn() {
    std::vector<std::pair<Transaction, Attribution>> turns;
    Transaction t = answered();
    Attribution a;
    a.exe = "/usr/bin/curl";
    a.cgroup_path = "/system.slice/backup.service";
    a.units.unit = "backup.service";
    a.units.slice = "system.slice";
    turns.emplace_back(t, a);
    turns.emplace_back(t, a);  // the same again
    t.owner.pid = 4243;
    turns.emplace_back(t, a);
    t.owner.comm = "wget";
    turns.emplace_back(t, a);
    t.owner.uid = 1000;
    turns.emplace_back(t, a);
    a.exe = "/usr/bin/wget";
    turns.emplace_back(t, a);
    a.cgroup_path = "/user.slice/user-1000.slice/user@1000.service/app.slice/sync.service";
    a.units = units_from_cgroup_path(a.cgroup_path);
    turns.emplace_back(t, a);
    a.container = container_from_cgroup_path(
        "/docker/4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233");
    turns.emplace_back(t, a);
    ContainerMetadata metadata;
    metadata.name = "web";
    metadata.image = "nginx:1.25";
    a.metadata = std::make_shared<const ContainerMetadata>(metadata);  // the runtime answered
    turns.emplace_back(t, a);
    metadata.name = "web-2";
    a.metadata = std::make_shared<const ContainerMetadata>(metadata);  // another answer
    turns.emplace_back(t, a);
    metadata.labels = {{"io.kubernetes.pod.name", "web-7d4b9c"}, {"io.kubernetes.pod.namespace", "shop"}};
    a.metadata = std::make_shared<const ContainerMetadata>(metadata);  // labels only
    turns.emplace_back(t, a);
    a.container.runtime = ContainerRuntime::containerd;  // the runtime only
    turns.emplace_back(t, a);
    a.container.pod_uid = "12345678-1234-1234-1234-123456789abc";  // the pod only
    turns.emplace_back(t, a);
    a.units.slice = "app.slice";  // one unit field only
    turns.emplace_back(t, a);
    t.owner.pid = 0;  // unknown process
    turns.emplace_back(t, Attribution{});
    // Two processes in turn, then more of them than the formatter keeps,
    // then the first again.
    const auto first = turns.front();
    const auto pod = turns[turns.size() - 2];
    for (int i = 0; i < 3; ++i) {
        turns.push_back(first);
        turns.push_back(pod);
    }
    for (uint32_t pid = 5000; pid < 5300; ++pid) {  // some share a slot with the two
        Transaction other = first.first;
        other.owner.pid = pid;
        turns.emplace_back(other, first.second);
        turns.push_back(pod);
    }
    turns.push_back(first);
    return turns;
}

}  // namespace

TEST_CASE("an owner's fields are rendered once and stay right as the owner changes") {
    // One formatter and one line writer, as in the daemon, against a fresh
    // formatter and a field list for every entry: the lines must match.
    EntryFormatter formatter;
    JsonLineWriter lines;
    FieldList expected_fields;
    std::string expected;
    for (const auto& [t, a] : owners_in_turn()) {
        lines.clear();
        lines.begin_line();
        formatter.transaction(t, a, "", lines);
        lines.end_line();
        format_transaction_fields(t, a, "", expected_fields);
        expected.clear();
        append_json_line(expected, expected_fields);
        CHECK(lines.text() == expected);
    }
    // The block is one run of fields like any other in the list form too.
    FieldList listed;
    formatter.transaction(answered(), Attribution{}, "", listed);
    format_transaction_fields(answered(), Attribution{}, "", expected_fields);
    CHECK(as_map(listed) == as_map(expected_fields));
}

TEST_CASE("a block at the start of a line has no comma before it") {
    FieldBlock block;
    FieldList& fields = block.refill();
    fields.add("DNS_PID", "7");
    fields.add("DNS_COMM", "a\"b");
    JsonLineWriter lines;
    for (int i = 0; i < 2; ++i) {  // rendered, then copied
        lines.begin_line();
        lines.add_block(block);
        lines.add("DNS_UID", "0");
        lines.end_line();
        lines.begin_line();
        lines.add("DNS_UID", "0");
        lines.add_block(block);
        lines.end_line();
    }
    const std::string one = "{\"DNS_PID\":\"7\",\"DNS_COMM\":\"a\\\"b\",\"DNS_UID\":\"0\"}\n";
    const std::string two = "{\"DNS_UID\":\"0\",\"DNS_PID\":\"7\",\"DNS_COMM\":\"a\\\"b\"}\n";
    CHECK(lines.text() == one + two + one + two);

    // An empty block adds nothing, not even a comma.
    FieldBlock empty;
    lines.clear();
    lines.begin_line();
    lines.add_block(empty);
    lines.add("DNS_UID", "0");
    lines.add_block(empty);
    lines.end_line();
    CHECK(lines.text() == "{\"DNS_UID\":\"0\"}\n");
}
