// A doubly linked list threaded through its nodes (`prev`/`next` members),
// for structures whose nodes already live in a hash map and must be put in
// an order (least recently used, earliest deadline) without an allocation.
#pragma once

namespace dnsvis {

template <typename Node>
class IntrusiveList {
public:
    Node* front() const { return head_; }
    Node* back() const { return tail_; }
    bool empty() const { return head_ == nullptr; }

    void unlink(Node& node) {
        (node.prev ? node.prev->next : head_) = node.next;
        (node.next ? node.next->prev : tail_) = node.prev;
        node.prev = node.next = nullptr;
    }

    // Inserts `node` after `after`, or at the front when `after` is null.
    void insert_after(Node* after, Node& node) {
        node.prev = after;
        node.next = after ? after->next : head_;
        (node.next ? node.next->prev : tail_) = &node;
        (after ? after->next : head_) = &node;
    }

    void push_back(Node& node) { insert_after(tail_, node); }

    // Forgets every node without touching them (their storage is going away).
    void clear() { head_ = tail_ = nullptr; }

private:
    Node* head_ = nullptr;
    Node* tail_ = nullptr;
};

}  // namespace dnsvis
