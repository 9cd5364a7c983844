#include "transaction_table.hpp"

#include "ascii.hpp"
#include "hash_mix.hpp"
#include "hash_seed.hpp"
#include "intrusive_list.hpp"
#include "owning_hash_set.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dnsvis {

namespace {

// Pending queries kept for reuse, so that steady traffic does not allocate one per query.
constexpr size_t kSpareNodes = 1024;

constexpr uint16_t kTypeIxfr = 251;
constexpr uint16_t kTypeAxfr = 252;

// A zone transfer over TCP is answered by a stream of messages with the
// query's id (RFC 5936 2.2, RFC 1995 4), the later ones often without a
// question: they belong to the transaction its first message answered.
bool answered_in_several_messages(uint16_t type, Transport transport, uint16_t rcode) {
    return transport == Transport::tcp && (type == kTypeAxfr || type == kTypeIxfr) && rcode == 0;
}

// Eight bytes with 'A'..'Z' turned to lower case, any byte value allowed:
// the comparisons run on the low seven bits of each byte, which cannot carry
// into the next byte, and bytes with the high bit set are left alone.
constexpr uint64_t fold_case(uint64_t word) {
    constexpr uint64_t ones = 0x0101010101010101ull;
    constexpr uint64_t highs = 0x8080808080808080ull;
    const uint64_t low7 = word & ~highs;
    const uint64_t at_least_a = low7 + ones * (0x80 - 'A');
    const uint64_t above_z = low7 + ones * (0x80 - 'Z' - 1);
    const uint64_t upper = at_least_a & ~above_z & ~word & highs;
    return word | (upper >> 2);
}

static_assert(fold_case(0x4847464544434241ull) == 0x6867666564636261ull);  // "ABCDEFGH"
static_assert(fold_case(0x7b7a61605b5a4140ull) == 0x7b7a61605b7a6140ull);  // "@AZ[`az{": only A and Z
static_assert(fold_case(0xdac1dac1dac1dac1ull) == 0xdac1dac1dac1dac1ull);  // 'A' and 'Z' plus 0x80 stay

uint64_t saturating_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// Who asked whom. On the client side, when the kernel named the asking
// process, that is the process and the server it asked: a retry from a fresh
// socket with the same id (dig, many stub resolvers) is then the same
// transaction, not a second one. Otherwise (server side, or an unknown
// owner) it is the socket (cookie) and the client endpoint.
constexpr uint64_t process_marker = uint64_t{1} << 63;  // cookies never set it
constexpr uint64_t side_marker = uint64_t{1} << 62;     // in hashes only; nor this

uint64_t origin_of(Side side, uint64_t cookie, uint32_t pid) {
    return side == Side::client && pid != 0 ? (process_marker | pid) : (cookie & ~process_marker);
}

// A client-side key by socket: the query's owner was unknown.
bool client_by_socket(Side side, uint64_t origin) {
    return side == Side::client && !(origin & process_marker);
}

const Endpoint& peer_of(Side side, uint32_t pid, const Endpoint& client, const Endpoint& server) {
    return side == Side::client && pid != 0 ? server : client;
}

// The parts of a key, borrowed from the message being looked up.
struct KeyView {
    uint64_t hash = 0;
    uint64_t origin = 0;
    const Endpoint* peer = nullptr;
    uint16_t id = 0;
    uint16_t type = 0;
    uint16_t klass = 0;
    Side side = Side::client;
    // A query over UDP and its retry over TCP (after a truncated answer)
    // share id, question and, keyed by process, the server: apart, a late
    // UDP answer cannot complete the TCP query.
    Transport transport = Transport::udp;
    std::string_view name;
    // hash_question of the message looked up; views of stored queries, which
    // are only compared, leave it zero.
    uint64_t question_hash = 0;
};

// The part of a key's hash that the message alone decides: its id and
// question, which cost the most to hash. Computed once per message, it is
// shared by every key the message's query may be stored under.
uint64_t hash_question(uint64_t seed, uint16_t id, uint16_t type, uint16_t klass, std::string_view name_view) {
    uint64_t h = mix(seed, (uint64_t{id} << 32) | (uint64_t{type} << 16) | klass);
    // The name eight bytes at a time, case folded: the key must not depend
    // on how the sender spelled the case (RFC 4343, 0x20 encoding). A byte
    // at a time, this loop was the table's largest cost.
    const char* name = name_view.data();
    size_t left = name_view.size();
    for (; left >= 8; name += 8, left -= 8) {
        uint64_t word;
        std::memcpy(&word, name, 8);
        h = mix(h, fold_case(word));
    }
    if (left > 0) {
        uint64_t word = 0;
        std::memcpy(&word, name, left);
        h = mix(h, fold_case(word) ^ left);
    }
    return h;
}

// The whole key's hash: who asked whom, on top of the question. A key by
// process leaves the pid out, so that a message whose owner the kernel has
// forgotten can still find a query stored under its process: it knows every
// part of that hash but the pid (see Impl::find_under_process).
uint64_t hash_key(uint64_t question_hash, uint64_t origin, const Endpoint& peer, Side side) {
    const uint64_t hashed_origin = (origin & process_marker) ? process_marker : origin;
    uint64_t h = mix(question_hash, hashed_origin | (side == Side::server ? side_marker : 0));
    h = mix_endpoint(h, peer);
    return h ^ (h >> 32);
}

KeyView make_view(uint64_t seed, Side side, Transport transport, uint32_t pid, uint64_t cookie, const Endpoint& client,
                  const Endpoint& server, uint16_t id, const DnsQuestion& question) {
    KeyView view;
    view.side = side;
    view.transport = transport;
    view.origin = origin_of(side, cookie, pid);
    view.peer = &peer_of(side, pid, client, server);
    view.id = id;
    view.type = question.type;
    view.klass = question.klass;
    view.name = question.name;
    view.question_hash = hash_question(seed, id, question.type, question.klass, question.name);
    view.hash = hash_key(view.question_hash, view.origin, *view.peer, side);
    return view;
}

// A query waiting for its response: the key it is found by, and what the
// report needs. Linked in deadline order, so expiry reads only what expires.
struct PendingQuery {
    PendingQuery* prev = nullptr;
    PendingQuery* next = nullptr;

