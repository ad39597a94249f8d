#include "kernel/UnixSocket.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace kioku {

std::shared_ptr<UnixSocket> UnixSocket::make(Type type)
{
    return std::shared_ptr<UnixSocket>(new UnixSocket(type));
}

std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> UnixSocket::make_pair(Type type,
                                                                                          Cred creator)
{
    auto a = make(type);
    auto b = make(type);
    for (auto [one, other] : {std::pair{a, b}, std::pair{b, a}}) {
        one->m_peer = other;
        one->m_had_peer = true;
        one->m_state = State::Connected;
        one->m_peer_cred = creator;
    }
    return {a, b};
}

UnixSocket::~UnixSocket()
{
    // unix_release_sock: what was sent here and never read goes back to its senders; the
    // connections still waiting for accept are dropped (their clients see a reset); the peer of
    // a connection-based socket sees both directions shut, and a reset when data was left unread
    // here or the connection was never accepted.
    bool unread = !m_queue.empty();
    for (Message& m : m_queue)
        uncharge(m, m.charge);
    m_queue.clear();
    m_pending.clear();
    if (auto peer = m_peer.lock(); peer && connection_based()) {
        peer->m_shut_read = peer->m_shut_write = true;
        if (unread || m_embryo)
            peer->m_error = ECONNRESET;
        peer->m_wakes.wake_all();
    }
}

void UnixSocket::uncharge(Message& m, u64 bytes)
{
    bytes = std::min(bytes, m.charge);
    m.charge -= bytes;
    if (auto sender = m.sender.lock()) {
        sender->m_in_flight -= std::min(bytes, sender->m_in_flight);
        sender->m_wakes.wake_writers();
    }
}

Result<UnixSocket::Address> UnixSocket::peer_name() const
{
    if (!m_had_peer)
        return Error::from_errno(ENOTCONN, "not connected");
    if (auto peer = m_peer.lock())
        return peer->m_name;
    return m_peer_name;
}

Result<void> UnixSocket::listen(i32 backlog, Cred me)
{
    if (!connection_based())
        return Error::from_errno(EOPNOTSUPP, "a datagram socket does not listen");
    if (m_name.empty())
        return Error::from_errno(EINVAL, "listening needs a bound socket");
    if (m_state == State::Connected)
        return Error::from_errno(EINVAL, "the socket is connected");
    m_backlog = std::min(static_cast<u32>(backlog), SOMAXCONN);
    m_state = State::Listening;
    m_peer_cred = me;
    return {};
}

bool UnixSocket::queue_full_for(const UnixSocket& sender) const
{
    if (m_state == State::Listening)
        return m_pending.size() > m_backlog;
    if (m_peer.lock().get() == &sender)
        return false;
    return m_queue.size() > MAX_DGRAM_QLEN;
}

Result<void> UnixSocket::connect(const std::shared_ptr<UnixSocket>& listener, Cred me)
{
    if (listener->m_type != m_type)
        return Error::from_errno(EPROTOTYPE, "the listener is of another type");
    if (listener->m_state != State::Listening || listener->m_shut_read)
        return Error::from_errno(ECONNREFUSED, "nobody listens there");
    if (listener->queue_full_for(*this))
        return Error::from_errno(EAGAIN, "the listener's backlog is full");
    if (m_state == State::Connected)
        return Error::from_errno(EISCONN, "already connected");
    if (m_state == State::Listening)
        return Error::from_errno(EINVAL, "a listening socket does not connect");
    auto server = make(m_type);
    server->m_state = State::Connected;
    server->m_name = listener->m_name;
    server->m_peer = weak_from_this();
    server->m_had_peer = true;
    server->m_peer_name = m_name;
    server->m_peer_cred = me;
    server->m_embryo = true;
    m_peer = server;
    m_had_peer = true;
    m_peer_name = listener->m_name;
    m_peer_cred = listener->m_peer_cred;
    m_state = State::Connected;
    listener->m_pending.push_back(std::move(server));
    listener->m_wakes.wake_readers();
    return {};
}

Result<std::shared_ptr<UnixSocket>> UnixSocket::accept()
{
    if (!connection_based())
        return Error::from_errno(EOPNOTSUPP, "a datagram socket does not accept");
    if (m_state != State::Listening)
        return Error::from_errno(EINVAL, "not listening");
    if (m_pending.empty())
        return Error::from_errno(EAGAIN, "no connection is waiting");
    auto server = std::move(m_pending.front());
    m_pending.pop_front();
    server->m_embryo = false;
    return server;
}

