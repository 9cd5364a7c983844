#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "metadata_wait_queue.hpp"

using namespace dnsvis;

namespace {

Transaction transaction_for(const std::string& name, size_t answers = 0, size_t answer_bytes = 0) {
    Transaction t;
    t.question.name = name;
    if (answers > 0) {
        t.response.emplace();
        for (size_t i = 0; i < answers; ++i)
            t.response->answers.push_back(DnsRecord{name, 16, 1, 60, std::string(answer_bytes, 'x')});
    }
    return t;
}

Attribution in_container(const std::string& id) {
    Attribution a;
    a.container.id = id;
    return a;
}

std::vector<std::string> names_of(MetadataWaitQueue& queue, const std::string& container) {
    std::vector<std::string> names;
    queue.release(container, [&](HeldTransaction& held) { names.push_back(held.transaction.question.name); });
    return names;
}

}  // namespace

TEST_CASE("held transactions go out per container in arrival order, or at their deadline") {
    MetadataWaitQueue queue;
    queue.hold(100, transaction_for("a1"), in_container("a"), "");
    queue.hold(200, transaction_for("b1"), in_container("b"), "truncated");
    queue.hold(300, transaction_for("a2"), in_container("a"), "");
    CHECK(queue.size() == 3);
    CHECK(names_of(queue, "a") == std::vector<std::string>{"a1", "a2"});
    CHECK(queue.size() == 1);

    std::vector<std::string> expired;
    const auto collect = [&](HeldTransaction& held) {
        expired.push_back(held.transaction.question.name + "/" + held.parse_error);
    };
    CHECK(queue.release_expired(199, collect) == 0);
    CHECK(queue.release_expired(200, collect) == 1);
    CHECK(expired == std::vector<std::string>{"b1/truncated"});
    CHECK(queue.empty());
    CHECK(queue.bytes() == 0);
}

TEST_CASE("the queue is bounded in bytes: large answers do not pin unbounded memory") {
    MetadataWaitQueue queue;
    // 64 answers of 8 KiB each: about half a megabyte, a large TCP answer rendered.
    const Transaction big = transaction_for("big.example", 64, 8192);
    const Attribution attribution = in_container("c");
    size_t held = 0;
    while (queue.has_room(big, attribution)) {
        queue.hold(1000, Transaction(big), attribution, "");
        ++held;
        REQUIRE(held < MetadataWaitQueue::max_entries);
    }
    CHECK(held >= 50);  // room for a burst of such answers
    CHECK(queue.bytes() <= MetadataWaitQueue::max_bytes);
    CHECK(queue.bytes() + 64 * 8192 > MetadataWaitQueue::max_bytes);
    // A small one still fits where a big one does not.
    CHECK(queue.has_room(transaction_for("small.example"), attribution));
    CHECK(queue.release_expired(1000, [](HeldTransaction&) {}) == held);
    CHECK(queue.bytes() == 0);
    CHECK(queue.has_room(big, attribution));
}

TEST_CASE("the queue is bounded in count") {
    MetadataWaitQueue queue;
    const Attribution attribution = in_container("d");
    for (size_t i = 0; i < MetadataWaitQueue::max_entries; ++i)
        queue.hold(i, transaction_for("n"), attribution, "");
    CHECK_FALSE(queue.has_room(transaction_for("n"), attribution));
    queue.release_expired(0, [](HeldTransaction&) {});
    CHECK(queue.has_room(transaction_for("n"), attribution));
}

TEST_CASE("one release per awaited container") {
    MetadataWaitQueue queue;
    CHECK(queue.start_awaiting("e"));
    CHECK_FALSE(queue.start_awaiting("e"));
    queue.stop_awaiting("e");
    CHECK(queue.start_awaiting("e"));
}

TEST_CASE("a full queue of two containers interleaved: one goes out, the other stays in order") {
    MetadataWaitQueue queue;
    for (size_t i = 0; i < MetadataWaitQueue::max_entries; ++i)
        queue.hold(1000 + i, transaction_for(std::to_string(i)), in_container(i % 2 ? "odd" : "even"), "");
    const size_t bytes_before = queue.bytes();

    const std::vector<std::string> odd = names_of(queue, "odd");
    REQUIRE(odd.size() == MetadataWaitQueue::max_entries / 2);
    for (size_t i = 0; i < odd.size(); ++i)
        CHECK(odd[i] == std::to_string(2 * i + 1));
    CHECK(queue.size() == MetadataWaitQueue::max_entries / 2);
    CHECK(queue.bytes() > 0);
    CHECK(queue.bytes() < bytes_before);

    // The rest keep their deadlines in arrival order: expiry takes them
    // from the front.
    std::vector<std::string> even;
    CHECK(queue.release_expired(1000 + 9,
                                [&](HeldTransaction& held) { even.push_back(held.transaction.question.name); }) == 5);
    CHECK(even == std::vector<std::string>{"0", "2", "4", "6", "8"});
    CHECK(names_of(queue, "even").size() == MetadataWaitQueue::max_entries / 2 - 5);
    CHECK(queue.empty());
    CHECK(queue.bytes() == 0);
}