    // The key.
    uint64_t hash = 0;
    uint64_t origin = 0;
    Endpoint peer;
    uint16_t id = 0;
    uint16_t type = 0;
    uint16_t klass = 0;
    Side side = Side::client;
    std::string name;  // as the query spelled it

    uint64_t first_ns = 0;
    uint64_t last_ns = 0;
    uint64_t deadline_ns = 0;
    uint32_t retransmits = 0;
    // Non-zero once answered: how many answers to its other copies may
    // still come. Kept until they did or the deadline passed, so that they
    // are not taken for responses to a query never seen.
    uint32_t answers_to_come = 0;
    // An answered zone transfer, kept for the rest of its stream until the
    // deadline after its latest message.
    bool transfer_streaming = false;
    Transport transport = Transport::udp;
    uint16_t query_flags = 0;
    uint64_t socket_cookie = 0;  // of the latest copy
    Endpoint client;             // of the latest copy
    Endpoint server;
    SocketOwner owner;

    KeyView view() const { return {hash, origin, &peer, id, type, klass, side, transport, name, 0}; }
    bool answered() const { return answers_to_come > 0 || transfer_streaming; }
};

bool same_key(const KeyView& a, const KeyView& b) {
    return a.hash == b.hash && a.origin == b.origin && a.id == b.id && a.type == b.type && a.klass == b.klass &&
           a.side == b.side && a.transport == b.transport && *a.peer == *b.peer && ascii_iequals(a.name, b.name);
}

}  // namespace

struct TransactionTable::Impl {
    const uint64_t seed = random_hash_seed(this);
    OwningHashSet<PendingQuery> pending;
    IntrusiveList<PendingQuery> by_deadline;  // front: earliest deadline
    std::vector<std::unique_ptr<PendingQuery>> spare;
    // Client-side queries stored under their socket because their owner was
    // unknown. While there are none, a response whose process is known needs
    // no second lookup, which saves a hash and a probe on most messages.
    size_t client_queries_by_socket = 0;
    size_t answered_kept = 0;  // entries waiting only for late answers or the rest of a transfer

    PendingQuery* find_exact(const KeyView& view) const {
        return pending.find(view.hash, [&view](const PendingQuery& p) { return same_key(p.view(), view); });
    }