Result<void> UnixSocket::connect_dgram(const std::shared_ptr<UnixSocket>& peer)
{
    if (!peer) {
        m_peer.reset();
        m_had_peer = false;
        m_peer_name.clear();
        m_state = State::Unconnected;
        return {};
    }
    if (peer->m_had_peer && peer->m_peer.lock().get() != this)
        return Error::from_errno(EPERM, "the socket is connected to another");
    m_peer = peer;
    m_had_peer = true;
    m_peer_name = peer->m_name;
    m_state = State::Connected;
    return {};
}

Result<u64> UnixSocket::enqueue(UnixSocket& target, std::span<const u8> bytes,
                                std::vector<std::shared_ptr<OpenFile>> files)
{
    u64 n = bytes.size();
    u64 charge;
    if (m_type == Type::Stream) {
        n = std::min<u64>(n, SNDBUF - std::min(m_in_flight, SNDBUF));
        charge = n;
    } else {
        // skb truesize: the sk_buff (256 bytes with its alignment) and a kmalloc'ed head holding
        // the data (cache-line aligned) and skb_shared_info (320 bytes), rounded to a power of 2.
        u64 head = ((n + 63) & ~u64{63}) + 320;
        u64 slab = 512;
        while (slab < head)
            slab <<= 1;
        charge = 256 + slab;
    }
    m_in_flight += charge;
    target.m_queue.push_back({std::vector<u8>(bytes.begin(), bytes.begin() + static_cast<long>(n)),
                              std::move(files), charge, weak_from_this(), m_name});
    target.m_wakes.wake_readers();
    return n;
}

Result<u64> UnixSocket::send(std::span<const u8> bytes, std::vector<std::shared_ptr<OpenFile>> files)
{
    if (m_type == Type::Stream) {
        // unix_stream_sendmsg
        if (m_state != State::Connected)
            return Error::from_errno(ENOTCONN, "not connected");
        if (m_shut_write)
            return Error::from_errno(EPIPE, "this end was shut down for sending");
        auto peer = m_peer.lock();
        if (!peer || peer->m_shut_read)
            return Error::from_errno(EPIPE, "the peer is gone or shut down for receiving");
        if (m_in_flight >= SNDBUF)
            return Error::from_errno(EAGAIN, "the send buffer is full");
        return enqueue(*peer, bytes, std::move(files));
    }
    // unix_seqpacket_sendmsg and unix_dgram_sendmsg
    if (m_type == Type::SeqPacket && m_state != State::Connected)
        return Error::from_errno(ENOTCONN, "not connected");
    TRY(may_send_datagram(bytes.size()));
    if (!m_had_peer)
        return Error::from_errno(ENOTCONN, "not connected");
    auto peer = m_peer.lock();
    if (!peer) {
        if (m_type == Type::SeqPacket)
            return Error::from_errno(EPIPE, "the peer is gone");
        // The first send finds the peer dead and disconnects.
        m_had_peer = false;
        m_peer_name.clear();
        m_state = State::Unconnected;
        return Error::from_errno(ECONNREFUSED, "the peer is gone");
    }
    return deliver(*peer, bytes, std::move(files));
}

Result<u64> UnixSocket::send_to(const std::shared_ptr<UnixSocket>& target, std::span<const u8> bytes,
                                std::vector<std::shared_ptr<OpenFile>> files)
{
    TRY(may_send_datagram(bytes.size()));
    return deliver(*target, bytes, std::move(files));
}

Result<void> UnixSocket::may_send_datagram(u64 size) const
{
    if (size > SNDBUF - 32)
        return Error::from_errno(EMSGSIZE, "datagram larger than the send buffer");
    if (m_shut_write)
        return Error::from_errno(EPIPE, "this end was shut down for sending");
    if (m_in_flight >= SNDBUF)
        return Error::from_errno(EAGAIN, "the send buffer is full");
    return {};
}

Result<u64> UnixSocket::deliver(UnixSocket& target, std::span<const u8> bytes,
                                std::vector<std::shared_ptr<OpenFile>> files)
{
    if (target.m_had_peer && target.m_peer.lock().get() != this)
        return Error::from_errno(EPERM, "the target is connected to another socket");
    if (target.m_shut_read)
        return Error::from_errno(EPIPE, "the target was shut down for receiving");
    if (target.queue_full_for(*this))
        return Error::from_errno(EAGAIN, "the target's queue is full");
    return enqueue(target, bytes, std::move(files));
}

