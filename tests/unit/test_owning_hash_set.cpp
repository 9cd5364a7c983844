// OwningHashSet, the transaction table's index: checked against std::map as
// a model, with hashes chosen to collide and to wrap around the slot array,
// which is where backward-shift deletion can go wrong.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "owning_hash_set.hpp"

using dnsvis::OwningHashSet;

namespace {

struct Item {
    int key;
};

// Every key in the model is found, under its hash, as the same element.
void check_against(const OwningHashSet<Item>& set, const std::map<int, std::pair<uint64_t, const Item*>>& model) {
    REQUIRE(set.size() == model.size());
    for (const auto& [key, entry] : model) {
        const Item* found = set.find(entry.first, [key = key](const Item& item) { return item.key == key; });
        REQUIRE(found == entry.second);
    }
}

}  // namespace

TEST_CASE("owning hash set: insert, find and extract agree with a model under collisions and wrap-around") {
    std::mt19937_64 random(20261122);
    for (int round = 0; round < 200; ++round) {
        // Up to half full, so the set keeps its 16 slots, and few distinct
        // home slots, most near the end: probe runs are long and wrap past
        // slot 0. Higher bits differ, so equal homes need not mean equal hashes.
        OwningHashSet<Item> set(16);
        std::map<int, std::pair<uint64_t, const Item*>> model;
        const uint64_t homes[] = {0, 1, 13, 14, 15, 7};
        for (int key = 0; key < 8; ++key) {
            const uint64_t hash = homes[random() % std::size(homes)] + 1024 * (random() % 4);
            Item& added = set.insert(hash, std::make_unique<Item>(Item{key}));
            model[key] = {hash, &added};
            check_against(set, model);
        }
        std::vector<int> order;
        for (const auto& [key, entry] : model)
            order.push_back(key);
        std::shuffle(order.begin(), order.end(), random);
        for (int key : order) {
            const auto [hash, item] = model[key];
            std::unique_ptr<Item> taken = set.extract(hash, *item);
            REQUIRE(taken.get() == item);
            model.erase(key);
            check_against(set, model);
            CHECK(set.find(hash, [key](const Item& i) { return i.key == key; }) == nullptr);
        }
    }
}

TEST_CASE("owning hash set: elements keep their address when the set grows") {
    OwningHashSet<Item> set(16);
    std::vector<std::pair<uint64_t, const Item*>> added;
    for (int key = 0; key < 1000; ++key)
        added.emplace_back(key * 0x9e3779b97f4a7c15ull, &set.insert(key * 0x9e3779b97f4a7c15ull, std::make_unique<Item>(Item{key})));
    for (int key = 0; key < 1000; ++key) {
        const auto [hash, item] = added[static_cast<size_t>(key)];
        CHECK(set.find(hash, [key](const Item& i) { return i.key == key; }) == item);
    }
    set.clear();
    CHECK(set.size() == 0);
    CHECK(set.find(added[5].first, [](const Item&) { return true; }) == nullptr);
}