    // By who asked whom. A client-side message has a second place to look
    // when its owner and its query's owner were not both known: the contract
    // is that a query matches by socket, id and question, and the kernel's
    // socket map (an LRU) may learn or forget a socket's owner in between.
    PendingQuery* find(const KeyView& view, uint64_t cookie, const Endpoint& client, const Endpoint& server) const {
        if (PendingQuery* found = find_exact(view))
            return found;
        if (view.side != Side::client)
            return nullptr;
        if (client_by_socket(view.side, view.origin))
            return find_under_process(view, cookie, client, server);
        if (client_queries_by_socket == 0)
            return nullptr;
        // The message's owner is known; its query's was not when it was stored.
        KeyView by_socket = view;
        by_socket.origin = origin_of(Side::client, cookie, 0);
        by_socket.peer = &client;
        by_socket.hash = hash_key(view.question_hash, by_socket.origin, client, Side::client);
        return find_exact(by_socket);
    }

    // The message's owner is unknown; its query, stored while the owner was
    // known, is under that process and the server. The pid is not in the
    // hash of such a key, so the query is in this one probe run: the one with
    // this socket (the latest copy's), id and question.
    PendingQuery* find_under_process(const KeyView& view, uint64_t cookie, const Endpoint& client,
                                     const Endpoint& server) const {
        const uint64_t hash = hash_key(view.question_hash, process_marker, server, Side::client);
        return pending.find(hash, [&](const PendingQuery& p) {
            return (p.origin & process_marker) && p.side == Side::client && p.transport == view.transport &&
                   p.socket_cookie == cookie && p.id == view.id && p.type == view.type && p.klass == view.klass &&
                   p.client == client && p.peer == server && ascii_iequals(p.name, view.name);
        });
    }

    // An answer without a question section (FORMERR and NOTIMP often come
    // so, and a zone transfer's later messages) has no question to be keyed
    // by: its query is the one waiting (or whose transfer goes on)
    // with its id between the same two endpoints (on the same socket, on
    // the client side). Rare, so a walk: from the latest deadline back,
    // as the answer is most likely to a recent query, and bounded, so that
    // a flood of such answers costs little each.
    PendingQuery* find_for_questionless(Side side, Transport transport, uint16_t id, uint64_t cookie,
                                        const Endpoint& client, const Endpoint& server) const {
        constexpr size_t max_steps = 4096;
        size_t steps = 0;
        for (PendingQuery* p = by_deadline.back(); p && steps < max_steps; p = p->prev, ++steps)
            if (p->side == side && p->transport == transport && p->id == id &&
                (p->answers_to_come == 0 || p->transfer_streaming) && p->client == client && p->server == server &&
                (side == Side::server || p->socket_cookie == cookie))
                return p;
        return nullptr;
    }

    // The query, or its transfer's stream, was seen again at `seen_ns`: it
    // waits a timeout from then. A copy seen out of order must not pull the
    // deadline back.
    void wait_from(PendingQuery& p, uint64_t seen_ns, uint64_t timeout_ns) {
        p.last_ns = std::max(p.last_ns, seen_ns);
        p.deadline_ns = saturating_add(p.last_ns, timeout_ns);
        by_deadline.unlink(p);
        link_sorted(p);
    }

    // Timestamps are nearly monotonic, so the walk from the back is almost
    // always zero steps; equal deadlines keep their arrival order.
    void link_sorted(PendingQuery& p) {
        PendingQuery* after = by_deadline.back();
        while (after && after->deadline_ns > p.deadline_ns)
            after = after->prev;
        by_deadline.insert_after(after, p);
    }

    void add(std::unique_ptr<PendingQuery> p) {
        client_queries_by_socket += client_by_socket(p->side, p->origin);
        link_sorted(*p);
        const uint64_t hash = p->hash;
        pending.insert(hash, std::move(p));
    }

    std::unique_ptr<PendingQuery> take(PendingQuery& p) {
        client_queries_by_socket -= client_by_socket(p.side, p.origin);
        by_deadline.unlink(p);
        return pending.extract(p.hash, p);
    }

    // A spare keeps its name's buffer, so steady traffic allocates nothing.
    std::unique_ptr<PendingQuery> fresh() {
        if (spare.empty())
            return std::make_unique<PendingQuery>();
        std::unique_ptr<PendingQuery> p = std::move(spare.back());
        spare.pop_back();
        std::string name = std::move(p->name);
        *p = PendingQuery{};
        p->name = std::move(name);
        return p;
    }

    void recycle(std::unique_ptr<PendingQuery> p) {
        if (spare.size() < kSpareNodes)
            spare.push_back(std::move(p));
    }

    // Forgets an answered query kept for the late answers to its copies or
    // the rest of its transfer.
    void retire(PendingQuery& p) {
        --answered_kept;
        recycle(take(p));
    }

