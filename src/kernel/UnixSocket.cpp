#include "kernel/UnixSocket.h"

#include <algorithm>
#include <cerrno>

namespace kioku {

std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> UnixSocket::make_pair(Type type)
{
    std::shared_ptr<UnixSocket> a(new UnixSocket(type));
    std::shared_ptr<UnixSocket> b(new UnixSocket(type));
    a->m_peer = b;
    b->m_peer = a;
    return {a, b};
}

UnixSocket::~UnixSocket()
{
    // unix_release_sock: the peer of a connection-based socket sees both directions shut, and
    // every waiter on it wakes.
    if (auto peer = m_peer.lock())
        peer->m_wakes.wake_all();
}

u64 UnixSocket::queued_charge() const
{
    u64 n = 0;
    for (const Message& m : m_queue)
        n += m.charge;
    return n;
}

u64 UnixSocket::charge_of(u64 n) const
{
    if (m_type == Type::Stream)
        return n;
    // skb truesize: the sk_buff (256 bytes with its alignment) and a kmalloc'ed head holding the
    // data (cache-line aligned) and skb_shared_info (320 bytes), rounded to a power of two.
    u64 head = ((n + 63) & ~u64{63}) + 320;
    u64 slab = 512;
    while (slab < head)
        slab <<= 1;
    return 256 + slab;
}

bool UnixSocket::may_send() const
{
    // sock_alloc_send_pskb waits while the sender's memory in flight is at SNDBUF or over.
    auto peer = m_peer.lock();
    return peer && peer->queued_charge() < SNDBUF;
}

Result<u64> UnixSocket::send(std::span<const u8> bytes, std::vector<std::shared_ptr<OpenFile>> files)
{
    if (m_type != Type::Stream && bytes.size() > SNDBUF - 32)
        return Error::from_errno(EMSGSIZE, "datagram larger than the send buffer");
    if (m_shut_write)
        return Error::from_errno(EPIPE, "this end was shut down for sending");
    auto peer = m_peer.lock();
    if (!peer)
        return Error::from_errno(m_type == Type::Dgram ? ECONNREFUSED : EPIPE, "the peer is gone");
    if (peer->m_shut_read)
        return Error::from_errno(EPIPE, "the peer was shut down for receiving");
    if (!may_send())
        return Error::from_errno(EAGAIN, "the peer's queue is full");
    u64 n = bytes.size();
    if (m_type == Type::Stream)
        n = std::min<u64>(n, SNDBUF - peer->queued_charge());
    peer->m_queue.push_back({std::vector<u8>(bytes.begin(), bytes.begin() + static_cast<long>(n)),
                             std::move(files), charge_of(n)});
    peer->m_wakes.wake_readers();
    return n;
}

Result<UnixSocket::Received> UnixSocket::recv(u64 max, bool peek)
{
    Received out;
    bool connection = m_type != Type::Dgram;
    if (m_queue.empty()) {
        if (m_shut_read || (connection && peer_gone()))
            return out; // end of stream (a datagram end shut for reading also reads nothing)
        return Error::from_errno(EAGAIN, "nothing to read");
    }
    if (!connection || m_type == Type::SeqPacket) {
        // One message, cut to `max` (the rest is lost unless peeking).
        Message& m = m_queue.front();
        out.full_length = m.bytes.size();
        out.truncated = m.bytes.size() > max;
        u64 n = std::min<u64>(max, m.bytes.size());
        out.bytes.assign(m.bytes.begin(), m.bytes.begin() + static_cast<long>(n));
        out.files = peek ? m.files : std::move(m.files);
        if (!peek)
            m_queue.pop_front();
    } else {
        // A byte stream across messages; files passed with a message end the read after it,
        // and a read never runs into the files of the next (they come with their own bytes).
        size_t i = 0;
        while (i < m_queue.size() && out.bytes.size() < max) {
            Message& m = m_queue[i];
            if (!m.files.empty() && !out.bytes.empty())
                break;
            u64 n = std::min<u64>(max - out.bytes.size(), m.bytes.size());
            out.bytes.insert(out.bytes.end(), m.bytes.begin(), m.bytes.begin() + static_cast<long>(n));
            bool had_files = !m.files.empty();
            if (had_files)
                out.files = peek ? m.files : std::move(m.files);
            if (peek) {
                ++i;
            } else if (n == m.bytes.size()) {
                m_queue.pop_front();
            } else {
                m.bytes.erase(m.bytes.begin(), m.bytes.begin() + static_cast<long>(n));
                m.charge = m.bytes.size();
            }
            if (had_files)
                break;
        }
    }
    if (!peek)
        if (auto peer = m_peer.lock())
            peer->m_wakes.wake_writers();
    return out;
}

void UnixSocket::shutdown(int how)
{
    bool rd = how == 0 || how == 2;
    bool wr = how == 1 || how == 2;
    m_shut_read |= rd;
    m_shut_write |= wr;
    m_wakes.wake_all();
    // A connection-based peer sees the mirror image: no more to read from us, no more to send.
    if (auto peer = m_peer.lock(); peer && m_type != Type::Dgram) {
        peer->m_shut_read |= wr;
        peer->m_shut_write |= rd;
        peer->m_wakes.wake_all();
    }
}

PollState UnixSocket::poll() const
{
    PollState st{0, m_wakes};
    bool connection = m_type != Type::Dgram;
    bool shut_read = m_shut_read || (connection && peer_gone());
    bool shut_write = m_shut_write || (connection && peer_gone());
    if (shut_read && shut_write)
        st.mask |= EPOLLHUP_;
    if (shut_read)
        st.mask |= EPOLLRDHUP_ | EPOLLIN_ | EPOLLRDNORM_;
    if (!m_queue.empty())
        st.mask |= EPOLLIN_ | EPOLLRDNORM_;
    if (auto peer = m_peer.lock()) {
        // unix_writable: a quarter of the send buffer or less in flight.
        bool room = peer->queued_charge() * 4 <= SNDBUF;
        if (room)
            st.mask |= EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_;
    } else {
        st.mask |= EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_; // a send fails at once: not blocked
    }
    return st;
}

} // namespace kioku
