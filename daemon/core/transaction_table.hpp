// Matches queries to responses. The key is who asked whom, the transport, the
// DNS id and the question (compared case-insensitively). Who asked whom is, on
// the client side, the asking process and its server, so that a retry from a
// fresh socket is not a second transaction; on the server side (or when the
// owner is unknown) it is the socket cookie and the client endpoint, so a
// server socket keeps its clients apart. Either way a query and its response
// on one socket match by socket, DNS id and question, even when the kernel
// knew the socket's owner for only one of them. The table is bounded; a query
// that does not fit is counted as lost. Keys are hashed from a random seed of
// each table's own, so remote senders cannot aim them at one slot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "dns_message.hpp"
#include "message_context.hpp"
#include "packet_event.hpp"
#include "transaction.hpp"

namespace dnsvis {

struct TransactionTableLimits {
    size_t max_pending = 65536;
    uint64_t timeout_ns = 5'000'000'000;  // after the last query with its key
};

struct TransactionTableCounters {
    uint64_t queries = 0;
    uint64_t responses = 0;
    uint64_t answered = 0;
    uint64_t timeouts = 0;
    uint64_t unmatched_responses = 0;
    uint64_t retransmits = 0;
    // Answers to a retransmitted query after the first: the server answered
    // every copy. Counted, not reported: the transaction already was.
    uint64_t late_answers = 0;
    // The messages of a zone transfer (AXFR, IXFR over TCP) after the first,
    // which completed its transaction: counted, not reported.
    uint64_t transfer_messages = 0;
    uint64_t lost_table_full = 0;  // queries not tracked because the table was full
};

class TransactionTable {
public:
    using Sink = std::function<void(Transaction&&)>;

    explicit TransactionTable(TransactionTableLimits limits = {});
    ~TransactionTable();
    TransactionTable(const TransactionTable&) = delete;
    TransactionTable& operator=(const TransactionTable&) = delete;

    // A message with QR=0. A repeat of a pending query (same key) counts as a
    // retransmission and is not reported twice. A query alone is never
    // reported: it waits for its response or its timeout.
    void on_query(const MessageContext& context, const DnsMessage& message);
    // A message with QR=1: completes its transaction, or is reported as
    // unmatched-response. A retransmitted query stays known after its answer
    // until its deadline, and the answers to its other copies are counted as
    // late answers, not reported. A zone transfer's query stays known until a
    // timeout after its latest message, and the messages after its first are
    // counted as transfer messages. The answers are lent to the report rather than
    // copied, and taken back once the sink returns, so their buffers serve
    // the next parse: afterwards `message.answers` holds no particular value.
    void on_response(const MessageContext& context, DnsMessage& message, const Sink& sink);
    // Reports as timeout every query whose last copy is older than the timeout.
    void expire(uint64_t now_ns, const Sink& sink);
    // Forgets every pending query and returns how many there were
    // unanswered.
    size_t drop_pending();

    // Queries waiting for an answer.
    size_t pending() const;
    const TransactionTableCounters& counters() const { return counters_; }
    // The random start of this table's key hashes.
    uint64_t hash_seed() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    TransactionTableLimits limits_;
    TransactionTableCounters counters_;
};

}  // namespace dnsvis