    size_t unanswered() const { return pending.size() - answered_kept; }

    // Moves the pending query's fields into a report; the name is copied
    // when the query stays in the table, where it is part of the key.
    static Transaction report(Outcome outcome, PendingQuery& p, bool stays = false) {
        Transaction t;
        t.outcome = outcome;
        t.side = p.side;
        t.transport = p.transport;
        t.id = p.id;
        if (stays)
            t.question.name = p.name;
        else
            t.question.name = std::move(p.name);
        t.question.type = p.type;
        t.question.klass = p.klass;
        t.query_flags = p.query_flags;
        t.client = p.client;
        t.server = p.server;
        t.socket_cookie = p.socket_cookie;
        t.owner = std::move(p.owner);
        t.query_ns = p.first_ns;
        t.retransmits = p.retransmits;
        return t;
    }

    // Hands a report to the sink, then takes back what the sink left of the
    // name's buffer for the next query.
    void deliver(Transaction& t, std::unique_ptr<PendingQuery> p, const Sink& sink) {
        sink(std::move(t));
        p->name = std::move(t.question.name);
        recycle(std::move(p));
    }
};

namespace {

// What a sink left of a reported transaction's answers goes back to the
// message: nothing when it kept the transaction, the vector and its strings'
// buffers when it only read them.
void take_back_answers(Transaction& reported, DnsMessage& message) {
    if (reported.response)
        message.answers.swap(reported.response->answers);
}

const DnsQuestion& first_question(const DnsMessage& message) {
    static const DnsQuestion none;
    return message.questions.empty() ? none : message.questions.front();
}

}  // namespace

TransactionTable::TransactionTable(TransactionTableLimits limits) : impl_(std::make_unique<Impl>()), limits_(limits) {}

TransactionTable::~TransactionTable() = default;

uint64_t TransactionTable::hash_seed() const {
    return impl_->seed;
}

size_t TransactionTable::pending() const {
    return impl_->unanswered();
}

void TransactionTable::on_query(const MessageContext& context, const DnsMessage& message) {
    ++counters_.queries;
    Impl& impl = *impl_;
    const DnsQuestion& question = first_question(message);
    // The query travels from the client: leaving the socket means the socket
    // is the client, arriving means it is the server.
    const Side side = context.direction == Direction::egress ? Side::client : Side::server;
    const KeyView view = make_view(impl.seed, side, context.transport, context.owner.pid, context.socket_cookie,
                                   context.source, context.destination, message.id, question);

    PendingQuery* found = impl.find(view, context.socket_cookie, context.source, context.destination);
    if (found && found->answered()) {
        // Asked again after the answer: a new transaction.
        impl.retire(*found);
        found = nullptr;
    }
    if (found) {
        PendingQuery& p = *found;
        ++p.retransmits;
        ++counters_.retransmits;
        impl.wait_from(p, context.timestamp_ns, limits_.timeout_ns);
        // The answer goes to the socket of the latest copy.
        p.socket_cookie = context.socket_cookie;
        p.client = context.source;
        if (p.owner.pid == 0 && context.owner.pid != 0)
            p.owner = context.owner;
        return;
    }

    if (impl.unanswered() >= limits_.max_pending) {
        ++counters_.lost_table_full;
        return;
    }

    std::unique_ptr<PendingQuery> fresh = impl.fresh();
    PendingQuery& p = *fresh;
    p.hash = view.hash;
    p.origin = view.origin;
    p.peer = *view.peer;
    p.id = view.id;
    p.type = view.type;
    p.klass = view.klass;
    p.side = view.side;
    p.name.assign(view.name);
    p.first_ns = context.timestamp_ns;
    p.last_ns = context.timestamp_ns;
    p.deadline_ns = saturating_add(context.timestamp_ns, limits_.timeout_ns);
    p.transport = context.transport;
    p.query_flags = message.flags;
    p.socket_cookie = context.socket_cookie;
    p.client = context.source;
    p.server = context.destination;
    p.owner = context.owner;
    impl.add(std::move(fresh));
}

