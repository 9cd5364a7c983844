#include "journal_sink.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log.hpp"
#include "write_all.hpp"

namespace dnsvis {

namespace {

// As sd-journal asks for: room for many entries while journald catches up,
// and for large ones in a single datagram. The kernel caps it at wmem_max.
constexpr int send_buffer_bytes = 8 * 1024 * 1024;

// From Linux 6.3's uapi; older headers lack it.
constexpr unsigned memfd_noexec_seal = 0x0008U;

// A batch is sent at the latest when it holds this many entries; the daemon
// flushes after every drain of the ring, which is usually fewer.
constexpr size_t max_batch_entries = 256;

}  // namespace

JournalSink::JournalSink(std::string socket_path, std::chrono::milliseconds stall_timeout)
    : socket_path_(std::move(socket_path)), stall_("journald at " + socket_path_, stall_timeout) {}

JournalSink::~JournalSink() {
    if (fd_ >= 0)
        close(fd_);
}

void JournalSink::BatchWriter::add_block(const FieldBlock& block) {
    batch_ += block.rendered(BlockFormat::journal_native, [](const FieldList& fields, std::string& out) {
        for (const Field& field : fields)
            append_journal_field(out, field.name, field.value);
    });
}

void JournalSink::end_entry() {
    ends_.push_back(batch_.size());
    if (ends_.size() >= max_batch_entries)
        send_entries();
}

void JournalSink::flush() {
    send_entries();
    stall_.end_batch();
}

void JournalSink::send_entries() {
    const size_t count = ends_.size();
    pieces_.resize(count);
    messages_.resize(count);
    for (size_t i = 0, begin = 0; i < count; begin = ends_[i++]) {
        pieces_[i] = iovec{batch_.data() + begin, ends_[i] - begin};
        messages_[i] = mmsghdr{};
        messages_[i].msg_hdr.msg_iov = &pieces_[i];
        messages_[i].msg_hdr.msg_iovlen = 1;
    }
    size_t next = 0;
    while (next < count) {
        if (fd_ < 0 && !connect_socket()) {
            lost_ += count - next;
            break;
        }
        const int sent = sendmmsg(fd_, messages_.data() + next, static_cast<unsigned>(count - next),
                                  MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            next += static_cast<size_t>(sent);
            stall_.delivered();
            continue;
        }
        if (sent < 0 && stall_.try_again(fd_))
            continue;
        if (sent < 0 && OutputStall::no_room(errno)) {
            lost_ += count - next;  // journald takes nothing: the rest of the batch is counted
            break;
        }
        // The next entry failed on its own: too large for a datagram, or
        // journald went away. deliver() knows what each case needs.
        if (deliver({static_cast<const char*>(pieces_[next].iov_base), pieces_[next].iov_len}))
            stall_.delivered();
        else
            ++lost_;
        ++next;
    }
    batch_.clear();
    ends_.clear();
}

bool JournalSink::deliver(std::string_view entry) {
    // A second attempt only after journald was restarted: the socket we were
    // connected to is gone, a new one has the same path.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (fd_ < 0 && !connect_socket())
            return false;
        iovec piece{const_cast<char*>(entry.data()), entry.size()};
        msghdr message{};
        message.msg_iov = &piece;
        message.msg_iovlen = 1;
        if (send_waiting(message))
            return true;
        const int error = errno;
        if (error == EMSGSIZE || error == ENOBUFS)
            return send_in_memfd(entry);
        if (OutputStall::no_room(error))
            return false;  // journald takes nothing (stall_ said so)
        close(fd_);
        fd_ = -1;
        if (error != ECONNREFUSED && error != ENOTCONN)
            return false;
    }
    return false;
}

bool JournalSink::connect_socket() {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path_.data(),
                std::min(socket_path_.size(), sizeof(address.sun_path) - 1));
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0) {
        setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &send_buffer_bytes, sizeof send_buffer_bytes);  // best effort
        if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
            const int error = errno;
            close(fd_);
            fd_ = -1;
            errno = error;
        }
    }
    // Said once per outage, not once per entry; the entries are counted.
    if (fd_ < 0 && !unreachable_)
        log_warning("Cannot reach journald at %s (%s): entries are counted as lost until it is back",
                    socket_path_.c_str(), std::strerror(errno));
    else if (fd_ >= 0 && unreachable_)
        log_notice("journald at %s is reachable again", socket_path_.c_str());
    unreachable_ = fd_ < 0;
    return fd_ >= 0;
}

// One datagram, sent again after EINTR and, while stall_ allows, after a
// full queue. On failure errno says why.
bool JournalSink::send_waiting(const msghdr& message) {
    ssize_t n;
    do
        n = sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && stall_.try_again(fd_));
    return n >= 0;
}

// The protocol's way for an entry larger than a datagram: the entry in a
// sealed memfd, passed as the only content of an empty datagram.
bool JournalSink::send_in_memfd(std::string_view entry) {
    // Older journalds want exactly the four seals below, and MFD_NOEXEC_SEAL
    // adds a fifth; only a kernel that insists on it (vm.memfd_noexec=2),
    // and so refuses the plain call, gets it.
    int memfd = memfd_create("dnsvis-journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0 && errno == EACCES)
        memfd = memfd_create("dnsvis-journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING | memfd_noexec_seal);
    if (memfd < 0)
        return false;
    bool sent = write_all(memfd, entry) &&
                fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
    if (sent) {
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr message{};
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(header), &memfd, sizeof(int));
        sent = send_waiting(message);
    }
    close(memfd);
    return sent;
}

}  // namespace dnsvis