Result<UnixSocket::Received> UnixSocket::recv(u64 max, bool peek)
{
    if (m_type == Type::Stream && m_state != State::Connected)
        return Error::from_errno(EINVAL, "not connected");
    if (m_type == Type::SeqPacket && m_state != State::Connected)
        return Error::from_errno(ENOTCONN, "not connected");
    Received out;
    if (m_queue.empty()) {
        if (int e = take_error())
            return Error::from_errno(e, "the connection was reset");
        if (m_shut_read)
            return out; // end of stream (a datagram socket shut for reading also reads nothing)
        return Error::from_errno(EAGAIN, "nothing to read");
    }
    if (m_type != Type::Stream) {
        // One message, cut to `max` (the rest is lost unless peeking).
        Message& m = m_queue.front();
        out.from = m.from;
        out.full_length = m.bytes.size();
        out.truncated = m.bytes.size() > max;
        u64 n = std::min<u64>(max, m.bytes.size());
        out.bytes.assign(m.bytes.begin(), m.bytes.begin() + static_cast<long>(n));
        out.files = peek ? m.files : std::move(m.files);
        if (!peek) {
            uncharge(m, m.charge);
            m_queue.pop_front();
        }
        return out;
    }
    // A byte stream across messages; files passed with a message end the read after it, and a
    // read never runs into the files of the next (they come with their own bytes).
    out.from = m_queue.front().from;
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
            uncharge(m, m.charge);
            m_queue.pop_front();
        } else {
            m.bytes.erase(m.bytes.begin(), m.bytes.begin() + static_cast<long>(n));
            uncharge(m, n);
        }
        if (had_files)
            break;
    }
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
    if (auto peer = m_peer.lock(); peer && connection_based()) {
        peer->m_shut_read |= wr;
        peer->m_shut_write |= rd;
        peer->m_wakes.wake_all();
    }
}

int UnixSocket::take_error()
{
    int e = m_error;
    m_error = 0;
    return e;
}

bool UnixSocket::writable() const
{
    // unix_writable: not listening, and a quarter of the send buffer or less in flight; a
    // datagram peer that has not connected back must also have room in its queue.
    if (m_state == State::Listening || m_in_flight * 4 > SNDBUF)
        return false;
    if (m_type != Type::Stream)
        if (auto peer = m_peer.lock(); peer && peer->queue_full_for(*this))
            return false;
    return true;
}

PollState UnixSocket::poll() const
{
    PollState st{0, m_wakes};
    if (m_error)
        st.mask |= EPOLLERR_;
    if (m_shut_read && m_shut_write)
        st.mask |= EPOLLHUP_;
    if (m_shut_read)
        st.mask |= EPOLLRDHUP_ | EPOLLIN_ | EPOLLRDNORM_;
    if (!m_queue.empty() || !m_pending.empty())
        st.mask |= EPOLLIN_ | EPOLLRDNORM_;
    if (connection_based() && m_state == State::Unconnected)
        st.mask |= EPOLLHUP_; // TCP_CLOSE: never connected
    if (writable())
        st.mask |= EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_;
    return st;
}

std::shared_ptr<UnixSocket> UnixNames::find_abstract(const UnixSocket::Address& name)
{
    auto it = m_abstract.find(name);
    if (it == m_abstract.end())
        return nullptr;
    auto s = it->second.lock();
    if (!s)
        m_abstract.erase(it);
    return s;
}

std::shared_ptr<UnixSocket> UnixNames::find_inode(Key key)
{
    auto it = m_inodes.find(key);
    if (it == m_inodes.end())
        return nullptr;
    auto s = it->second.lock();
    if (!s)
        m_inodes.erase(it);
    return s;
}

Result<void> UnixNames::bind_abstract(const UnixSocket::Address& name, const std::shared_ptr<UnixSocket>& s)
{
    if (find_abstract(name))
        return Error::from_errno(EADDRINUSE, "the abstract name is in use");
    m_abstract[name] = s;
    s->set_name(name);
    return {};
}

void UnixNames::bind_inode(Key key, const std::shared_ptr<UnixSocket>& s)
{
    m_inodes[key] = s;
}

Result<UnixSocket::Address> UnixNames::autobind_name()
{
    for (u32 tries = 0; tries <= 0xfffff; ++tries) {
        char digits[8];
        std::snprintf(digits, sizeof digits, "%05x", m_next_auto);
        m_next_auto = (m_next_auto + 1) & 0xfffff;
        UnixSocket::Address name = std::string(1, '\0') + digits;
        if (!find_abstract(name))
            return name;
    }
    return Error::from_errno(ENOSPC, "every automatic name is in use");
}

} // namespace kioku