void TransactionTable::on_response(const MessageContext& context, DnsMessage& message, const Sink& sink) {
    ++counters_.responses;
    // Whatever was due when this response came has timed out, whether or
    // not a sweep came by since: an answer after its query's deadline is
    // then unmatched, never answered with a latency past Timeout=.
    expire(context.timestamp_ns, sink);
    Impl& impl = *impl_;
    const DnsQuestion& question = first_question(message);
    // The response travels to the client: arriving at the socket means the
    // socket is the client, leaving means it is the server.
    const Side side = context.direction == Direction::ingress ? Side::client : Side::server;
    const KeyView view = make_view(impl.seed, side, context.transport, context.owner.pid, context.socket_cookie,
                                   context.destination, context.source, message.id, question);

    ResponseSummary summary;
    summary.flags = message.flags;
    summary.rcode = message.rcode();
    summary.answers.swap(message.answers);

    PendingQuery* found = impl.find(view, context.socket_cookie, context.destination, context.source);
    if (!found && message.questions.empty())
        found = impl.find_for_questionless(side, context.transport, message.id, context.socket_cookie,
                                           context.destination, context.source);
    if (found && found->answered()) {
        if (context.timestamp_ns <= found->deadline_ns) {
            if (found->transfer_streaming) {
                // A later message of a zone transfer: its first was reported.
                ++counters_.transfer_messages;
                impl.wait_from(*found, context.timestamp_ns, limits_.timeout_ns);
            } else {
                // The answer to another copy of a query already answered:
                // the client retransmitted, and the server answered every
                // copy.
                ++counters_.late_answers;
                if (--found->answers_to_come == 0)
                    impl.retire(*found);
            }
            message.answers.swap(summary.answers);
            return;
        }
        // Kept past its deadline (expiry runs only while queries wait): too
        // late to be an answer to one of its copies, or part of its stream.
        impl.retire(*found);
        found = nullptr;
    }
    if (found) {
        // A retransmitted query is reported now and kept until its deadline
        // for the answers its other copies may still get; a zone transfer
        // for the rest of its messages.
        const bool transfer = answered_in_several_messages(found->type, found->transport, summary.rcode);
        const bool keep = (transfer || found->retransmits > 0) && impl.answered_kept < limits_.max_pending;
        std::unique_ptr<PendingQuery> taken;
        if (keep) {
            found->answers_to_come = found->retransmits;
            found->transfer_streaming = transfer;
            if (transfer)
                impl.wait_from(*found, context.timestamp_ns, limits_.timeout_ns);
            ++impl.answered_kept;
        } else {
            taken = impl.take(*found);
        }
        Transaction t = Impl::report(Outcome::answered, keep ? *found : *taken, keep);
        // The query's owner is the process that asked; the response only
        // fills in when the query's owner was not known.
        if (t.owner.pid == 0 && context.owner.pid != 0)
            t.owner = context.owner;
        t.response_ns = context.timestamp_ns;
        t.response = std::move(summary);
        ++counters_.answered;
        // The table is consistent before the sink runs, which may call back
        // in (and retire a kept entry).
        if (keep)
            sink(std::move(t));
        else
            impl.deliver(t, std::move(taken), sink);
        take_back_answers(t, message);
        return;
    }

    Transaction t;
    t.outcome = Outcome::unmatched_response;
    t.side = view.side;
    t.transport = context.transport;
    t.id = message.id;
    t.question = question;
    t.client = context.destination;
    t.server = context.source;
    t.socket_cookie = context.socket_cookie;
    t.owner = context.owner;
    t.response_ns = context.timestamp_ns;
    t.response = std::move(summary);
    ++counters_.unmatched_responses;
    sink(std::move(t));
    take_back_answers(t, message);
}

void TransactionTable::expire(uint64_t now_ns, const Sink& sink) {
    Impl& impl = *impl_;
    while (!impl.by_deadline.empty() && impl.by_deadline.front()->deadline_ns <= now_ns) {
        PendingQuery& due = *impl.by_deadline.front();
        if (due.answered()) {
            impl.retire(due);  // answered; no more late answers or transfer messages to wait for
            continue;
        }
        std::unique_ptr<PendingQuery> p = impl.take(due);
        Transaction t = Impl::report(Outcome::timeout, *p);
        ++counters_.timeouts;
        // The table is consistent before the sink runs, so it may call back in.
        impl.deliver(t, std::move(p), sink);
    }
}

size_t TransactionTable::drop_pending() {
    Impl& impl = *impl_;
    const size_t count = impl.unanswered();
    impl.by_deadline.clear();
    impl.pending.clear();
    impl.client_queries_by_socket = 0;
    impl.answered_kept = 0;
    return count;
}

}  // namespace dnsvis
